-- After the upgrade: ingest goes on, into a session stored before it and
-- into a new one, each batch stored once (retries included, a retry of a
-- batch stored before the upgrade too), through a role that may only
-- ingest; every session then still adds up.
\set ON_ERROR_STOP on
\i test/upgrade/gen.sql
\set t0 1741942800000

CREATE TEMP TABLE before AS
SELECT s.id, s.external_id, s.event_count,
       (SELECT count(*) FROM dozor.event_batches b WHERE b.session_id = s.id) AS batches
FROM dozor.sessions s;
CREATE TEMP TABLE old_max AS SELECT max(id) AS batch FROM dozor.event_batches;
SELECT api_key AS key FROM upg_keys WHERE project = 'shop' \gset

DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'upg_ingest') THEN
        CREATE ROLE upg_ingest NOLOGIN;
    END IF;
END $$;
GRANT dozor_ingest TO upg_ingest;
SET ROLE upg_ingest;
-- the retry of session 1's third request, sent before the upgrade
SELECT dozor_ingest(:'key', dozor_gzip(pg_temp.body(1, concat_ws(',', pg_temp.activity(:t0 + 60000, 20, 400),
           pg_temp.con(:t0 + 61000, 'error', '["TypeError: x is undefined","{\"at\":1}"]')))), 'gzip');
-- a new batch of session 1, twice
SELECT dozor_ingest(:'key', dozor_gzip(pg_temp.body(1, concat_ws(',', pg_temp.url(:t0 + 200000, '/thanks'),
           pg_temp.activity(:t0 + 200100, 12, 300), pg_temp.con(:t0 + 201000, 'warn', '["after the upgrade"]')))), 'gzip')
FROM generate_series(1, 2);
-- a new session of two batches, each sent twice, the second one first
SELECT dozor_ingest(:'key', dozor_gzip(pg_temp.body(40, concat_ws(',', pg_temp.activity(:t0 + 20000000, 10, 200),
           pg_temp.ident(:t0 + 20001000, 'u-1', '{"plan":"team"}')),
           pg_temp.metadata('https://shop.example/new', 'u-1', '{"plan":"team"}'))), 'gzip')
FROM generate_series(1, 2);
SELECT dozor_ingest(:'key', dozor_gzip(pg_temp.body(40, concat_ws(',', pg_temp.meta(:t0 + 19990000, 'https://shop.example/new'),
           pg_temp.full(:t0 + 19990005, 's40'), pg_temp.activity(:t0 + 19990100, 20, 100)),
           pg_temp.metadata('https://shop.example/new'))), 'gzip')
FROM generate_series(1, 2);
RESET ROLE;

DO $$
DECLARE
    old1 record;
    ns record;
    n bigint;
BEGIN
    -- session 1: exactly one batch more, with its 14 events
    SELECT x.id, x.event_count, x.batches INTO old1 FROM before x WHERE x.external_id = pg_temp.sid(1)::uuid;
    SELECT count(*) INTO n FROM dozor.event_batches WHERE session_id = old1.id;
    IF n <> old1.batches + 1 THEN
        RAISE EXCEPTION 'old session: % batches after the upgrade, expected %', n, old1.batches + 1;
    END IF;
    IF (SELECT event_count FROM dozor.sessions WHERE id = old1.id) <> old1.event_count + 14 THEN
        RAISE EXCEPTION 'old session: event_count % after one new batch of 14 events, expected %',
            (SELECT event_count FROM dozor.sessions WHERE id = old1.id), old1.event_count + 14;
    END IF;
    IF NOT EXISTS (SELECT FROM dozor_markers(old1.id, 'url') m WHERE m.data->>'pathname' = '/thanks') THEN
        RAISE EXCEPTION 'old session: the new batch''s url marker is missing';
    END IF;
    IF (SELECT count(*) FROM dozor_console(old1.id, false) c WHERE c.payload = ARRAY['after the upgrade']) <> 1 THEN
        RAISE EXCEPTION 'old session: the new console entry is not in the feed exactly once';
    END IF;
    -- no other old session changed
    IF EXISTS (SELECT FROM before x JOIN dozor.sessions cur ON cur.id = x.id
               WHERE x.id <> old1.id AND (cur.event_count <> x.event_count
                     OR (SELECT count(*) FROM dozor.event_batches e WHERE e.session_id = x.id) <> x.batches)) THEN
        RAISE EXCEPTION 'a session the new batches do not belong to changed';
    END IF;
    -- the new session: two batches, 33 events, readable, linked to u-1
    SELECT * INTO ns FROM dozor.sessions WHERE external_id = pg_temp.sid(40)::uuid;
    IF ns.id IS NULL OR ns.id <= (SELECT max(id) FROM before) THEN
        RAISE EXCEPTION 'new session: missing, or its id % does not follow the old ones', ns.id;
    END IF;
    IF (SELECT count(*) FROM dozor.event_batches WHERE session_id = ns.id) <> 2 OR ns.event_count <> 33 THEN
        RAISE EXCEPTION 'new session: % batches, % events; expected 2 and 33',
            (SELECT count(*) FROM dozor.event_batches WHERE session_id = ns.id), ns.event_count;
    END IF;
    IF ns.url IS DISTINCT FROM 'https://shop.example/new' OR ns.tracked_user_id IS NULL
       OR NOT EXISTS (SELECT FROM dozor_history(ns.id) h WHERE h.kind = 'identify') THEN
        RAISE EXCEPTION 'new session: metadata, user link or history identify item missing';
    END IF;
    IF EXISTS (SELECT FROM dozor.event_batches WHERE id <= (SELECT batch FROM old_max) AND session_id = ns.id) THEN
        RAISE EXCEPTION 'new batches got ids of the old range';
    END IF;
    -- every session: stored once, and its counts add up to its stream
    IF EXISTS (SELECT FROM dozor.event_batches GROUP BY session_id, content_hash HAVING count(*) > 1) THEN
        RAISE EXCEPTION 'a batch is stored twice';
    END IF;
    FOR ns IN SELECT * FROM dozor.sessions LOOP
        n := COALESCE(json_array_length(dozor_events(ns.id)), 0);
        IF n <> ns.event_count
           OR n <> (SELECT COALESCE(sum(e.event_count), 0) FROM dozor.event_batches e WHERE e.session_id = ns.id) THEN
            RAISE EXCEPTION 'session %: event_count %, stream %', ns.id, ns.event_count, n;
        END IF;
    END LOOP;
END $$;
\echo new ingest after the upgrade: stored once and readable
