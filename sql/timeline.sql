-- Idle-compressed timeline: docs/HISTORY.md §3 and §6 E, F.

-- E: 0 1000 1000000 1001000 -> 0 1000 6000 7000.
SELECT dozor_compress_events(evs(o(0), o(1000), o(1000000), o(1001000)));
SELECT t, dozor_map_to_compressed(evs(o(0), o(1000), o(1000000), o(1001000)), t) AS compressed
FROM unnest(ARRAY[0, 500, 1000, 500500, 1000000, 1001000, 2000000]::float8[]) AS t;

-- F: 0 100000 200000 1200000 -> 0 5000 10000 15000.
SELECT dozor_compress_events(evs(o(0), o(100000), o(200000), o(1200000)));
SELECT t, dozor_map_to_compressed(evs(o(0), o(100000), o(200000), o(1200000)), t) AS compressed
FROM unnest(ARRAY[200000, 1000000, 1200000, 150000, -5]::float8[]) AS t;

-- The inverse: exact outside the open gaps, linear inside.
SELECT c, dozor_map_to_real(evs(o(0), o(100000), o(200000), o(1200000)), c) AS real
FROM unnest(ARRAY[0, 2500, 5000, 10000, 14000, 15000, 20000]::float8[]) AS c;
SELECT bool_and(dozor_map_to_real(e, dozor_map_to_compressed(e, t)) = t) AS round_trip
FROM (SELECT evs(o(0), o(100000), o(100001), o(200000), o(1200000)) AS e) x,
     unnest(ARRAY[0, 100000, 100001, 200000, 1200000, 1300000, -7, 100000.5]::float8[]) AS t;

-- Markers count for the timeline (unlike the history's idle rule); the
-- compressed text keeps everything but the timestamp value; fractions stay.
SELECT dozor_compress_events(evs(o(0), u(60000, '/x'),
  '{"timestamp":120000.5,"type":3,"data":{"timestamp":1}}'));

-- cap 0, gap 0, a cap longer than the gap (the timeline stretches).
SELECT dozor_compress_events(evs(o(0), o(10), o(20)), 0, 0);
SELECT dozor_compress_events(evs(o(0), o(10), o(40)), 5, 20);
SELECT dozor_map_to_real(evs(o(0), o(1000000)), 30000, 30000, 0);

-- Unsorted input is a session stream after a stable sort.
SELECT dozor_compress_events(evs(o(1000000), o(0)));
SELECT dozor_compress_events('[]'), dozor_map_to_compressed('[]', 123.5);

-- Bad parameters are 22023.
SELECT expect_error('SELECT dozor_compress_events(''[]'', -1, 5)');
SELECT expect_error('SELECT dozor_map_to_compressed(''[]'', 1, 30000, -1)');
SELECT expect_error('SELECT dozor_compress_events(''[]'', NULL, 5)');

-- Stored sessions: the same mapping without inflating.
SELECT ingest_events('3b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', evs(o(0), o(1000), o(1000000), o(1001000))) AS ts \gset
SELECT dozor_to_compressed(:ts, 500500), dozor_to_compressed(:ts, 1000000), dozor_to_real(:ts, 3500),
       dozor_to_compressed(:ts, 7, gap_ms => 0, cap_ms => 0);
SELECT dozor_events(:ts, compress_idle => true);

-- Property: every compressed gap is either <= threshold or exactly cap, and
-- the first event keeps its timestamp (random streams).
SELECT setseed(0.42);
CREATE TEMP TABLE random_streams AS
SELECT s, (SELECT json_agg(json_build_object('type', 3, 'data', '{}'::json, 'timestamp', t) ORDER BY t)
           FROM (SELECT (random() * 500000)::bigint AS t FROM generate_series(1, 40) WHERE s > 0) x) AS e
FROM generate_series(1, 25) AS s;
WITH real AS (
  SELECT s, ord, (v->>'timestamp')::bigint AS t FROM random_streams, json_array_elements(e) WITH ORDINALITY AS a(v, ord)),
comp AS (
  SELECT s, ord, (v->>'timestamp')::bigint AS t FROM random_streams,
         json_array_elements(dozor_compress_events(e, 30000, 5000)) WITH ORDINALITY AS a(v, ord)),
gaps AS (
  SELECT r.s, r.ord, r.t - lag(r.t) OVER w AS real_gap, c.t - lag(c.t) OVER w AS comp_gap, c.t AS ct, r.t AS rt
  FROM real r JOIN comp c USING (s, ord) WINDOW w AS (PARTITION BY r.s ORDER BY r.ord))
SELECT bool_and(CASE WHEN real_gap IS NULL THEN ct = rt
                     WHEN real_gap > 30000 THEN comp_gap = 5000 ELSE comp_gap = real_gap END) AS gaps_ok
FROM gaps;

-- A session that does not exist maps to NULL (like dozor_events).
SELECT dozor_to_compressed(-1, 5) IS NULL AS missing_compressed, dozor_to_real(-1, 5) IS NULL AS missing_real;
