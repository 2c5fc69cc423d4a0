-- What the planner last saw of each event with participants, and the scheduled sendings (the
-- information kit and the reminders), claimed with FOR UPDATE SKIP LOCKED by any replica.
CREATE TABLE watched_events (
  event_id uuid PRIMARY KEY,
  revision bigint NOT NULL,
  start_time timestamptz NOT NULL,
  end_time timestamptz NOT NULL,
  status smallint NOT NULL,
  recording_state smallint NOT NULL,
  checked_time timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE schedules (
  event_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('info_kit', 'reminder_24h', 'reminder_1h')),
  due_time timestamptz NOT NULL,
  done_time timestamptz,
  PRIMARY KEY (event_id, kind)
);
CREATE INDEX schedules_due ON schedules (due_time) WHERE done_time IS NULL;
