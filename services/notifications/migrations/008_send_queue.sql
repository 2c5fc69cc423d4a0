-- The messages waiting to be sent, apart from the messages themselves (issue 12). A message is
-- about 2 kB and has six indexes; every change of its state, which the due index's predicate
-- read, wrote a new 2 kB version of it and an entry in every index, and so did half of the
-- senders' claims. Now a small row per waiting message carries what changes while it waits (when
-- it is due, who holds it and until when): a claim rewrites that row alone, in place (no index
-- reads the claim), and sending a message deletes its row and changes the message where it lies
-- (no index reads its state any more: the version goes on the same page, no index entry).
--
-- A message is waiting (state 1, pending) exactly while it has a row here: two triggers keep it
-- so whoever writes the messages (a replica of the version before during a rolling update too):
-- a message queued gets its row, a message that leaves the pending state loses it, and one that
-- becomes pending again gets it back. The senders of the version before claim through
-- messages.claimed_until, which those of this one do not see: while both run, a message may be
-- sent twice (with the same Message-ID), as after a crash; nothing is lost.
-- messages.next_attempt_time stays (the API shows it); its claimed_until and claimed_by are no
-- longer written.

-- No replica writes messages while the queue is filled and the triggers are made (those of the
-- version before wait), so that no message written meanwhile is missed.
LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE queue (
  message_id uuid PRIMARY KEY,
  next_attempt_time timestamptz NOT NULL DEFAULT now(),
  -- A sender holds the message until then; after a crash another takes it.
  claimed_until timestamptz,
  claimed_by text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 50);
-- Half of each page is left free so that a claim (no index reads claimed_until or claimed_by)
-- writes its new version on the same page: a HOT update, without index entries. The table holds
-- the waiting messages only, so it stays small.
CREATE INDEX queue_due ON queue (next_attempt_time);

INSERT INTO queue (message_id, next_attempt_time, claimed_until, claimed_by, create_time)
  SELECT id, next_attempt_time, claimed_until, claimed_by, create_time
    FROM messages WHERE state = 1;
DROP INDEX messages_due;

CREATE FUNCTION queue_new_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO notifications.queue (message_id, next_attempt_time, create_time)
    SELECT id, next_attempt_time, create_time FROM new_messages WHERE state = 1
    ON CONFLICT (message_id) DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER messages_queued AFTER INSERT ON messages REFERENCING NEW TABLE AS new_messages
  FOR EACH STATEMENT EXECUTE FUNCTION queue_new_messages();

-- A message that leaves the pending state leaves the queue; one that is (again) pending is in
-- it, due when the message says (a failure recorded by a replica of the version before sets the
-- message's next_attempt_time only; this version's statements keep both, and the insertion
-- changes nothing for them).
CREATE FUNCTION requeue_changed_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM notifications.queue q USING changed_messages c
    WHERE q.message_id = c.id AND c.state <> 1;
  INSERT INTO notifications.queue AS q (message_id, next_attempt_time, create_time)
    SELECT id, next_attempt_time, create_time FROM changed_messages WHERE state = 1
    ON CONFLICT (message_id) DO UPDATE SET next_attempt_time = EXCLUDED.next_attempt_time
      WHERE q.next_attempt_time IS DISTINCT FROM EXCLUDED.next_attempt_time;
  RETURN NULL;
END $$;
CREATE TRIGGER messages_changed AFTER UPDATE ON messages REFERENCING NEW TABLE AS changed_messages
  FOR EACH STATEMENT EXECUTE FUNCTION requeue_changed_messages();
