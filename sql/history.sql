-- History feed: every rule and worked example of docs/HISTORY.md §2 and §6,
-- on the pure function and on ingested sessions.

-- A. navigation sections chain head to tail.
SELECT id, kind, started_at, ended_at, real_duration_ms, pathname, url
FROM dozor_build_history(evs(o(0), u(100, '/home'), o(200), u(300, '/checkout'), o(400)), idle_gap_ms => NULL);

-- B. an idle item; C. a gap equal to the threshold is not idle.
SELECT id, kind, started_at, ended_at, real_duration_ms
FROM dozor_build_history(evs(o(0), o(1000), o(70000), o(70500)), idle_gap_ms => 60000);
SELECT id, kind, started_at, ended_at FROM dozor_build_history(evs(o(0), o(60000)), idle_gap_ms => 60000);

-- D. an identify point with traits; it does not seal the section.
SELECT id, kind, started_at, ended_at, user_id, traits
FROM dozor_build_history(evs(o(0), i(500, 'u1', '{"plan":"pro"}'), o(1000)));

-- G. B with compression on: times compressed, real durations kept.
SELECT id, kind, started_at, ended_at, real_duration_ms
FROM dozor_build_history(evs(o(0), o(1000), o(70000), o(70500)), compress_idle => true, idle_gap_ms => 60000);

-- initial_url and session_ended_at; an unparsable initial url has no pathname.
SELECT id, started_at, ended_at, pathname, url
FROM dozor_build_history(evs(o(10), o(20)), 'https://ex.com/a/../b?q', 99);
SELECT id, pathname, url FROM dozor_build_history(evs(o(10)), 'not a url');

-- Malformed markers are skipped entirely: no section, no idle check, no
-- identify; a gap that ends at a marker is never idle, one that starts at
-- a marker is.
SELECT id, kind, started_at, ended_at FROM dozor_build_history(evs(
  o(0),
  '{"type":5,"data":{"tag":"dozor:url","payload":{"url":"https://x/"}},"timestamp":100000}',
  '{"type":5,"data":{"tag":"dozor:identity","payload":{"traits":{}}},"timestamp":200000}',
  u(300000, '/late'),
  o(400000),
  '{"type":5,"data":{"tag":"dozor:url","payload":{"url":"","pathname":"/p"}},"timestamp":400001}',
  o(500000)));

-- Identity traits: objects and arrays kept, scalars dropped.
SELECT id, user_id, traits FROM dozor_build_history(evs(
  o(0), i(1, 'a', '[1,2]'), i(2, 'b', '"str"'), i(3, 'c', 'null'), i(4, 'd')))
WHERE kind = 'identify';

-- Other dozor:* markers, custom events and plugins are ordinary events.
SELECT id, kind, started_at, ended_at FROM dozor_build_history(evs(
  o(0), '{"type":5,"data":{"tag":"dozor:checkout","payload":{}},"timestamp":40000}',
  '{"type":6,"data":{"plugin":"other","payload":{}},"timestamp":80000}'));

-- The input is stably sorted first: ties keep array order.
SELECT id, kind, started_at, ended_at, pathname FROM dozor_build_history(evs(
  o(300), u(100, '/b'), u(100, '/a'), o(0)), idle_gap_ms => NULL);

-- No events, a single event.
SELECT count(*) AS rows_for_empty FROM dozor_build_history('[]');
SELECT id, kind, started_at, ended_at, real_duration_ms FROM dozor_build_history(evs(o(42)));

-- Parameters: negative values are 22023; NULL idle_gap disables idle
-- items and compression.
SELECT expect_error('SELECT * FROM dozor_build_history(''[]'', idle_gap_ms => -1)');
SELECT expect_error('SELECT * FROM dozor_build_history(''[]'', cap_ms => -5)');
SELECT expect_error('SELECT * FROM dozor_build_history(''{}'')');
SELECT expect_error('SELECT * FROM dozor_build_history(''[{"type":3,"data":{}}]'')');
SELECT id, started_at, ended_at FROM dozor_build_history(evs(o(0), o(100000)), compress_idle => true, idle_gap_ms => NULL);

-- Stored sessions: the feed is built from the batches' events (the initial
-- url marker from metadata is not an event), merged across out-of-order
-- batches, without inflating anything.
SELECT ingest_events('2b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  evs(u(1700000100000, '/cart'), o(1700000100500), o(1700000200000)), 'https://shop.example/') AS hs \gset
SELECT ingest_events('2b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  evs(o(1700000000000), i(1700000000100, 'u9', '{"a":1}'), o(1700000000200))) = :hs AS late_batch;
SELECT id, kind, started_at, ended_at, real_duration_ms, pathname, url, user_id, traits
FROM dozor_history(:hs);
SELECT id, kind, started_at, ended_at, real_duration_ms FROM dozor_history(:hs, compress_idle => false);
SELECT id, kind FROM dozor_history(:hs, idle_gap_ms => NULL);

-- The stored feed equals the pure feed over the merged stream.
SELECT (SELECT array_agg(h ORDER BY ord) FROM dozor_history(:hs) WITH ORDINALITY AS h(id, kind, s, e, r, p, u, usr, t, ord))
     = (SELECT array_agg(h ORDER BY ord) FROM dozor_build_history(dozor_events(:hs), 'https://shop.example/',
            (SELECT (extract(epoch FROM ended_at) * 1000)::bigint FROM dozor.sessions WHERE id = :hs), true)
            WITH ORDINALITY AS h(id, kind, s, e, r, p, u, usr, t, ord)) AS stored_equals_pure;

-- A session that does not exist has no rows.
SELECT count(*) FROM dozor_history(-1);

-- A session end so far from the events that a duration leaves bigint: 22003.
SELECT expect_error($$SELECT * FROM dozor_build_history(evs(o(1000)), NULL, -9223372036854775807, false, NULL, 0)$$);
