-- Ingest: valid payloads and their effects (docs/SPEC.md §3).
SELECT project_id AS project, api_key AS key FROM dozor_create_project('shop') \gset
SELECT :'key' ~ '^dp_[0-9a-f]{32}$' AS key_format,
       (SELECT key_hash = sha256(convert_to(:'key', 'UTF8')) FROM dozor.projects WHERE id = :project) AS only_hash_stored;

-- First batch with metadata: session row, initial url marker, events stored.
SELECT dozor_ingest(:'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  '[{"type":4,"data":{"href":"https://shop.example/a/../cart?x=1","width":1280,"height":720},"timestamp":1700000000000},
    {"type":2,"data":{"node":{}},"timestamp":1700000000001},
    {"type":3,"data":{"source":1,"positions":[]},"timestamp":1700000001500}]',
  '{"url":"https://shop.example/a/../cart?x=1","referrer":"","userAgent":"HeadlessChrome","screenWidth":1280,"screenHeight":720.7,"language":"en"}'))
  AS sid \gset
SELECT external_id, url, referrer, user_agent, screen_width, screen_height, language,
       started_at AT TIME ZONE 'UTC' AS started, ended_at AT TIME ZONE 'UTC' AS ended,
       duration, event_count, tracked_user_id
FROM dozor.sessions WHERE id = :sid;
SELECT timestamp, kind, data FROM dozor.markers WHERE session_id = :sid ORDER BY id;
SELECT first_timestamp, last_timestamp, event_count, raw_bytes = length(dozor_gunzip(data)) AS raw_ok,
       convert_from(dozor_gunzip(data), 'UTF8') AS stored
FROM dozor.event_batches WHERE session_id = :sid;
SELECT last_used_at IS NOT NULL AS key_used FROM dozor.projects WHERE id = :project;

-- A later batch widens the window; a late out-of-order batch never shrinks it.
SELECT dozor_ingest(:'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  '[{"type":3,"data":{"source":2,"type":2},"timestamp":1700000009000}]')) = :sid AS same_session;
SELECT dozor_ingest(:'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  '[{"type":3,"data":{"source":0},"timestamp":1700000005000}]')) = :sid AS same_session;
SELECT started_at AT TIME ZONE 'UTC' AS started, ended_at AT TIME ZONE 'UTC' AS ended, duration, event_count
FROM dozor.sessions WHERE id = :sid;
SELECT count(*) AS initial_url_markers FROM dozor.markers WHERE session_id = :sid AND batch_id IS NULL;

-- Retry: the same batch three times is stored once; counts unchanged.
-- (The id is today * 2^37 + the sequence: the low bits are the first.)
SELECT dozor_ingest(:'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  '[{"type":5,"data":{"tag":"dozor:url","payload":{"url":"https://shop.example/pay","pathname":"/pay"}},"timestamp":1700000010000}]'))
  % 137438953472 AS id_low_bits,
  dozor_day(now()) = :sid / 137438953472 AS id_day_is_today
FROM generate_series(1, 3);
SELECT count(*) AS batches, sum(event_count) AS events FROM dozor.event_batches WHERE session_id = :sid;
SELECT event_count FROM dozor.sessions WHERE id = :sid;
SELECT count(*) AS pay_markers FROM dozor.markers WHERE session_id = :sid AND data->>'pathname' = '/pay';

-- Gzip bodies, with the header spelled loosely; the same events plain or
-- gzip are one batch.
SELECT dozor_ingest(:'key', dozor_gzip(sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  '[{"type":3,"data":{"source":3},"timestamp":1700000011000}]')), ' GZIP ') = :sid AS gzip_ok;
SELECT dozor_ingest(:'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  '[{"type":3,"data":{"source":3},"timestamp":1700000011000}]'), 'identity') = :sid AS plain_retry_ok;
SELECT count(*) AS batches FROM dozor.event_batches WHERE session_id = :sid;

-- Markers: dozor:url, dozor:identity, other dozor:* kinds, payload-less
-- tags; other custom events are ignored. \u0000 and lone surrogates in a
-- payload become U+FFFD in jsonb while the stored event keeps its bytes.
SELECT dozor_ingest(:'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  '[{"type":5,"data":{"tag":"dozor:identity","payload":{"userId":"u1","traits":{"plan":"pro"}}},"timestamp":1700000012000},
    {"type":5,"data":{"tag":"dozor:checkout","payload":{"step":2,"note":"a\u0000b\ud83d"}},"timestamp":1700000012001},
    {"type":5,"data":{"tag":"dozor:ping"},"timestamp":1700000012002},
    {"type":5,"data":{"tag":"other:thing","payload":1},"timestamp":1700000012003},
    {"type":5,"data":{"tag":"dozor:url","payload":{"url":""}},"timestamp":1700000012004}]')) = :sid AS markers_ok;
SELECT timestamp, kind, data FROM dozor.markers WHERE session_id = :sid AND timestamp >= 1700000012000 ORDER BY timestamp;
SELECT position('a\u0000b\ud83d' IN convert_from(dozor_gunzip(data), 'UTF8')) > 0 AS bytes_kept
FROM dozor.event_batches WHERE session_id = :sid AND first_timestamp = 1700000012000;

-- Identity: a metadata-only ping creates/links and never moves the window;
-- relinking moves the session to the new user; traits replaced when given.
SELECT dozor_ingest(:'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
  '{"url":"https://shop.example/pay","referrer":"","userAgent":"HeadlessChrome","screenWidth":1280,"screenHeight":720,"language":"en","userIdentity":{"userId":"u1","traits":{"plan":"pro"}}}')) = :sid AS ping_ok;
SELECT u.external_id, u.traits, s.started_at AT TIME ZONE 'UTC' AS started, s.ended_at AT TIME ZONE 'UTC' AS ended, s.event_count
FROM dozor.sessions s JOIN dozor.tracked_users u ON u.id = s.tracked_user_id WHERE s.id = :sid;
SELECT dozor_ingest(:'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
  '{"url":"https://shop.example/pay","referrer":"","userAgent":"HeadlessChrome","screenWidth":1280,"screenHeight":720,"language":"en","userIdentity":{"userId":"u2"}}')) = :sid AS relink_ok;
SELECT dozor_ingest(:'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
  '{"url":"https://shop.example/pay","referrer":"","userAgent":"HeadlessChrome","screenWidth":1280,"screenHeight":720,"language":"en","userIdentity":{"userId":"u1","traits":{"plan":"team"}}}')) = :sid AS retrait_ok;
SELECT external_id, traits FROM dozor.tracked_users WHERE project_id = :project ORDER BY external_id;
-- A batch without identity never unlinks.
SELECT dozor_ingest(:'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]')) = :sid AS no_unlink;
SELECT u.external_id FROM dozor.sessions s JOIN dozor.tracked_users u ON u.id = s.tracked_user_id WHERE s.id = :sid;

-- An empty first batch creates the session at now(); its first events then
-- set the window instead of widening from the ping's time.
SELECT dozor_ingest(:'key', sdk_body('00000000-0000-0000-0000-000000000000', '[]')) AS nil_sid \gset
SELECT event_count, abs(extract(epoch FROM now() - started_at)) < 60 AS started_now FROM dozor.sessions WHERE id = :nil_sid;
SELECT dozor_ingest(:'key', sdk_body('00000000-0000-0000-0000-000000000000',
  '[{"type":3,"data":{},"timestamp":1600000000000},{"type":3,"data":{},"timestamp":1600000002600}]')) = :nil_sid AS same;
SELECT started_at AT TIME ZONE 'UTC' AS started, ended_at AT TIME ZONE 'UTC' AS ended, duration, event_count
FROM dozor.sessions WHERE id = :nil_sid;

-- Max UUID, any case; legacy keys accepted and ignored; fractional and -0
-- timestamps floored; events kept byte for byte (whitespace, key order).
SELECT dozor_ingest(:'key', convert_to('{"sessionId":"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF","sliceMarkers":[1],"pageViews":[{}],
  "events":[ { "timestamp" : 1.9, "data" : null , "type" : 0 } , {"type":1,"timestamp":-0,"data":[],"extra":true}],"unknown":{}}', 'UTF8')) AS max_sid \gset
SELECT first_timestamp, last_timestamp, convert_from(dozor_gunzip(data), 'UTF8') AS stored
FROM dozor.event_batches WHERE session_id = :max_sid;
SELECT external_id FROM dozor.sessions WHERE id = :max_sid;

-- Initial url pathnames for odd URLs; "/" when unparsable.
SELECT dozor_ingest(:'key', sdk_body(u.id, '[]',
  '{"url":' || to_json(u.url)::text || ',"referrer":"","userAgent":"x","screenWidth":1,"screenHeight":1,"language":"en"}')) IS NOT NULL AS ok
FROM (VALUES ('1b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c40', 'https://ex.com/ä ö?x'),
             ('1b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c41', 'not a url'),
             ('1b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c42', 'https://ex.com\back\slash')) AS u(id, url);
SELECT s.external_id, m.data->>'pathname' AS pathname FROM dozor.markers m JOIN dozor.sessions s ON s.id = m.session_id
WHERE s.external_id::text LIKE '1b6d8a2c%' ORDER BY 1;

-- Key rotation: the old key stops working at once.
SELECT dozor_rotate_api_key(:project) AS new_key \gset
SELECT expect_error(format('SELECT dozor_ingest(%L, %L::bytea)', :'key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]')));
SELECT dozor_ingest(:'new_key', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]')) = :sid AS new_key_works;

-- Cancel: scoped to the key's project; missing sessions are a no-op.
SELECT api_key AS other_key FROM dozor_create_project('other') \gset
SELECT dozor_cancel_session(:'other_key', '0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d');
SELECT count(*) AS still_there FROM dozor.sessions WHERE id = :sid;
SELECT dozor_cancel_session(:'new_key', '0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d');
SELECT dozor_cancel_session(:'new_key', '0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d');
SELECT (SELECT count(*) FROM dozor.sessions WHERE id = :sid) AS sessions,
       (SELECT count(*) FROM dozor.event_batches WHERE session_id = :sid) AS batches,
       (SELECT count(*) FROM dozor.markers WHERE session_id = :sid) AS markers;
SELECT expect_error(format('SELECT dozor_cancel_session(%L, %L)', 'dp_00000000000000000000000000000000', '0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d'));

-- Dashboard delete by internal id.
SELECT dozor_delete_session(:nil_sid) AS deleted, dozor_delete_session(:nil_sid) AS again;

-- Metadata that arrives late (the first batch was overtaken or retried)
-- still fills the session, with the url marker at the session's start.
SELECT dozor_ingest(:'other_key', sdk_body('0b6f1a52-1d5e-4c1e-9d8a-2f1e3c4b5a69',
  '[{"type":3,"data":{"source":1},"timestamp":2000}]')) AS late \gset
SELECT dozor_ingest(:'other_key', sdk_body('0b6f1a52-1d5e-4c1e-9d8a-2f1e3c4b5a69',
  '[{"type":4,"data":{},"timestamp":1000}]',
  '{"url":"https://a.test/start","referrer":"r","userAgent":"UA","screenWidth":800,"screenHeight":600,"language":"en"}')) = :late AS same;
SELECT dozor_ingest(:'other_key', sdk_body('0b6f1a52-1d5e-4c1e-9d8a-2f1e3c4b5a69', '[]',
  '{"url":"https://a.test/other","referrer":"","userAgent":"UA2","screenWidth":1,"screenHeight":1,"language":"de"}')) = :late AS same;
SELECT url, referrer, user_agent, screen_width, language, page_count, pathnames FROM dozor.sessions WHERE id = :late;
SELECT * FROM dozor_markers(:late);
SELECT id, url, pathname FROM dozor_history(:late) WHERE kind = 'init';

-- What a batch of a known session no longer writes or makes (each would
-- be a write on every node of a Citus cluster, docs/SPEC.md §3 effect 7):
-- today's partitions are checked only when a session is created ...
SET track_functions = 'pl';
BEGIN;
SELECT dozor_ingest(:'other_key', sdk_body('0b6f1a52-1d5e-4c1e-9d8a-2f1e3c4b5a69',
  '[{"type":3,"data":{"source":1},"timestamp":3000}]')) = :late AS known_session;
SELECT COALESCE(pg_stat_get_xact_function_calls('dozor_ensure_today'::regproc), 0) AS ensure_today_calls;
SELECT dozor_ingest(:'other_key', sdk_body('0b6f1a53-1d5e-4c1e-9d8a-2f1e3c4b5a69',
  '[{"type":3,"data":{"source":1},"timestamp":3000}]')) <> :late AS new_session;
SELECT COALESCE(pg_stat_get_xact_function_calls('dozor_ensure_today'::regproc), 0) AS ensure_today_calls;
COMMIT;
RESET track_functions;
-- ... the project's last use is written when 5 minutes old, not per batch ...
UPDATE dozor.projects SET last_used_at = now() - interval '1 minute'
WHERE key_hash = dozor_api_key_hash(:'other_key') RETURNING last_used_at AS used_at \gset
SELECT dozor_ingest(:'other_key', sdk_body('0b6f1a52-1d5e-4c1e-9d8a-2f1e3c4b5a69',
  '[{"type":3,"data":{"source":1},"timestamp":3001}]')) = :late AS known_session;
SELECT last_used_at = :'used_at' AS last_used_kept FROM dozor.projects WHERE key_hash = dozor_api_key_hash(:'other_key');
UPDATE dozor.projects SET last_used_at = now() - interval '6 minutes' WHERE key_hash = dozor_api_key_hash(:'other_key');
SELECT dozor_ingest(:'other_key', sdk_body('0b6f1a52-1d5e-4c1e-9d8a-2f1e3c4b5a69',
  '[{"type":3,"data":{"source":1},"timestamp":3002}]')) = :late AS known_session;
SELECT last_used_at > now() - interval '1 minute' AS last_used_renewed
FROM dozor.projects WHERE key_hash = dozor_api_key_hash(:'other_key');
-- ... and a tracked user is written when new or when its traits change.
SELECT dozor_ingest(:'other_key', sdk_body('0b6f1a52-1d5e-4c1e-9d8a-2f1e3c4b5a69', '[]',
  '{"url":"https://a.test/","referrer":"","userAgent":"UA","screenWidth":1,"screenHeight":1,"language":"en",
    "userIdentity":{"userId":"kept","traits":{"plan":"pro"}}}')) = :late AS identified;
SELECT xmin::text AS user_xmin FROM dozor.tracked_users WHERE external_id = 'kept' \gset
SELECT dozor_ingest(:'other_key', sdk_body('0b6f1a52-1d5e-4c1e-9d8a-2f1e3c4b5a69', '[]',
  '{"url":"https://a.test/","referrer":"","userAgent":"UA","screenWidth":1,"screenHeight":1,"language":"en",
    "userIdentity":{"userId":"kept","traits":{"plan":"pro"}}}')) = :late AS identified_again;
SELECT xmin::text = :'user_xmin' AS same_traits_not_rewritten, traits FROM dozor.tracked_users WHERE external_id = 'kept';
SELECT dozor_ingest(:'other_key', sdk_body('0b6f1a52-1d5e-4c1e-9d8a-2f1e3c4b5a69', '[]',
  '{"url":"https://a.test/","referrer":"","userAgent":"UA","screenWidth":1,"screenHeight":1,"language":"en",
    "userIdentity":{"userId":"kept","traits":{"plan":"team"}}}')) = :late AS new_traits;
SELECT xmin::text <> :'user_xmin' AS new_traits_written, traits FROM dozor.tracked_users WHERE external_id = 'kept';
SELECT u.external_id FROM dozor.sessions s JOIN dozor.tracked_users u ON u.id = s.tracked_user_id WHERE s.id = :late;
