-- Ingest: every validation rule of docs/SPEC.md §3, each with its SQLSTATE and a
-- message that says what and where; none of them writes a row.
SELECT api_key AS key FROM dozor_create_project('errors') \gset
SELECT dozor_row_counts() AS before \gset

CREATE TEMP TABLE bad (name text, body bytea, encoding text);
INSERT INTO bad VALUES
  ('not json',            convert_to('{"sessionId":', 'UTF8'), NULL),
  ('garbage',             convert_to('hello', 'UTF8'), NULL),
  ('trailing',            convert_to('{} {}', 'UTF8'), NULL),
  ('array body',          convert_to('[]', 'UTF8'), NULL),
  ('NaN spelled',         sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[{"type":3,"timestamp":NaN,"data":{}}]'), NULL),
  ('invalid utf8',        '\x7b2273657373696f6e4964223a22ff227d'::bytea, NULL),
  ('raw control char',    convert_to('{"sessionId":"a' || chr(1) || '"}', 'UTF8'), NULL),
  ('unsupported encoding', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]'), 'br'),
  ('gzip claimed, plain', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]'), 'gzip'),
  ('truncated gzip',      substring(dozor_gzip(sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]')) FROM 1 FOR 20), 'gzip'),
  ('gzip trailing junk',  dozor_gzip(sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]')) || '\x0102030405'::bytea, 'gzip'),
  ('no sessionId',        convert_to('{"events":[]}', 'UTF8'), NULL),
  ('sessionId number',    convert_to('{"sessionId":42,"events":[]}', 'UTF8'), NULL),
  ('sessionId short',     sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4', '[]'), NULL),
  ('sessionId not hex',   sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4g', '[]'), NULL),
  ('sessionId version 0', sdk_body('0b6d8a2c-3f1e-0c6a-9d2b-7e5f1a2b3c4d', '[]'), NULL),
  ('sessionId version 9', sdk_body('0b6d8a2c-3f1e-9c6a-9d2b-7e5f1a2b3c4d', '[]'), NULL),
  ('sessionId variant',   sdk_body('0b6d8a2c-3f1e-4c6a-cd2b-7e5f1a2b3c4d', '[]'), NULL),
  ('no events',           convert_to('{"sessionId":"0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d"}', 'UTF8'), NULL),
  ('events object',       sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '{}'), NULL),
  ('event not object',    sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[{"type":3,"timestamp":1,"data":{}},7]'), NULL),
  ('type missing',        sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[{"timestamp":1,"data":{}}]'), NULL),
  ('type string',         sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[{"type":"3","timestamp":1,"data":{}}]'), NULL),
  ('timestamp missing',   sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[{"type":3,"data":{}}]'), NULL),
  ('timestamp string',    sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[{"type":3,"timestamp":"1","data":{}}]'), NULL),
  ('timestamp negative',  sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[{"type":3,"timestamp":-1,"data":{}}]'), NULL),
  ('timestamp 2^53',      sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[{"type":3,"timestamp":9007199254740992,"data":{}}]'), NULL),
  ('timestamp 1e400',     sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[{"type":3,"timestamp":1e400,"data":{}}]'), NULL),
  ('data missing',        sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[{"type":3,"timestamp":1,"data":{}},{"type":3,"timestamp":1}]'), NULL),
  ('metadata array',      sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]', '[]'), NULL),
  ('metadata.url missing', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"referrer":"","userAgent":"x","screenWidth":1,"screenHeight":1,"language":"en"}'), NULL),
  ('metadata.referrer null', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"url":"https://a.b/","referrer":null,"userAgent":"x","screenWidth":1,"screenHeight":1,"language":"en"}'), NULL),
  ('metadata.userAgent number', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"url":"https://a.b/","referrer":"","userAgent":5,"screenWidth":1,"screenHeight":1,"language":"en"}'), NULL),
  ('metadata.screenWidth string', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"url":"https://a.b/","referrer":"","userAgent":"x","screenWidth":"1","screenHeight":1,"language":"en"}'), NULL),
  ('metadata.screenHeight huge', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"url":"https://a.b/","referrer":"","userAgent":"x","screenWidth":1,"screenHeight":1e12,"language":"en"}'), NULL),
  ('metadata.language missing', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"url":"https://a.b/","referrer":"","userAgent":"x","screenWidth":1,"screenHeight":1}'), NULL),
  ('userIdentity string', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"url":"https://a.b/","referrer":"","userAgent":"x","screenWidth":1,"screenHeight":1,"language":"en","userIdentity":"u1"}'), NULL),
  ('userId missing',      sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"url":"https://a.b/","referrer":"","userAgent":"x","screenWidth":1,"screenHeight":1,"language":"en","userIdentity":{}}'), NULL),
  ('userId empty',        sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"url":"https://a.b/","referrer":"","userAgent":"x","screenWidth":1,"screenHeight":1,"language":"en","userIdentity":{"userId":""}}'), NULL),
  ('userId 256 chars',    sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"url":"https://a.b/","referrer":"","userAgent":"x","screenWidth":1,"screenHeight":1,"language":"en","userIdentity":{"userId":"' || repeat('é', 256) || '"}}'), NULL),
  ('traits array',        sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]',
     '{"url":"https://a.b/","referrer":"","userAgent":"x","screenWidth":1,"screenHeight":1,"language":"en","userIdentity":{"userId":"u","traits":[]}}'), NULL),
  ('501 events',          sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
     '[' || (SELECT string_agg('{"type":3,"timestamp":1,"data":{}}', ',') FROM generate_series(1, 501)) || ']'), NULL),
  ('nested 100000',       convert_to('{"sessionId":"0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d","events":[{"type":3,"timestamp":1,"data":'
                             || repeat('[', 100000) || repeat(']', 100000) || '}]}', 'UTF8'), NULL),
  ('body over 10 MiB',    convert_to('{"sessionId":"0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d","events":[],"pad":"' || repeat('x', 10485760) || '"}', 'UTF8'), NULL),
  ('gzip over 10 MiB',    dozor_gzip(convert_to('{"sessionId":"0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d","events":[],"pad":"' || repeat('x', 9000000) || '"}', 'UTF8'))
                          || dozor_gzip(convert_to(repeat(' ', 2000000), 'UTF8')), 'gzip');

SELECT name, expect_error(format('SELECT dozor_ingest(%L, %L::bytea, %L)', :'key', body, encoding)) AS error
FROM bad ORDER BY name;

-- A 1 GiB-inflating bomb, made on the fly: stopped at the cap.
SELECT expect_error(format('SELECT dozor_ingest(%L, %L::bytea, %L)', :'key',
  (WITH member AS (SELECT dozor_gzip(convert_to(repeat('a', 8 * 1024 * 1024), 'UTF8'), 9) AS gz)
   SELECT string_agg(gz, ''::bytea) FROM member, generate_series(1, 128)),
  'gzip')) AS bomb;

-- The key is checked first: 28000 whatever the body.
SELECT expect_error(format('SELECT dozor_ingest(%L, %L::bytea)', 'dp_ffffffffffffffffffffffffffffffff', 'garbage'::bytea)) AS unknown_key;
SELECT expect_error(format('SELECT dozor_ingest(NULL, %L::bytea)', sdk_body('0b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', '[]'))) AS missing_key;
SELECT expect_error(format('SELECT dozor_ingest(%L, NULL)', :'key')) AS null_body;

-- Nothing was written by any of them.
SELECT dozor_row_counts() = :'before' AS nothing_written, dozor_row_counts();
