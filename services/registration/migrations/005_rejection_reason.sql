-- Why an administrator rejected a registration: kept for colleagues and told to the participant.
ALTER TABLE registrations ADD COLUMN rejection_reason text NOT NULL DEFAULT '';
