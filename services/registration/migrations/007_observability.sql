-- When a quota last changed: the metrics show the counters of events active in the last 30 days,
-- not of every event ever held.
ALTER TABLE quotas ADD COLUMN update_time timestamptz NOT NULL DEFAULT now();
CREATE FUNCTION quotas_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.update_time := now();
  RETURN NEW;
END $$;
CREATE TRIGGER quotas_touch BEFORE UPDATE ON quotas FOR EACH ROW EXECUTE FUNCTION quotas_touch();
CREATE INDEX quotas_recent ON quotas (update_time);

-- The W3C trace context of the call that wrote the event, so that the mail it causes is logged
-- under the same trace.
ALTER TABLE outbox ADD COLUMN traceparent text CHECK (length(traceparent) <= 64);
