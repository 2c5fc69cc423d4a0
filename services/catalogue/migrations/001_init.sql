-- The catalogue's schema: series, events (with their agenda), materials. Rules that must hold
-- whatever the code does are CHECK constraints here too.
CREATE TABLE series (
  id uuid PRIMARY KEY,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  organisers text[] NOT NULL DEFAULT '{}',
  funding_notice text NOT NULL DEFAULT '',
  topics text[] NOT NULL DEFAULT '{}',
  request_id text UNIQUE,
  request_hash text,
  create_time timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
  id uuid PRIMARY KEY,
  series_id uuid REFERENCES series (id),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  region smallint NOT NULL CHECK (region BETWEEN 1 AND 6),
  language_code text NOT NULL CHECK (language_code ~ '^[a-z]{2}$'),
  start_time timestamptz NOT NULL,
  end_time timestamptz NOT NULL,
  duration_minutes integer NOT NULL,
  platform text NOT NULL DEFAULT '',
  join_url text NOT NULL DEFAULT '',
  topics text[] NOT NULL DEFAULT '{}',
  invited_countries text[] NOT NULL DEFAULT '{}',
  participants_per_country integer NOT NULL DEFAULT 4 CHECK (participants_per_country BETWEEN 1 AND 1000),
  registration_open_time timestamptz,
  registration_close_time timestamptz,
  approval_mode smallint NOT NULL DEFAULT 1 CHECK (approval_mode IN (1, 2)),
  certificate_threshold_percent integer NOT NULL DEFAULT 75
    CHECK (certificate_threshold_percent BETWEEN 1 AND 100),
  info_kit_lead_hours integer NOT NULL DEFAULT 72 CHECK (info_kit_lead_hours BETWEEN 1 AND 2160),
  recording_state smallint NOT NULL DEFAULT 1 CHECK (recording_state BETWEEN 1 AND 3),
  recording_url text NOT NULL DEFAULT '',
  status smallint NOT NULL DEFAULT 1 CHECK (status BETWEEN 1 AND 4),
  revision bigint NOT NULL DEFAULT 1,
  request_id text UNIQUE,
  request_hash text,
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now(),
  CHECK (end_time > start_time),
  CHECK (duration_minutes > 0 AND duration_minutes * interval '1 minute' <= end_time - start_time),
  CHECK (registration_open_time IS NULL OR registration_close_time IS NULL
         OR registration_open_time < registration_close_time),
  CHECK (recording_state <> 3 OR recording_url <> '')
);
CREATE INDEX events_start_idx ON events (start_time, id);
CREATE INDEX events_series_idx ON events (series_id, start_time);

CREATE TABLE agenda_segments (
  event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  position integer NOT NULL,
  title text NOT NULL,
  speaker text NOT NULL DEFAULT '',
  presentation_minutes integer NOT NULL CHECK (presentation_minutes BETWEEN 0 AND 10),
  discussion_minutes integer NOT NULL CHECK (discussion_minutes >= 0),
  PRIMARY KEY (event_id, position)
);

CREATE TABLE materials (
  id uuid PRIMARY KEY,
  event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  kind smallint NOT NULL CHECK (kind BETWEEN 1 AND 4),
  title text NOT NULL,
  filename text NOT NULL DEFAULT '',
  content_type text NOT NULL DEFAULT '',
  size_bytes bigint NOT NULL DEFAULT 0 CHECK (size_bytes BETWEEN 0 AND 20971520),
  sha256 text NOT NULL DEFAULT '',
  external_uri text NOT NULL DEFAULT '',
  content bytea,
  create_time timestamptz NOT NULL DEFAULT now(),
  CHECK ((content IS NULL) <> (external_uri = ''))
);
CREATE INDEX materials_event_idx ON materials (event_id, create_time);
