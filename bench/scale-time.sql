-- bench/scale.sh, one database: the bodies to ingest, the floor's table and
-- the timing procedure. psql variable: bodies (per kind).

\i test/upgrade/gen.sql
-- 500-event bodies as the SDK sends them (gzip level 6), each different
-- (its own timestamps): ~20 KB of incompressible text in a console entry,
-- ~110 KB of page-like JSON, 497 interaction events; ~165 KB raw, ~32 KB
-- gzip, near the median batch of bench/gen-session.js (~460 bytes an event).
-- 'new': a session never seen; 'old': one of 20 sessions made beforehand.
SELECT setseed(0.42);
CREATE TABLE bench_bodies (kind text, k integer, body bytea, PRIMARY KEY (kind, k));
INSERT INTO bench_bodies
SELECT kind, k, dozor_gzip(pg_temp.body(CASE kind WHEN 'new' THEN 200000 + k ELSE 100000 + k % 20 END,
           concat_ws(',', pg_temp.full(t, kind || k),
                     pg_temp.con(t + 1, 'log', to_json(ARRAY[noise])::text),
                     pg_temp.custom(t + 2, 'bench', dom),
                     pg_temp.activity(t + 100, 497, 100))), 6)
FROM unnest(ARRAY['new', 'old']) kind, generate_series(1, :bodies) k,
     LATERAL (SELECT 1764547200000 + k * 60000::bigint AS t) x,
     LATERAL (SELECT encode(string_agg(decode(md5(random()::text || g), 'hex'), ''), 'base64') AS noise
              FROM generate_series(1, 1000) g) y,
     -- ~110 KB of page-like JSON that gzip shrinks about 6 times
     LATERAL (SELECT '[' || string_agg(format('{"type":2,"tagName":"div","attributes":{"class":"card col-%s p-%s"},'
                                              '"childNodes":[{"type":3,"textContent":"Item %s %s","id":%s}],"id":%s}',
                                              g % 12, g % 5, g, left(md5(g::text || k), 8 + g % 24), 2 * g, 2 * g + 1), ',') || ']' AS dom
              FROM generate_series(1, 600) g) z;
SELECT pg_temp.send('shop', 100000 + s, pg_temp.meta(1764547100000, 'https://shop.example/'),
                    pg_temp.metadata('https://shop.example/'))
FROM generate_series(0, 19) s;

-- The floor's table: event_batches' columns, its three indexes (primary
-- key, the retry key, the history's) and storage, not partitioned, no
-- foreign key.
CREATE TABLE bench_floor (LIKE dozor.event_batches INCLUDING ALL);
CREATE TABLE bench_ms (label text, ms double precision);
-- The session the reads use: a bulk-loaded 1 000-event session of a day
-- in the middle of the 90.
CREATE TABLE bench_target AS
SELECT id FROM dozor.sessions WHERE event_count = 1000 AND id < dozor_day(now())::bigint * 137438953472
ORDER BY id OFFSET (SELECT count(*) / 2 FROM dozor.sessions
                    WHERE event_count = 1000 AND id < dozor_day(now())::bigint * 137438953472) LIMIT 1;
VACUUM ANALYZE;

-- One round: n times ingest of a new session, of an existing session, the
-- floor of the same existing-session body, and 2 of each read, in turn,
-- so that load on the machine falls on all alike. Writes are timed with
-- their COMMIT. Milliseconds into bench_ms.
CREATE PROCEDURE bench_round(r integer, n integer) LANGUAGE plpgsql AS $$
DECLARE
    key text := (SELECT api_key FROM upg_keys WHERE project = 'shop');
    target bigint := (SELECT id FROM bench_target);
    body bytea;
    raw bytea;
    kd text;
    sid bigint;
    t timestamptz;
    lab text[] := '{}';
    ms double precision[] := '{}';
BEGIN
    FOR i IN 1..n LOOP
        -- the 'old' body stays in body for the floor below
        FOREACH kd IN ARRAY ARRAY['new', 'old'] LOOP
            SELECT b.body INTO body FROM bench_bodies b WHERE b.kind = kd AND b.k = r * n + i;
            t := clock_timestamp();
            PERFORM dozor_ingest(key, body, 'gzip');
            COMMIT;
            lab := lab || CASE kd WHEN 'new' THEN 'ingest, new session' ELSE 'ingest, existing session' END;
            ms := ms || EXTRACT(epoch FROM clock_timestamp() - t) * 1000;
        END LOOP;

        -- the floor: inflate, compress at dozor's storage level (3), one
        -- row; the body's gzip trailer (CRC-32 + length) stands in for the
        -- content hash, as it costs nothing to compute
        sid := target;
        t := clock_timestamp();
        raw := dozor_gunzip(body);
        INSERT INTO bench_floor (session_id, project_id, first_timestamp, last_timestamp, event_count, data,
                                 raw_bytes, event_index, content_hash)
        VALUES (sid, 1, 0, 0, 500, dozor_gzip(raw, 3), length(raw), '\x00'::bytea,
                substring(body FROM length(body) - 7));
        COMMIT;
        lab := lab || 'floor (inflate + deflate 3 + INSERT)'::text;
        ms := ms || EXTRACT(epoch FROM clock_timestamp() - t) * 1000;

        -- the parts without SQL: ingest's C pass (inflate, validate, index,
        -- deflate 3) and the floor's codec work
        t := clock_timestamp();
        PERFORM dozor_prepare_batch(body, 'gzip');
        lab := lab || 'part: dozor_prepare_batch'::text;
        ms := ms || EXTRACT(epoch FROM clock_timestamp() - t) * 1000;
        t := clock_timestamp();
        PERFORM length(dozor_gzip(dozor_gunzip(body), 3));
        lab := lab || 'part: inflate + deflate 3'::text;
        ms := ms || EXTRACT(epoch FROM clock_timestamp() - t) * 1000;

        FOR j IN 1..2 LOOP
            t := clock_timestamp();
            PERFORM count(*) FROM dozor_history(target);
            lab := lab || 'dozor_history, 1000 events'::text;
            ms := ms || EXTRACT(epoch FROM clock_timestamp() - t) * 1000;
            t := clock_timestamp();
            PERFORM pg_column_size(dozor_events(target));
            lab := lab || 'dozor_events, 1000 events'::text;
            ms := ms || EXTRACT(epoch FROM clock_timestamp() - t) * 1000;
            t := clock_timestamp();
            PERFORM count(*) FROM dozor_sessions();
            lab := lab || 'dozor_sessions, 50-row page'::text;
            ms := ms || EXTRACT(epoch FROM clock_timestamp() - t) * 1000;
        END LOOP;
    END LOOP;
    INSERT INTO bench_ms SELECT * FROM unnest(lab, ms);
    COMMIT;
END $$;

-- Realistic batches (bench/scale.sh loads bench_real from
-- bench/gen-session.js): each body once to dozor_ingest (a session's first
-- batch makes it) and, from body timed_from on, once to the floor, the
-- order swapped batch by batch; the bodies before are a warm-up, ingested
-- untimed. Milliseconds into bench_real_ms.
CREATE TABLE bench_real_ms (k integer, what text, ms double precision);
CREATE PROCEDURE bench_real_round(timed_from integer) LANGUAGE plpgsql AS $$
DECLARE
    key text := (SELECT api_key FROM upg_keys WHERE project = 'shop');
    target bigint := (SELECT id FROM bench_target);
    r record;
    raw bytea;
    t timestamptz;
    what text;
BEGIN
    FOR r IN SELECT k, body FROM bench_real WHERE k < timed_from ORDER BY k LOOP
        PERFORM dozor_ingest(key, r.body, 'gzip');
        COMMIT;
    END LOOP;
    FOR r IN SELECT k, body FROM bench_real WHERE k >= timed_from ORDER BY k LOOP
        FOREACH what IN ARRAY CASE WHEN r.k % 2 = 0 THEN ARRAY['ingest', 'floor'] ELSE ARRAY['floor', 'ingest'] END LOOP
            t := clock_timestamp();
            IF what = 'ingest' THEN
                PERFORM dozor_ingest(key, r.body, 'gzip');
            ELSE
                raw := dozor_gunzip(r.body);
                INSERT INTO bench_floor (session_id, project_id, first_timestamp, last_timestamp, event_count, data,
                                         raw_bytes, event_index, content_hash)
                VALUES (target, 1, 0, 0, 500, dozor_gzip(raw, 3), length(raw), '\x00'::bytea,
                        substring(r.body FROM length(r.body) - 7));
            END IF;
            COMMIT;
            INSERT INTO bench_real_ms VALUES (r.k, what, EXTRACT(epoch FROM clock_timestamp() - t) * 1000);
            COMMIT;
        END LOOP;
    END LOOP;
END $$;
