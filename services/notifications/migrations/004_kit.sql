-- Any number of files per message: each file's bytes are kept once (a kit sent to a hundred
-- participants stores its documents once), and a message lists the files it carries.
CREATE TABLE blobs (
  sha256 text PRIMARY KEY,  -- lowercase hex of the bytes
  content bytea NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE message_attachments (
  message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  position integer NOT NULL,
  filename text NOT NULL,
  content_type text NOT NULL,
  size_bytes bigint NOT NULL,
  sha256 text NOT NULL REFERENCES blobs (sha256),
  PRIMARY KEY (message_id, position)
);
CREATE INDEX message_attachments_by_blob ON message_attachments (sha256);

-- The single attachment of earlier messages (certificates) moves over.
INSERT INTO blobs (sha256, content)
SELECT DISTINCT ON (encode(sha256(attachment), 'hex')) encode(sha256(attachment), 'hex'), attachment
  FROM messages WHERE attachment IS NOT NULL AND attachment_name <> ''
ON CONFLICT DO NOTHING;
INSERT INTO message_attachments (message_id, position, filename, content_type, size_bytes, sha256)
SELECT id, 0, attachment_name,
       CASE WHEN attachment_type = '' THEN 'application/octet-stream' ELSE attachment_type END,
       length(attachment), encode(sha256(attachment), 'hex')
  FROM messages WHERE attachment IS NOT NULL AND attachment_name <> '';
ALTER TABLE messages DROP COLUMN attachment;
ALTER TABLE messages DROP COLUMN attachment_name;
ALTER TABLE messages DROP COLUMN attachment_type;

-- Which sender holds a claim (claimed_until): it extends its own claims while it works, and
-- checks that a message is still its own before sending it.
ALTER TABLE messages ADD COLUMN claimed_by text NOT NULL DEFAULT '';

-- Schedules are claimed for a lease and worked on outside any transaction.
ALTER TABLE schedules ADD COLUMN claimed_until timestamptz;

-- Each material (in the version it had) that a participant was given by a kit or a kit update,
-- attached or linked: what is in the catalogue and not here is new to them.
CREATE TABLE kit_items (
  registration_id uuid NOT NULL,
  event_id uuid NOT NULL,
  material text NOT NULL,  -- "events/{id}/materials/{id}"
  version text NOT NULL,   -- the SHA-256 of uploaded bytes, or the external URI
  message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  attached boolean NOT NULL,
  PRIMARY KEY (registration_id, material, version)
);
CREATE INDEX kit_items_by_event ON kit_items (event_id);
