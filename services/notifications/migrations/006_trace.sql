-- The W3C trace of what caused a message (the registration call, through the outbox): the
-- sender's log lines about it carry the same trace id.
ALTER TABLE messages ADD COLUMN traceparent text NOT NULL DEFAULT ''
  CHECK (length(traceparent) <= 64);
