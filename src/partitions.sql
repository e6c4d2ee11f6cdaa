-- dozor install script, partitions of dozor.event_batches and
-- dozor.markers (making them ahead, on demand, dropping expired days) and
-- the storage report. Appended after src/dashboard.sql by the Makefile.
/*
 * Layout. A session id is day * 2^37 + n (src/dozor.sql,
 * dozor_next_session_id), day = the UTC day the session was created on the
 * server clock. Both tables are partitioned by RANGE (session_id), one
 * partition per day, <table>_pYYYYMMDD FOR VALUES FROM (day * 2^37) TO
 * ((day + 1) * 2^37). Sessions stored by 0.1.0 have ids below 2^37: the
 * upgrade attaches the old tables as <table>_legacy FOR VALUES FROM (0) TO
 * (2^37). There is no default partition.
 *
 * Making partitions. A partition is created as a plain table and then
 * attached: ATTACH takes SHARE UPDATE EXCLUSIVE on the parent, which reads
 * and writes of other days do not wait for (CREATE TABLE ... PARTITION OF
 * would take ACCESS EXCLUSIVE). Cloning the foreign key to dozor.sessions
 * takes SHARE ROW EXCLUSIVE on dozor.sessions, which waits for writes of
 * sessions in flight. Creators take turns on one advisory lock.
 *
 * Ingest never meets a missing partition: dozor_ingest calls
 * dozor_ensure_today() when it creates a session, before its first write
 * (a batch of a known session goes to the session's day, made when the
 * session was), and a new session is always a session of today (the id's
 * day is now()'s, the same now() for the whole transaction). It runs before ingest locks dozor.sessions, so a creator
 * waiting for other ingests' writes of dozor.sessions holds none itself.
 * dozor_maintain() makes the next days ahead, so that normally the first
 * ingest of a day finds its partitions ready.
 *
 * Dropping days (dozor_drop_expired_days, from dozor_cleanup). DROP TABLE
 * of a partition takes ACCESS EXCLUSIVE on the parent (only), until the
 * transaction ends; it is tried under a short lock_timeout and retried, so
 * that it never queues every read of dozor.event_batches behind a long one.
 * DETACH ... CONCURRENTLY cannot run in a function (nor in a transaction
 * block); operators who want it run it by hand (README, Retention). Only
 * the extension owner (and superusers) may drop days: retention by whole
 * days is global, every project's rows of the day go at once.
 */

-- Partition name of a table and a day: event_batches_p20261206.
CREATE FUNCTION @extschema@.dozor_partition_name(tbl text, day integer)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
AS $$ SELECT tbl || '_p' || pg_catalog.to_char(date '1970-01-01' + day, 'YYYYMMDD') $$;

-- Makes the day's partitions of dozor.event_batches and dozor.markers
-- where missing; returns how many it made (0, 1 or 2).
CREATE FUNCTION @extschema@.dozor_add_day(day integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl text;
    part text;
    lo bigint;
    made integer := 0;
BEGIN
    -- day 0 is the legacy range [0, 2^37); 65535 keeps ids below 2^53
    IF day NOT BETWEEN 1 AND 65535 THEN
        RAISE EXCEPTION 'day % is out of range', day
            USING ERRCODE = '22023', HINT = 'A day is days since 1970-01-01, from 1 to 65535.';
    END IF;
    -- the common case (all there) takes no lock
    IF pg_catalog.to_regclass('dozor.' || @extschema@.dozor_partition_name('markers', day)) IS NOT NULL
       AND pg_catalog.to_regclass('dozor.' || @extschema@.dozor_partition_name('event_batches', day)) IS NOT NULL THEN
        RETURN 0;
    END IF;
    -- creators (ingest, maintain) take turns; the second finds it made
    PERFORM pg_catalog.pg_advisory_xact_lock('dozor.event_batches'::regclass::oid::bigint);
    lo := day::bigint * 137438953472;
    FOREACH tbl IN ARRAY ARRAY['event_batches', 'markers'] LOOP
        part := @extschema@.dozor_partition_name(tbl, day);
        CONTINUE WHEN pg_catalog.to_regclass('dozor.' || part) IS NOT NULL;
        -- STORAGE: the blob stays EXTERNAL, the index MAIN, as on the parent.
        -- A batch row is toasted only past 8160 bytes: then the blob goes
        -- out of line and the event index stays in the row uncompressed
        -- (at the default 2 kB, pglz would compress a 500-event batch's
        -- index on every insert and every read would inflate it).
        EXECUTE pg_catalog.format('CREATE TABLE dozor.%I (LIKE dozor.%I INCLUDING DEFAULTS'
                                  ' INCLUDING STORAGE INCLUDING COMPRESSION)%s', part, tbl,
                                  CASE tbl WHEN 'event_batches' THEN ' WITH (toast_tuple_target = 8160)' ELSE '' END);
        EXECUTE pg_catalog.format('ALTER TABLE dozor.%I ATTACH PARTITION dozor.%I FOR VALUES FROM (%s) TO (%s)',
                                  tbl, part, lo, lo + 137438953472);
        made := made + 1;
    END LOOP;
    RETURN made;
END
$$;

-- Today's partitions, made if missing (the fast path is two catalog
-- lookups). dozor_ingest calls this when it creates a session, before it
-- writes anything.
CREATE FUNCTION @extschema@.dozor_ensure_today()
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today integer := @extschema@.dozor_day(pg_catalog.now());
BEGIN
    IF pg_catalog.to_regclass('dozor.' || @extschema@.dozor_partition_name('markers', today)) IS NULL THEN
        PERFORM @extschema@.dozor_add_day(today);
    END IF;
END
$$;

-- Makes today's partitions and those of the next days_ahead days where
-- missing; returns how many it made. Idempotent and cheap when there is
-- nothing to do: run it every few minutes, e.g. with pg_cron:
--   SELECT cron.schedule('dozor-maintain', '*/10 * * * *', $$SELECT dozor_maintain()$$);
CREATE FUNCTION @extschema@.dozor_maintain(days_ahead integer DEFAULT 7)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today integer := @extschema@.dozor_day(pg_catalog.now());
    made integer := 0;
BEGIN
    IF days_ahead IS NULL OR days_ahead NOT BETWEEN 0 AND 366 THEN
        RAISE EXCEPTION 'days_ahead must be between 0 and 366, not %', COALESCE(days_ahead::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    FOR d IN today .. today + days_ahead LOOP
        made := made + @extschema@.dozor_add_day(d);
    END LOOP;
    RETURN made;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_maintain(integer) IS
    'Makes the day partitions of today and the next days_ahead days; idempotent, for pg_cron every few minutes.';

-- Drops the partitions of every day that ended at or before cutoff and
-- deletes the sessions of those days; returns how many sessions. The
-- batches and markers go with the partitions: the WAL is a few catalog rows
-- plus the session rows. A day whose partitions stay locked (a long read)
-- after the retries is kept, with every later day, for the next run: no
-- batch is ever left without its session. The legacy partitions (0.1.0's
-- rows) go once no session of theirs is left. Called by dozor_cleanup.
--
-- Order. The DROPs hold ACCESS EXCLUSIVE on both parents until the
-- transaction ends, so they come last, after the session deletes. Those run
-- with session_replication_role = replica: their ON DELETE CASCADE triggers
-- would otherwise each query the partitioned tables (about 140 us a session
-- with 90 days, 14 s for a day of 100 000 sessions), and find nothing once
-- the day is dropped. If a day cannot be dropped, everything this call did
-- is undone (a subtransaction) and redone with the days before it only.
-- That needs a superuser owner (the GUC is superuser-only); otherwise the
-- days are dropped first and the cascades run under the lock.
-- (Any other trigger on dozor.sessions is skipped here too: there is none.)
CREATE FUNCTION @extschema@.dozor_drop_expired_days(cutoff timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- days before this one ended at or before the cutoff
    first_kept integer := @extschema@.dozor_day(cutoff);
    old_timeout text := pg_catalog.current_setting('lock_timeout');
    old_role text := pg_catalog.current_setting('session_replication_role');
    fast boolean := (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER);
    days integer[];
    failed integer;
    dropped boolean;
    total bigint;
BEGIN
    SELECT pg_catalog.array_agg(DISTINCT (pg_catalog.to_date(pg_catalog.right(c.relname, 8), 'YYYYMMDD') - date '1970-01-01'))
    INTO days
    FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent IN ('dozor.event_batches'::regclass, 'dozor.markers'::regclass)
      AND c.relname ~ '^(event_batches|markers)_p[0-9]{8}$';
    LOOP
        total := 0;
        failed := NULL;
        BEGIN
            IF fast THEN
                PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
                total := @extschema@.dozor_delete_sessions_below(first_kept);
                PERFORM pg_catalog.set_config('session_replication_role', old_role, true);
            END IF;
            PERFORM pg_catalog.set_config('lock_timeout', '500ms', true);
            FOREACH failed IN ARRAY COALESCE(days, '{}') LOOP
                CONTINUE WHEN failed >= first_kept;
                dropped := false;
                FOR attempt IN 1 .. 5 LOOP
                    BEGIN
                        EXECUTE pg_catalog.format('DROP TABLE IF EXISTS dozor.%I, dozor.%I',
                            @extschema@.dozor_partition_name('markers', failed),
                            @extschema@.dozor_partition_name('event_batches', failed));
                        dropped := true;
                        EXIT;
                    EXCEPTION WHEN lock_not_available THEN
                        PERFORM pg_catalog.pg_sleep(0.1 * attempt);
                    END;
                END LOOP;
                IF NOT dropped THEN
                    RAISE SQLSTATE 'DZ001';
                END IF;
            END LOOP;
            failed := NULL;
            PERFORM pg_catalog.set_config('lock_timeout', old_timeout, true);
            IF NOT fast THEN
                total := @extschema@.dozor_delete_sessions_below(first_kept);
            END IF;
            EXIT;
        EXCEPTION WHEN SQLSTATE 'DZ001' THEN
            RAISE WARNING 'dozor: the partitions of % stay locked; retention keeps them and later days for the next run',
                date '1970-01-01' + failed;
            first_kept := failed;
        END;
    END LOOP;

    -- 0.1.0's rows: dozor_cleanup deletes them session by session; the
    -- emptied partitions then go as a whole.
    -- (SELECT 1: on Citus a multi-shard subquery must return a column)
    IF pg_catalog.to_regclass('dozor.event_batches_legacy') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM dozor.sessions s WHERE s.id < 137438953472) THEN
        PERFORM pg_catalog.set_config('lock_timeout', '500ms', true);
        BEGIN
            DROP TABLE IF EXISTS dozor.markers_legacy, dozor.event_batches_legacy;
        EXCEPTION WHEN lock_not_available THEN
            NULL;   -- empty anyway; the next run drops them
        END;
        PERFORM pg_catalog.set_config('lock_timeout', old_timeout, true);
    END IF;
    RETURN total;
END
$$;

-- Deletes the sessions of the days before first_kept (by primary key
-- range, in chunks); returns how many. For dozor_drop_expired_days.
CREATE FUNCTION @extschema@.dozor_delete_sessions_below(first_kept integer)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    upto bigint := first_kept::bigint * 137438953472;
    total bigint := 0;
    n bigint;
BEGIN
    LOOP
        WITH gone AS (
            DELETE FROM dozor.sessions s
            WHERE s.id IN (SELECT c.id FROM dozor.sessions c
                           WHERE c.id >= 137438953472 AND c.id < upto
                           ORDER BY c.id LIMIT 10000)
            RETURNING 1)
        SELECT pg_catalog.count(*) INTO n FROM gone;
        EXIT WHEN n = 0;
        total := total + n;
    END LOOP;
    -- and their keys (dozor.session_keys), by the same range
    DELETE FROM dozor.session_keys k WHERE k.session_id >= 137438953472 AND k.session_id < upto;
    RETURN total;
END
$$;

-------------------------------------------------------------------------------
-- Storage report
-------------------------------------------------------------------------------

-- What is stored, per partition day and project: sessions, batches,
-- events, stored bytes (the gzip blobs), and per project the oldest and
-- newest day held. A row with project_id NULL totals the day and adds the
-- partitions' size on disk (heap, TOAST and indexes, every project's).
-- day is NULL for the legacy partitions of 0.1.0's rows. Reads every
-- session row and the batches' primary key: an operator's query, not a
-- dashboard's. Row-level security applies to the counts.
CREATE FUNCTION @extschema@.dozor_storage()
RETURNS TABLE (day date, project_id bigint, sessions bigint, batches bigint, events bigint,
               stored_bytes bigint, disk_bytes bigint, oldest_day date, newest_day date)
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH per_session AS (
        SELECT s.id, s.project_id, s.event_count, s.size_bytes,
               CASE WHEN s.id >= 137438953472
                    THEN date '1970-01-01' + (s.id / 137438953472)::integer END AS day
        FROM dozor.sessions s),
    batch_counts AS (
        SELECT b.session_id, pg_catalog.count(*) AS batches
        FROM dozor.event_batches b GROUP BY b.session_id),
    per_project AS (
        SELECT p.day, p.project_id, pg_catalog.count(*) AS sessions,
               COALESCE(pg_catalog.sum(bc.batches), 0)::bigint AS batches,
               pg_catalog.sum(p.event_count)::bigint AS events,
               pg_catalog.sum(p.size_bytes)::bigint AS stored_bytes
        FROM per_session p LEFT JOIN batch_counts bc ON bc.session_id = p.id
        GROUP BY p.day, p.project_id),
    parts AS (
        SELECT CASE WHEN c.relname ~ '_legacy$' THEN NULL
                    ELSE pg_catalog.to_date(pg_catalog.right(c.relname, 8), 'YYYYMMDD') END AS day,
               pg_catalog.sum(pg_catalog.pg_total_relation_size(c.oid))::bigint AS disk_bytes
        FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent IN ('dozor.event_batches'::regclass, 'dozor.markers'::regclass)
        GROUP BY 1)
    SELECT pp.day, pp.project_id, pp.sessions, pp.batches, pp.events, pp.stored_bytes, NULL::bigint,
           pg_catalog.min(pp.day) OVER w, pg_catalog.max(pp.day) OVER w
    FROM per_project pp
    WINDOW w AS (PARTITION BY pp.project_id)
    UNION ALL
    SELECT COALESCE(pt.day, t.day), NULL, COALESCE(t.sessions, 0), COALESCE(t.batches, 0),
           COALESCE(t.events, 0), COALESCE(t.stored_bytes, 0), pt.disk_bytes,
           pg_catalog.min(t.day) OVER (), pg_catalog.max(t.day) OVER ()
    FROM (SELECT pp.day, pg_catalog.sum(pp.sessions)::bigint AS sessions,
                 pg_catalog.sum(pp.batches)::bigint AS batches, pg_catalog.sum(pp.events)::bigint AS events,
                 pg_catalog.sum(pp.stored_bytes)::bigint AS stored_bytes
          FROM per_project pp GROUP BY pp.day) t
    -- (the legacy day is NULL on both sides: match it as -infinity)
    FULL JOIN parts pt ON COALESCE(pt.day, '-infinity') = COALESCE(t.day, '-infinity')
    ORDER BY 1 NULLS FIRST, 2 NULLS FIRST
$$;
COMMENT ON FUNCTION @extschema@.dozor_storage() IS
    'Per partition day and project: sessions, batches, events, stored bytes, oldest and newest day held.';
