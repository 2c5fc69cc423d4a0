-- Participants own their registration (issue 11).
-- Email verification holds: a registration from a frontend keeps its seat or waiting-list place
-- (status 1, 2 or 3, counted like any other) while `verified` is false, until hold_expire_time;
-- then it expires (status 7) and its seat goes to the waiting list. The code mailed to the
-- address is kept only as a SHA-256 of "id:code".
ALTER TABLE registrations DROP CONSTRAINT registrations_status_check;
ALTER TABLE registrations ADD CONSTRAINT registrations_status_check CHECK (status BETWEEN 1 AND 7);
ALTER TABLE registrations ADD COLUMN verified boolean NOT NULL DEFAULT true;
ALTER TABLE registrations ADD COLUMN hold_expire_time timestamptz;
ALTER TABLE registrations ADD COLUMN verification_hash text NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN verification_attempts integer NOT NULL DEFAULT 0;
-- The answer to a second registration of an address already registered: a hold like any other
-- (so that nothing tells a stranger the address is registered), never verifiable, expiring.
ALTER TABLE registrations ADD COLUMN decoy boolean NOT NULL DEFAULT false;
-- A hand-over waiting for the colleague's verification: their participant data (protobuf).
ALTER TABLE registrations ADD COLUMN pending_participant bytea;
-- Grows at each hand-over: the previous holder's participant key stops working.
ALTER TABLE registrations ADD COLUMN key_version integer NOT NULL DEFAULT 0;
CREATE INDEX registrations_holds ON registrations (hold_expire_time)
  WHERE hold_expire_time IS NOT NULL;

-- What a mail must carry that the registration does not (a verification code, a participant
-- key): blanked once delivered, and on erasure.
ALTER TABLE outbox ADD COLUMN secret text NOT NULL DEFAULT '';

-- The registration an idempotency record answered with, so that erasure can blank the answer.
ALTER TABLE idempotency_keys ADD COLUMN registration_id uuid;
CREATE INDEX idempotency_keys_by_registration ON idempotency_keys (registration_id);
