-- Register's seat decision for a group of registrations in one round trip (issue 12: grouped
-- commits). The group's quota rows are created or updated and locked first, in one order for
-- every group (event, then country), so that two groups never wait for each other's quota rows.
-- Then each registration, in the order the calls arrived, runs in a subtransaction of its own (the
-- EXCEPTION block): the failure of one (an address registered already, an idempotency key used
-- for another request) rolls back that one alone and is answered to its call alone; the others
-- commit with the group. Lock order as everywhere: the quota row, then the registration.
--
-- For each registration, in order, one row:
--   o_outcome 'ok' (a place or a waiting-list entry was written; o_existing names the active
--             registration of the address when this one is a decoy), 'replayed' (o_response is
--             the answer kept for the key), 'reused' (the key belongs to another request),
--             'in_progress' (the key's first call has not finished), 'error' (o_sqlstate,
--             o_message: the subtransaction was rolled back).
-- The caller then writes the outbox rows and the kept answers (it builds the payloads) in the
-- same transaction. The functions' statements keep one plan each (force_generic_plan): with
-- arrays as parameters, PostgreSQL would otherwise plan them again at every call.

-- Creates a quota row on first use, follows the catalogue's limit and approval mode (a limit
-- never goes below the seats already taken, and an administrator's override wins), and locks the
-- row. Register and SetSeats both call it.
CREATE FUNCTION upsert_quota(p_event uuid, p_country text, p_limit integer, p_manual boolean)
RETURNS TABLE (o_limit integer, o_taken integer, o_waitlisted integer, o_manual boolean)
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO registration.quotas AS q (event_id, country, seat_limit, manual_approval)
    VALUES (p_event, p_country, p_limit, p_manual)
    ON CONFLICT (event_id, country) DO UPDATE SET
      seat_limit = GREATEST(coalesce(q.seat_override, EXCLUDED.seat_limit), q.taken),
      manual_approval = EXCLUDED.manual_approval,
      version = q.version + CASE WHEN q.seat_limit <> GREATEST(coalesce(q.seat_override,
        EXCLUDED.seat_limit), q.taken) OR q.manual_approval <> EXCLUDED.manual_approval
        THEN 1 ELSE 0 END
    RETURNING q.seat_limit, q.taken, q.waitlisted, q.manual_approval
    INTO o_limit, o_taken, o_waitlisted, o_manual;
  RETURN NEXT;
END $$;

CREATE FUNCTION register_group(
    request_ids text[], request_hashes text[], ids uuid[], event_ids uuid[], countries text[],
    seat_limits integer[], manuals boolean[], verifies boolean[], hold_micros bigint[],
    emails text[], given_names text[], family_names text[], organisations text[],
    affiliations integer[], job_titles text[], languages text[], time_zones text[],
    privacy boolean[], recording boolean[], certificate_names text[], code_hashes text[])
RETURNS TABLE (o_outcome text, o_status integer, o_position integer, o_create bigint,
               o_update bigint, o_hold_expire bigint, o_event text, o_country text,
               o_limit integer, o_taken integer, o_waitlisted integer, o_version bigint,
               o_response bytea, o_existing text, o_sqlstate text, o_message text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  kept record;
  quota record;
  st integer;
  seq bigint;
  n integer := coalesce(array_length(ids, 1), 0);
  claimed bigint;
  f_status integer[];
  f_seq bigint[];
  f_position integer[];
BEGIN
  FOR quota IN SELECT DISTINCT ON (u.e, u.c) u.e, u.c, u.l, u.m
      FROM unnest(event_ids, countries, seat_limits, manuals) WITH ORDINALITY AS u(e, c, l, m, n)
      ORDER BY u.e, u.c, u.n LOOP
    PERFORM registration.upsert_quota(quota.e, quota.c, quota.l, quota.m);
  END LOOP;

  -- The common case of a larger group, all at once (a handful of statements instead of several
  -- per registration; below 4 registrations their fixed cost is more than the loop's): no e-mail
  -- verification, no address twice, every key new. Anything else, or any error (an address
  -- registered already), rolls this block back and the careful path below decides each
  -- registration alone. Both decide the same: seats in arrival order while the country has free
  -- ones, then the waiting list in arrival order.
  IF n >= 4 AND NOT (true = ANY (verifies))
     AND (SELECT count(DISTINCT (u.e, u.m)) FROM unnest(event_ids, emails) AS u(e, m)) = n THEN
    BEGIN
      INSERT INTO registration.idempotency_keys (request_id, request_hash)
        SELECT * FROM unnest(request_ids, request_hashes) ON CONFLICT (request_id) DO NOTHING;
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
      INSERT INTO registration.idempotency_keys (request_id, request_hash)
        VALUES (request_ids[i], request_hashes[i]) ON CONFLICT (request_id) DO NOTHING;
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

-- What a group's registrations write besides their rows, once the caller has built the payloads:
-- the outbox rows in order, the answers kept for retries, one availability notification per
-- event. The kept answers are set one key at a time, each through the key's index (a join with
-- the array could be planned as a scan of the whole table while it was still small).
CREATE FUNCTION finish_register_group(
    outbox_ids uuid[], outbox_registrations uuid[], kinds text[], payloads bytea[],
    secrets text[], traceparents text[], request_ids text[], answers bytea[],
    registration_ids uuid[], events text[])
RETURNS void LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  INSERT INTO registration.outbox (event_id, registration_id, kind, payload, secret, traceparent)
    SELECT u.e, u.r, u.k, u.p, u.s, NULLIF(u.t, '')
    FROM unnest(outbox_ids, outbox_registrations, kinds, payloads, secrets, traceparents)
      WITH ORDINALITY AS u(e, r, k, p, s, t, n)
    ORDER BY u.n;
  FOR i IN 1 .. coalesce(array_length(request_ids, 1), 0) LOOP
    UPDATE registration.idempotency_keys SET response = answers[i],
        registration_id = registration_ids[i]
      WHERE request_id = request_ids[i];
  END LOOP;
  PERFORM pg_notify('ecd_availability', e) FROM unnest(events) AS e;
END $$;
