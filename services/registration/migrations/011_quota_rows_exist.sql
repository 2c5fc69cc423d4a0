-- Less work per group of registrations in lock_quotas (issue 12), measured with
-- pg_stat_statements (track = all) under the bench's Register load: lock_quotas took a quarter of
-- register_group's time, and half of that was its INSERT ... ON CONFLICT DO NOTHING, which checks
-- every (event, country) of the group against the unique index although a quota row is created
-- once per event and country and nearly always exists already; then a second pass over the same
-- rows looked for a limit or approval mode to change.
--
-- Now: one read (no lock) counts the rows missing, and the insertion runs only when one is;
-- the rows are then locked in (event, country) order, as before, and the same statement tells
-- whether any of them must follow a new limit or mode, so that the UPDATE runs only then. The
-- order in which rows are created and locked is migration 010's: every row a group needs exists
-- before it locks any of them, so groups still lock in one order and cannot deadlock.
CREATE OR REPLACE FUNCTION lock_quotas(event_ids uuid[], countries text[], seat_limits integer[],
                                       manuals boolean[])
RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off
AS $$
DECLARE
  stale boolean;
BEGIN
  IF EXISTS (SELECT 1 FROM unnest(event_ids, countries) AS u(e, c)
               WHERE NOT EXISTS (SELECT 1 FROM registration.quotas q
                                   WHERE q.event_id = u.e AND q.country = u.c)) THEN
    INSERT INTO registration.quotas AS q (event_id, country, seat_limit, manual_approval)
      SELECT DISTINCT ON (u.e, u.c) u.e, u.c, u.l, u.m
        FROM unnest(event_ids, countries, seat_limits, manuals) WITH ORDINALITY AS u(e, c, l, m, n)
        ORDER BY u.e, u.c, u.n
      ON CONFLICT (event_id, country) DO NOTHING;
  END IF;
  SELECT coalesce(bool_or(x.stale), false) INTO stale
    FROM (SELECT q.seat_limit <> GREATEST(coalesce(q.seat_override, g.l), q.taken)
                 OR q.manual_approval <> g.m AS stale
            FROM registration.quotas q
            JOIN (SELECT DISTINCT ON (u.e, u.c) u.e, u.c, u.l, u.m
                    FROM unnest(event_ids, countries, seat_limits, manuals) WITH ORDINALITY
                      AS u(e, c, l, m, n)
                    ORDER BY u.e, u.c, u.n) g ON q.event_id = g.e AND q.country = g.c
            ORDER BY q.event_id, q.country
            FOR UPDATE OF q) x;
  IF stale THEN
    UPDATE registration.quotas q SET
        seat_limit = GREATEST(coalesce(q.seat_override, g.l), q.taken), manual_approval = g.m,
        version = q.version + 1
      FROM (SELECT DISTINCT ON (u.e, u.c) u.e, u.c, u.l, u.m
              FROM unnest(event_ids, countries, seat_limits, manuals) WITH ORDINALITY
                AS u(e, c, l, m, n)
              ORDER BY u.e, u.c, u.n) g
      WHERE q.event_id = g.e AND q.country = g.c
        AND (q.seat_limit <> GREATEST(coalesce(q.seat_override, g.l), q.taken)
             OR q.manual_approval <> g.m);
  END IF;
END $$;
