-- Notifications: what the relay delivered (once per event id), the participants it told us
-- about, the messages and every attempt to send them.
CREATE TABLE inbox (
  event_id uuid PRIMARY KEY,
  kind text NOT NULL,
  registration_id uuid NOT NULL,
  received_time timestamptz NOT NULL DEFAULT now()
);

-- The registration service's participants, as far as messages need them.
CREATE TABLE participants (
  registration_id uuid PRIMARY KEY,
  event_id uuid NOT NULL,
  status smallint NOT NULL,
  email text NOT NULL,
  given_name text NOT NULL,
  family_name text NOT NULL,
  language text NOT NULL,
  time_zone text NOT NULL,
  erased boolean NOT NULL DEFAULT false,
  update_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX participants_by_event ON participants (event_id, status);

CREATE TABLE messages (
  id uuid PRIMARY KEY,
  -- What makes the message unique (the outbox event id and kind, the announcement key, ...):
  -- a second delivery of the same cause finds it here.
  dedupe_key text NOT NULL UNIQUE,
  registration_id uuid,
  event_id uuid NOT NULL,
  kind text NOT NULL,
  language text NOT NULL,
  recipient text NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  icalendar text NOT NULL DEFAULT '',
  -- 1 pending, 2 sent, 3 dead, 4 cancelled.
  state smallint NOT NULL DEFAULT 1 CHECK (state BETWEEN 1 AND 4),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_time timestamptz NOT NULL DEFAULT now(),
  -- A sender holds a message until then; after a crash another takes it.
  claimed_until timestamptz,
  last_error text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now(),
  sent_time timestamptz
);
CREATE INDEX messages_due ON messages (next_attempt_time) WHERE state = 1;
CREATE INDEX messages_by_registration ON messages (registration_id, create_time);
CREATE INDEX messages_by_event ON messages (event_id, create_time);
CREATE INDEX messages_by_time ON messages (create_time, id);

CREATE TABLE attempts (
  message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  attempt_time timestamptz NOT NULL DEFAULT now(),
  ok boolean NOT NULL,
  error text NOT NULL DEFAULT '',
  PRIMARY KEY (message_id, attempt)
);
