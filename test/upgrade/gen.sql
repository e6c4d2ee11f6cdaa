-- Event and body builders for the upgrade test (psql \i; temporary, so they
-- never become part of the database the test compares). Everything is a
-- function of its arguments: the same calls give the same bytes, in any
-- version. Only the API of 0.1.0 is used (dozor_ingest, dozor_gzip).
-- (send() reads upg_keys, which the caller creates: checked at call time.)
SET check_function_bodies = off;

-- A valid version-4 session uuid numbered n.
CREATE FUNCTION pg_temp.sid(n integer) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT format('%s-5e55-4%s-8%s-%s', lpad(to_hex(n), 8, '0'), lpad(to_hex(n), 3, '0'),
                 lpad(to_hex(n), 3, '0'), lpad(to_hex(n * 7919), 12, '0')) $$;

CREATE FUNCTION pg_temp.meta(ts bigint, href text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT format('{"type":4,"data":{"href":%s,"width":1280,"height":720},"timestamp":%s}', to_json(href), ts) $$;

-- A FullSnapshot of a small page whose texts depend on seed.
CREATE FUNCTION pg_temp.full(ts bigint, seed text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT format('{"type":2,"data":{"node":{"type":0,"childNodes":[{"type":2,"tagName":"html","attributes":{"lang":"en"},'
                 '"childNodes":[{"type":2,"tagName":"body","attributes":{"class":"p-4"},"childNodes":['
                 '{"type":3,"textContent":"%s","id":4},{"type":2,"tagName":"button","attributes":{},"childNodes":[],"id":5},'
                 '{"type":2,"tagName":"input","attributes":{"type":"text"},"childNodes":[],"id":6}],"id":3}],"id":2}],"id":1},'
                 '"initialOffset":{"left":0,"top":0}},"timestamp":%s}',
                 md5(seed) || ' ' || md5(seed || 'x'), ts) $$;

-- One IncrementalSnapshot of kind i % 6: mutation, mouse move, click,
-- scroll, input, viewport resize.
CREATE FUNCTION pg_temp.inc(ts bigint, i integer) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT format('{"type":3,"data":%s,"timestamp":%s}', CASE i % 6
       WHEN 0 THEN format('{"source":0,"texts":[{"id":4,"value":"t%s"}],"attributes":[],"removes":[],"adds":[]}', i)
       WHEN 1 THEN format('{"source":1,"positions":[{"x":%s,"y":%s,"id":5,"timeOffset":-20}]}', i % 1280, i % 720)
       WHEN 2 THEN '{"source":2,"type":2,"id":5,"x":10,"y":20}'
       WHEN 3 THEN format('{"source":3,"id":1,"x":0,"y":%s}', i * 7 % 4000)
       WHEN 4 THEN '{"source":5,"text":"***","isChecked":false,"id":6}'
       ELSE '{"source":4,"width":1280,"height":720}' END, ts) $$;

-- n interaction events from t0, step ms apart.
CREATE FUNCTION pg_temp.activity(t0 bigint, n integer, step integer) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT string_agg(pg_temp.inc(t0 + i * step, i), ',' ORDER BY i) FROM generate_series(0, n - 1) i $$;

CREATE FUNCTION pg_temp.url(ts bigint, path text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT format('{"type":5,"data":{"tag":"dozor:url","payload":{"url":%s,"pathname":%s}},"timestamp":%s}',
                 to_json('https://shop.example' || path), to_json(path), ts) $$;

CREATE FUNCTION pg_temp.ident(ts bigint, user_id text, traits text DEFAULT NULL) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT format('{"type":5,"data":{"tag":"dozor:identity","payload":{"userId":%s%s}},"timestamp":%s}',
                 to_json(user_id), CASE WHEN traits IS NULL THEN '' ELSE ',"traits":' || traits END, ts) $$;

CREATE FUNCTION pg_temp.custom(ts bigint, tag text, payload text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT format('{"type":5,"data":{"tag":%s,"payload":%s},"timestamp":%s}', to_json(tag), payload, ts) $$;

-- A console entry; args is a JSON array text.
CREATE FUNCTION pg_temp.con(ts bigint, level text, args text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT format('{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":%s,"trace":["at f (https://shop.example/app.js:1:2)"],"payload":%s}},"timestamp":%s}',
                 to_json(level), args, ts) $$;

-- One entry of every console level rrweb's plugin records, 200 ms apart.
CREATE FUNCTION pg_temp.every_level(t0 bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT string_agg(pg_temp.con(t0 + k * 200, l, format('["%s %s"]', l, k)), ',' ORDER BY k)
   FROM unnest(ARRAY['assert', 'clear', 'count', 'countReset', 'debug', 'dir', 'dirxml', 'error', 'group',
                     'groupCollapsed', 'groupEnd', 'info', 'log', 'table', 'time', 'timeEnd', 'timeLog',
                     'trace', 'warn']) WITH ORDINALITY AS v(l, k) $$;

CREATE FUNCTION pg_temp.metadata(url text, user_id text DEFAULT NULL, traits text DEFAULT NULL) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT format('{"url":%s,"referrer":"https://search.example/","userAgent":"Mozilla/5.0 (upgrade test)",'
                 '"screenWidth":1280,"screenHeight":720,"language":"en-US"%s}', to_json(url),
                 CASE WHEN user_id IS NULL THEN '' ELSE format(',"userIdentity":{"userId":%s%s}', to_json(user_id),
                      CASE WHEN traits IS NULL THEN '' ELSE ',"traits":' || traits END) END) $$;

-- One SDK request: the body as the SDK builds it, gzip'd or plain.
CREATE FUNCTION pg_temp.body(session_n integer, events text, metadata text DEFAULT NULL) RETURNS bytea
LANGUAGE sql IMMUTABLE AS
$$ SELECT convert_to(format('{"sessionId":"%s","events":[%s]%s}', pg_temp.sid(session_n), COALESCE(events, ''),
                            CASE WHEN metadata IS NULL THEN '' ELSE ',"metadata":' || metadata END), 'UTF8') $$;

CREATE FUNCTION pg_temp.send(project text, session_n integer, events text, metadata text DEFAULT NULL,
                             gz boolean DEFAULT true) RETURNS bigint
LANGUAGE sql AS
$$ SELECT dozor_ingest((SELECT k.api_key FROM upg_keys k WHERE k.project = send.project),
                       CASE WHEN gz THEN dozor_gzip(pg_temp.body(session_n, events, metadata))
                            ELSE pg_temp.body(session_n, events, metadata) END,
                       CASE WHEN gz THEN 'gzip' END) $$;
