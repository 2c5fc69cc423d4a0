-- Every change to the catalogue, whoever makes it (the service, a seed, an administrator at a psql
-- prompt), is announced on channel ecd_catalogue when its transaction commits, so that every
-- replica's in-memory copy reloads what changed. Payloads: 'series:<id>', 'event:<id>' (the event
-- or its agenda), 'materials:<event id>'. PostgreSQL folds identical notifications of one
-- transaction into one.
CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row_data record;
BEGIN
  IF TG_OP = 'DELETE' THEN
    row_data := OLD;
  ELSE
    row_data := NEW;
  END IF;
  IF TG_TABLE_NAME = 'series' THEN
    PERFORM pg_notify('ecd_catalogue', 'series:' || row_data.id::text);
  ELSIF TG_TABLE_NAME = 'events' THEN
    PERFORM pg_notify('ecd_catalogue', 'event:' || row_data.id::text);
  ELSIF TG_TABLE_NAME = 'agenda_segments' THEN
    PERFORM pg_notify('ecd_catalogue', 'event:' || row_data.event_id::text);
  ELSE
    PERFORM pg_notify('ecd_catalogue', 'materials:' || row_data.event_id::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER series_changed AFTER INSERT OR UPDATE OR DELETE ON series
  FOR EACH ROW EXECUTE FUNCTION notify_change();
CREATE TRIGGER events_changed AFTER INSERT OR UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION notify_change();
CREATE TRIGGER agenda_changed AFTER INSERT OR UPDATE OR DELETE ON agenda_segments
  FOR EACH ROW EXECUTE FUNCTION notify_change();
CREATE TRIGGER materials_changed AFTER INSERT OR UPDATE OR DELETE ON materials
  FOR EACH ROW EXECUTE FUNCTION notify_change();
