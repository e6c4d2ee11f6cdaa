-- PostgREST's path: the extension in its own schema (api), and a caller
-- with an empty search_path calling every read function by qualified name,
-- as PostgREST does. Runs last: it re-creates the extension.
DROP EXTENSION dozor CASCADE;
CREATE SCHEMA api;
CREATE EXTENSION dozor SCHEMA api;
SET search_path = '';

-- Every function a client calls has a description (PostgREST's OpenAPI).
SELECT p.proname FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'api'::pg_catalog.regnamespace
  AND (pg_catalog.has_function_privilege('dozor_admin', p.oid, 'EXECUTE')
       OR pg_catalog.has_function_privilege('dozor_ingest', p.oid, 'EXECUTE'))
  AND p.proname NOT IN ('dozor_new_api_key', 'dozor_api_key_hash', 'dozor_prepare_batch',
                        'dozor_active_ms', 'dozor_activity_run', 'dozor_ms_to_timestamptz',
                        'dozor_cursor_ts_key', 'dozor_cursor_encode', 'dozor_cursor_decode',
                        'dozor_check_page_limit', 'dozor_day', 'dozor_partition_name',
                        'dozor_stream_markers')
  AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL
ORDER BY 1;

SELECT k.api_key AS key FROM api.dozor_create_project('rest') k \gset
SELECT api.dozor_ingest(:'key', pg_catalog.convert_to('{"sessionId":"c0000000-0000-4000-8000-0000000000a1","events":['
  '{"type":4,"data":{"href":"https://shop.example/","width":800,"height":600},"timestamp":1700000000000},'
  '{"type":2,"data":{"node":{}},"timestamp":1700000000001},'
  '{"type":5,"data":{"tag":"dozor:url","payload":{"url":"https://shop.example/cart","pathname":"/cart"}},"timestamp":1700000001000},'
  '{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":"warn","trace":[],"payload":["\"low stock\""]}},"timestamp":1700000002000},'
  '{"type":3,"data":{"source":2,"type":2},"timestamp":1700000100000}],'
  '"metadata":{"url":"https://shop.example/","referrer":"","userAgent":"t","screenWidth":800,"screenHeight":600,"language":"en",'
  '"userIdentity":{"userId":"u-1"}}}', 'UTF8')) AS sid \gset

SELECT pg_catalog.json_array_length(api.dozor_events(:sid)) AS events,
       pg_catalog.json_array_length(api.dozor_events(:sid, true, 30000, 5000, 1700000000000, 1700000002000)) AS window,
       (SELECT pg_catalog.count(*) FROM api.dozor_keyframes(:sid)) AS keyframes,
       (SELECT pg_catalog.count(*) FROM api.dozor_history(:sid)) AS history,
       (SELECT pg_catalog.count(*) FROM api.dozor_console(:sid)) AS console,
       (SELECT pg_catalog.count(*) FROM api.dozor_markers(:sid)) AS markers,
       (SELECT pg_catalog.count(*) FROM api.dozor_session_batches(:sid, NULL, 10)) AS batches,
       api.dozor_to_real(:sid, api.dozor_to_compressed(:sid, 1700000100000)) AS round_trip,
       (api.dozor_session(:sid))->>'url' AS url,
       (SELECT pg_catalog.count(*) FROM api.dozor_sessions()) AS listed,
       (SELECT pg_catalog.count(*) FROM api.dozor_sessions_summary()) AS summary,
       (SELECT pg_catalog.count(*) FROM api.dozor_tracked_users()) AS users,
       (SELECT pg_catalog.count(*) FROM api.dozor_storage()) > 0 AS storage;
SELECT (SELECT pg_catalog.count(*) FROM api.dozor_tracked_user_sessions(u.id)) AS user_sessions
FROM dozor.tracked_users u;
-- the pure functions too
SELECT pg_catalog.json_array_length(api.dozor_compress_events(api.dozor_events(:sid))) AS compressed,
       (SELECT pg_catalog.count(*) FROM api.dozor_extract_markers(api.dozor_events(:sid))) AS markers,
       (SELECT pg_catalog.count(*) FROM api.dozor_build_history(api.dozor_events(:sid))) AS history,
       (SELECT pg_catalog.count(*) FROM api.dozor_console_logs(api.dozor_events(:sid))) AS console,
       api.dozor_url_pathname('https://shop.example/a/b?c') AS pathname,
       pg_catalog.length(api.dozor_gunzip(api.dozor_gzip('\x68656c6c6f'::bytea))) AS gzip_round_trip;
RESET search_path;
