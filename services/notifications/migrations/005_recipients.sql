-- The recipient's name for the To header (RFC 2047 when it is not ASCII); blanked with the rest
-- of the message when the person's data are erased.
ALTER TABLE messages ADD COLUMN recipient_name text NOT NULL DEFAULT '';

-- ListMessages tells a registration this service never heard of (NOT_FOUND) from one without
-- messages.
CREATE INDEX inbox_by_registration ON inbox (registration_id);

-- An erasure also finds the messages sent to the person's address under other registrations.
CREATE INDEX messages_by_recipient ON messages (lower(recipient));
