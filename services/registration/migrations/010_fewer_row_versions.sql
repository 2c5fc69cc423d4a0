-- Less work per registration for PostgreSQL (issue 12). Measured with pg_stat_user_tables and a
-- profile of the database under the Register load: each registration wrote two versions of its
-- quota row, neither of them on its page (update_time is indexed and changed every time), and a
-- second version of its idempotency key whose indexes all took a new entry; the seat recount ran
-- once per registration even when one statement inserted a whole group.
--
-- The kept answer's key row: claimed with the registration's id already, so that writing the
-- answer later in the transaction changes no indexed column, and with room left on its page
-- (fillfactor), so that the new version can stay on the page (a HOT update: no index entries).
ALTER TABLE idempotency_keys SET (fillfactor = 30);

-- A quota row's update_time tells which events were active in the last 30 days (metrics): an hour
-- is precise enough, so the indexed column now changes at most once an hour and the other updates
-- can stay on the row's page (with room left there for them).
CREATE OR REPLACE FUNCTION quotas_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.update_time < now() - interval '1 hour' THEN
    NEW.update_time := now();
  END IF;
  RETURN NEW;
END $$;
ALTER TABLE quotas SET (fillfactor = 50);

-- The seat recount (migration 001's check_seats) once per inserting statement and quota row,
-- from the statement's new rows, instead of once per row. A change of status is still counted
-- row by row (PostgreSQL gives no transition table to a trigger on a column list).
CREATE FUNCTION check_seats_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT g.event_id, g.country, q.seat_limit, h.holders INTO bad
    FROM (SELECT DISTINCT n.event_id, n.country FROM new_rows n WHERE n.status IN (1, 2)) g
    JOIN registration.quotas q ON q.event_id = g.event_id AND q.country = g.country
    CROSS JOIN LATERAL (SELECT count(*) AS holders FROM registration.registrations r
                          WHERE r.event_id = g.event_id AND r.country = g.country
                            AND r.status IN (1, 2)) h
    WHERE h.holders > q.seat_limit
    LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'over-booking % of % seats for %/%', bad.holders, bad.seat_limit,
      bad.event_id, bad.country USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER registrations_check_seats ON registrations;
CREATE TRIGGER registrations_check_seats_inserted AFTER INSERT ON registrations
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_seats_inserted();
CREATE TRIGGER registrations_check_seats AFTER UPDATE OF status ON registrations
  FOR EACH ROW EXECUTE FUNCTION check_seats();

-- Creates the quota rows a set of registrations needs, locks them all in (event, country) order,
-- and makes each follow the catalogue's limit and approval mode (a limit never goes below the
-- seats already taken, and an administrator's override wins). A row whose limit and mode are the
-- ones it has already is locked, not rewritten (migration 009's upsert_quota wrote a new version
-- every time). One definition for Register's groups and, through upsert_quota, for SetSeats.
CREATE FUNCTION lock_quotas(event_ids uuid[], countries text[], seat_limits integer[],
                            manuals boolean[])
RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off
AS $$
BEGIN
  INSERT INTO registration.quotas AS q (event_id, country, seat_limit, manual_approval)
    SELECT DISTINCT ON (u.e, u.c) u.e, u.c, u.l, u.m
      FROM unnest(event_ids, countries, seat_limits, manuals) WITH ORDINALITY AS u(e, c, l, m, n)
      ORDER BY u.e, u.c, u.n
    ON CONFLICT (event_id, country) DO NOTHING;
  PERFORM 1 FROM registration.quotas q
    WHERE (q.event_id, q.country) IN (SELECT * FROM unnest(event_ids, countries))
    ORDER BY q.event_id, q.country FOR UPDATE;
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
END $$;

-- Migration 009's upsert_quota (same answers): one row through lock_quotas.
CREATE OR REPLACE FUNCTION upsert_quota(p_event uuid, p_country text, p_limit integer,
                                        p_manual boolean)
RETURNS TABLE (o_limit integer, o_taken integer, o_waitlisted integer, o_manual boolean)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM registration.lock_quotas(ARRAY[p_event], ARRAY[p_country], ARRAY[p_limit],
                                   ARRAY[p_manual]);
  RETURN QUERY SELECT q.seat_limit, q.taken, q.waitlisted, q.manual_approval
    FROM registration.quotas q WHERE q.event_id = p_event AND q.country = p_country;
END $$;

-- Migration 009's register_group: the group's quota rows locked by one lock_quotas call, and its
-- keys claimed with their registration's id. Its joins with the quota rows
-- go through their index whatever the table's size when the plan was made (a plan is kept for
-- the session: made while the table was small, it scanned the whole table at every call).
CREATE OR REPLACE FUNCTION register_group(
    request_ids text[], request_hashes text[], ids uuid[], event_ids uuid[], countries text[],
    seat_limits integer[], manuals boolean[], verifies boolean[], hold_micros bigint[],
    emails text[], given_names text[], family_names text[], organisations text[],
    affiliations integer[], job_titles text[], languages text[], time_zones text[],
    privacy boolean[], recording boolean[], certificate_names text[], code_hashes text[])
RETURNS TABLE (o_outcome text, o_status integer, o_position integer, o_create bigint,
               o_update bigint, o_hold_expire bigint, o_event text, o_country text,
               o_limit integer, o_taken integer, o_waitlisted integer, o_version bigint,
               o_response bytea, o_existing text, o_sqlstate text, o_message text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  kept record;
  st integer;
  seq bigint;
  n integer := coalesce(array_length(ids, 1), 0);
  claimed bigint;
  f_status integer[];
  f_seq bigint[];
  f_position integer[];
BEGIN
  -- The group's quota rows, locked (one call for them all: a call per row was a fifth of the
  -- database's time in this function).
  PERFORM registration.lock_quotas(event_ids, countries, seat_limits, manuals);

  -- The common case of a larger group, all at once (a handful of statements instead of several
  -- per registration; below 4 registrations their fixed cost is more than the loop's): no e-mail
  -- verification, no address twice, every key new. Anything else, or any error (an address
  -- registered already), rolls this block back and the careful path below decides each
  -- registration alone. Both decide the same: seats in arrival order while the country has free
  -- ones, then the waiting list in arrival order.
  IF n >= 4 AND NOT (true = ANY (verifies))
     AND (SELECT count(DISTINCT (u.e, u.m)) FROM unnest(event_ids, emails) AS u(e, m)) = n THEN
    BEGIN
      INSERT INTO registration.idempotency_keys (request_id, request_hash, registration_id)
        SELECT * FROM unnest(request_ids, request_hashes, ids) ON CONFLICT (request_id) DO NOTHING;
      GET DIAGNOSTICS claimed = ROW_COUNT;
      IF claimed <> n THEN
        RAISE EXCEPTION 'a key of the group is not new';
      END IF;
      -- Each registration's place, from the quota rows as this transaction locked them.
      SELECT array_agg(x.st ORDER BY x.n), array_agg(x.seq ORDER BY x.n),
             array_agg(x.pos ORDER BY x.n)
        INTO f_status, f_seq, f_position
        FROM (SELECT u.n,
                     CASE WHEN u.k <= u.free THEN CASE WHEN u.m THEN 2 ELSE 1 END ELSE 3 END AS st,
                     CASE WHEN u.k <= u.free THEN 0 ELSE u.next_seq + (u.k - u.free) - 1 END AS seq,
                     CASE WHEN u.k <= u.free THEN 0 ELSE u.waiting + (u.k - u.free) END AS pos
                FROM (SELECT i.n, i.m,
                             row_number() OVER (PARTITION BY i.e, i.c ORDER BY i.n) AS k,
                             GREATEST(q.seat_limit - q.taken, 0) AS free,
                             q.next_waitlist_seq AS next_seq, q.waitlisted AS waiting
                        FROM unnest(event_ids, countries, manuals) WITH ORDINALITY AS i(e, c, m, n)
                        JOIN registration.quotas q ON q.event_id = i.e AND q.country = i.c) u) x;
      UPDATE registration.quotas q SET taken = q.taken + g.seats,
          waitlisted = q.waitlisted + g.cnt - g.seats,
          next_waitlist_seq = q.next_waitlist_seq + g.cnt - g.seats, version = q.version + g.cnt
        FROM (SELECT i.e, i.c, count(*) AS cnt, count(*) FILTER (WHERE i.st <> 3) AS seats
                FROM unnest(event_ids, countries, f_status) AS i(e, c, st) GROUP BY i.e, i.c) g
        WHERE q.event_id = g.e AND q.country = g.c;
      INSERT INTO registration.registrations (id, event_id, country, email, email_norm,
          given_name, family_name, organisation, affiliation, job_title, preferred_language,
          time_zone, privacy_consent, recording_consent, status, waitlist_seq, certificate_name,
          verified, hold_expire_time, verification_hash, decoy)
        SELECT u.id, u.e, u.c, u.m, u.m, u.gn, u.fn, u.org, u.aff, u.job, u.lang, u.tz, u.pc,
               u.rc, u.st, NULLIF(u.seq, 0), u.cert, true, NULL, '', false
          FROM unnest(ids, event_ids, countries, emails, given_names, family_names,
                      organisations, affiliations, job_titles, languages, time_zones, privacy,
                      recording, f_status, f_seq, certificate_names)
            WITH ORDINALITY AS u(id, e, c, m, gn, fn, org, aff, job, lang, tz, pc, rc, st, seq,
                                 cert, n)
          ORDER BY u.n;
    EXCEPTION WHEN OTHERS THEN
      f_status := NULL;
    END;
    IF f_status IS NOT NULL THEN
      RETURN QUERY
        SELECT 'ok'::text, u.st, u.pos,
               (extract(epoch from now()) * 1000000)::bigint,
               (extract(epoch from now()) * 1000000)::bigint, 0::bigint, q.event_id::text,
               q.country, q.seat_limit, q.taken, q.waitlisted, q.version, NULL::bytea, NULL::text,
               NULL::text, NULL::text
          FROM unnest(event_ids, countries, f_status, f_position) WITH ORDINALITY
               AS u(e, c, st, pos, n)
          JOIN registration.quotas q ON q.event_id = u.e AND q.country = u.c
          ORDER BY u.n;
      RETURN;
    END IF;
  END IF;

  -- The careful path: each registration in a subtransaction of its own.
  FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
    o_outcome := 'ok'; o_status := 0; o_position := 0; o_create := 0; o_update := 0;
    o_hold_expire := 0; o_event := NULL; o_country := NULL; o_limit := 0; o_taken := 0;
    o_waitlisted := 0; o_version := 0; o_response := NULL; o_existing := NULL;
    o_sqlstate := NULL; o_message := NULL;
    BEGIN
      -- The key: a concurrent retry waits here for the first call's transaction.
      INSERT INTO registration.idempotency_keys (request_id, request_hash, registration_id)
        VALUES (request_ids[i], request_hashes[i], ids[i]) ON CONFLICT (request_id) DO NOTHING;
      IF NOT FOUND THEN
        SELECT k.request_hash, k.response INTO kept FROM registration.idempotency_keys k
          WHERE k.request_id = request_ids[i];
        IF NOT FOUND OR kept.response IS NULL THEN
          o_outcome := 'in_progress';
        ELSIF kept.request_hash <> request_hashes[i] THEN
          o_outcome := 'reused';
        ELSE
          o_outcome := 'replayed';
          o_response := kept.response;
        END IF;
      ELSE
        -- A second registration of a verified-by-mail event's address becomes a decoy.
        IF verifies[i] THEN
          SELECT r.id::text INTO o_existing FROM registration.registrations r
            WHERE r.event_id = event_ids[i] AND r.email_norm = emails[i]
              AND r.status IN (1, 2, 3) AND NOT r.decoy LIMIT 1;
        END IF;
        st := CASE WHEN manuals[i] THEN 2 ELSE 1 END;
        seq := 0;
        -- The decision: a seat only while taken < seat_limit, under the row lock.
        UPDATE registration.quotas q SET taken = q.taken + 1, version = q.version + 1
          WHERE q.event_id = event_ids[i] AND q.country = countries[i] AND q.taken < q.seat_limit
          RETURNING q.event_id::text, q.country, q.seat_limit, q.taken, q.waitlisted, q.version
          INTO o_event, o_country, o_limit, o_taken, o_waitlisted, o_version;
        IF NOT FOUND THEN
          st := 3;
          UPDATE registration.quotas q SET waitlisted = q.waitlisted + 1,
              next_waitlist_seq = q.next_waitlist_seq + 1, version = q.version + 1
            WHERE q.event_id = event_ids[i] AND q.country = countries[i]
            RETURNING q.next_waitlist_seq - 1, q.event_id::text, q.country, q.seat_limit,
              q.taken, q.waitlisted, q.version
            INTO seq, o_event, o_country, o_limit, o_taken, o_waitlisted, o_version;
          -- Everyone still waiting joined before: the newcomer is last in line.
          o_position := o_waitlisted;
        END IF;
        o_status := st;
        -- A second active registration of the address fails here, on the unique index.
        INSERT INTO registration.registrations AS r (id, event_id, country, email, email_norm,
            given_name, family_name, organisation, affiliation, job_title, preferred_language,
            time_zone, privacy_consent, recording_consent, status, waitlist_seq,
            certificate_name, verified, hold_expire_time, verification_hash, decoy)
          VALUES (ids[i], event_ids[i], countries[i], emails[i],
            CASE WHEN o_existing IS NULL THEN emails[i] ELSE 'decoy:' || ids[i]::text END,
            given_names[i], family_names[i], organisations[i], affiliations[i], job_titles[i],
            languages[i], time_zones[i], privacy[i], recording[i], st, NULLIF(seq, 0),
            certificate_names[i], NOT verifies[i],
            CASE WHEN verifies[i] THEN now() + hold_micros[i] * interval '1 microsecond' END,
            CASE WHEN o_existing IS NULL THEN code_hashes[i] ELSE '' END, o_existing IS NOT NULL)
          RETURNING (extract(epoch from r.create_time) * 1000000)::bigint,
            (extract(epoch from r.update_time) * 1000000)::bigint,
            coalesce((extract(epoch from r.hold_expire_time) * 1000000)::bigint, 0)
          INTO o_create, o_update, o_hold_expire;
      END IF;
    EXCEPTION WHEN OTHERS THEN
      o_outcome := 'error';
      o_sqlstate := SQLSTATE;
      o_message := SQLERRM;
    END;
    RETURN NEXT;
  END LOOP;
END $$;
