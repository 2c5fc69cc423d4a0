-- Registrations with per-(event, country) quotas. PostgreSQL is the truth: every change of a
-- seat locks the quota row, and two rules make over-booking impossible whatever Redis says:
-- the CHECK on quotas.taken and the trigger that recounts the seat holders.
CREATE TABLE quotas (
  event_id uuid NOT NULL,
  country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  seat_limit integer NOT NULL CHECK (seat_limit >= 1),
  taken integer NOT NULL DEFAULT 0,
  waitlisted integer NOT NULL DEFAULT 0 CHECK (waitlisted >= 0),
  next_waitlist_seq bigint NOT NULL DEFAULT 1,
  -- The event's approval mode as last read from the catalogue: promotions from the waiting list
  -- become pending approval when it is manual.
  manual_approval boolean NOT NULL DEFAULT false,
  -- Grows at every change; Redis keeps a copy only if it is newer than the one it has.
  version bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, country),
  CONSTRAINT quota_never_overbooked CHECK (taken >= 0 AND taken <= seat_limit)
);

CREATE TABLE registrations (
  id uuid PRIMARY KEY,
  event_id uuid NOT NULL,
  country text NOT NULL,
  email text NOT NULL,
  email_norm text NOT NULL,
  given_name text NOT NULL,
  family_name text NOT NULL,
  organisation text NOT NULL DEFAULT '',
  affiliation smallint NOT NULL,
  job_title text NOT NULL DEFAULT '',
  preferred_language text NOT NULL,
  time_zone text NOT NULL,
  privacy_consent boolean NOT NULL CHECK (privacy_consent OR erased),
  recording_consent boolean NOT NULL DEFAULT false,
  -- 1 confirmed, 2 pending approval, 3 waitlisted, 4 cancelled, 5 rejected.
  status smallint NOT NULL CHECK (status BETWEEN 1 AND 5),
  waitlist_seq bigint,
  attended_minutes integer NOT NULL DEFAULT 0 CHECK (attended_minutes >= 0),
  erased boolean NOT NULL DEFAULT false,
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (event_id, country) REFERENCES quotas (event_id, country),
  CHECK ((status = 3) = (waitlist_seq IS NOT NULL))
);
-- One active registration per email per event (a cancelled or rejected one may register again).
CREATE UNIQUE INDEX registrations_one_per_email ON registrations (event_id, email_norm)
  WHERE status IN (1, 2, 3);
CREATE INDEX registrations_seats ON registrations (event_id, country) WHERE status IN (1, 2);
CREATE INDEX registrations_waitlist ON registrations (event_id, country, waitlist_seq)
  WHERE status = 3;
CREATE INDEX registrations_by_email ON registrations (email_norm);
CREATE INDEX registrations_by_event ON registrations (event_id, create_time, id);
CREATE INDEX registrations_by_time ON registrations (create_time, id);

-- The recount: seat holders of a country never exceed its limit, even if a writer forgot the
-- counter. Writers hold the quota row lock, so the count is stable here.
CREATE FUNCTION check_seats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  holders integer;
  lim integer;
BEGIN
  IF NEW.status IN (1, 2) THEN
    SELECT seat_limit INTO lim FROM registration.quotas WHERE event_id = NEW.event_id AND country = NEW.country;
    SELECT count(*) INTO holders FROM registration.registrations
      WHERE event_id = NEW.event_id AND country = NEW.country AND status IN (1, 2);
    IF holders > lim THEN
      RAISE EXCEPTION 'over-booking % of % seats for %/%', holders, lim, NEW.event_id, NEW.country
        USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER registrations_check_seats AFTER INSERT OR UPDATE OF status ON registrations
  FOR EACH ROW EXECUTE FUNCTION check_seats();

CREATE TABLE idempotency_keys (
  request_id text PRIMARY KEY,
  request_hash text NOT NULL,
  response bytea,
  create_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (create_time);

-- Every state change, written in the change's transaction, for the notifications relay.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  registration_id uuid NOT NULL,
  kind text NOT NULL,
  payload bytea NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  delivered_time timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_time IS NULL;
CREATE INDEX outbox_by_registration ON outbox (registration_id);
