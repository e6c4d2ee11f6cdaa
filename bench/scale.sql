-- bench/scale.sh, one database: a bulk-loaded store of :batches batches over
-- 90 daily partitions, padded to :sessions sessions, and the timing
-- procedure. psql variables: batches, sessions.
\i test/upgrade/gen.sql
CREATE TABLE upg_keys (project text PRIMARY KEY, api_key text NOT NULL);
INSERT INTO upg_keys SELECT 'shop', (SELECT api_key FROM dozor_create_project('shop'));
-- the 90 days' partitions, oldest first (dozor_maintain makes today's and
-- the next week's; dozor_add_day the past days the copies land in)
SELECT dozor_maintain();
SELECT count(dozor_add_day(dozor_day(now()) - d)) FROM generate_series(1, 89) d;

-- Template: 10 sessions of 2 batches x 500 events (url marker, metadata,
-- a small FullSnapshot, console, interaction), ingested for real.
SELECT pg_temp.send('shop', s, concat_ws(',',
           pg_temp.url(t, '/p/' || b), pg_temp.meta(t + 1, 'https://shop.example/p/' || b),
           pg_temp.full(t + 2, s || '/' || b), pg_temp.con(t + 3, 'log', '["bench"]'),
           pg_temp.activity(t + 100, 496, 100)),
       CASE WHEN b = 1 THEN pg_temp.metadata('https://shop.example/p/1') END)
FROM generate_series(1, 10) s, generate_series(1, 2) b,
     LATERAL (SELECT 1764547200000 + s * 3600000::bigint + (b - 1) * 60000 AS t) x
ORDER BY s, b;

-- The copies: each copy of the template lands in one of the 90 days, its
-- session ids in that day's range (day * 2^37 + the sequence, as
-- dozor_next_session_id makes them), so its batches and markers go to
-- that day's partition. jsonb_populate_record overrides the listed
-- columns of a template row and keeps the others.
CREATE TABLE bench_template_sessions AS SELECT * FROM dozor.sessions;
CREATE TABLE bench_template_batches AS SELECT * FROM dozor.event_batches;
CREATE TABLE bench_template_markers AS SELECT * FROM dozor.markers;
CREATE PROCEDURE bench_copy(k1 integer, k2 integer) LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE smap ON COMMIT DROP AS
    SELECT s.id AS old_id, k, dozor_day(now()) - k % 90 AS day,
           (dozor_day(now()) - k % 90)::bigint * 137438953472 + nextval('dozor.sessions_id_seq') AS new_id
    FROM bench_template_sessions s, generate_series(k1, k2) k;
    CREATE TEMP TABLE bmap ON COMMIT DROP AS
    SELECT b.id AS old_id, m.k, m.new_id AS session_id, nextval('dozor.event_batches_id_seq') AS new_id
    FROM bench_template_batches b JOIN smap m ON m.old_id = b.session_id;
    INSERT INTO dozor.sessions
    SELECT (jsonb_populate_record(s, jsonb_build_object(
        'id', m.new_id, 'external_id', gen_random_uuid(),
        'created_at', to_timestamp(m.day * 86400.0 + (m.k * 7919 % 86400))))).*
    FROM smap m JOIN bench_template_sessions s ON s.id = m.old_id;
    INSERT INTO dozor.event_batches
    SELECT (jsonb_populate_record(b, jsonb_build_object('id', m.new_id, 'session_id', m.session_id))).*
    FROM bmap m JOIN bench_template_batches b ON b.id = m.old_id;
    INSERT INTO dozor.markers
    SELECT (jsonb_populate_record(r, jsonb_build_object('id', nextval('dozor.markers_id_seq'),
        'session_id', m.new_id, 'batch_id', bm.new_id))).*
    FROM bench_template_markers r JOIN smap m ON m.old_id = r.session_id
    LEFT JOIN bmap bm ON bm.old_id = r.batch_id AND bm.k = m.k;
END $$;
