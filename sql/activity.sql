-- Activity summary computed at ingest: known answers, batches arriving out
-- of order, a retried batch, and a cross-check against the merged stream.
CREATE FUNCTION click(ts bigint) RETURNS text LANGUAGE sql AS
$$ SELECT format('{"type":3,"data":{"source":2,"type":2,"id":5,"x":1,"y":2},"timestamp":%s}', ts) $$;
CREATE FUNCTION typing(ts bigint) RETURNS text LANGUAGE sql AS
$$ SELECT format('{"type":3,"data":{"source":5,"text":"***","isChecked":false,"id":9},"timestamp":%s}', ts) $$;
CREATE FUNCTION mutation(ts bigint) RETURNS text LANGUAGE sql AS
$$ SELECT format('{"type":3,"data":{"source":0,"texts":[],"attributes":[],"removes":[],"adds":[]},"timestamp":%s}', ts) $$;

-- Batch B (late, sent first), C, then A, then A again (a retry).
SELECT ingest_events('8b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  evs(o(1007000), mutation(1010000), o(1020000), u(1020001, '/a'), u(1030000, '/b'), c(1030001, 'warn'), c(1030002, 'assert')),
  'https://shop.example/start') AS act \gset
SELECT ingest_events('8b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', evs(click(1005000), typing(1005500), c(1005600, 'error'), c(1005700, 'info'))) = :act;
SELECT ingest_events('8b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', evs(o(1000000), o(1001000), o(1003000), u(1003001, '/a'))) = :act;
SELECT ingest_events('8b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', evs(o(1000000), o(1001000), o(1003000), u(1003001, '/a'))) = :act;
-- Interactions 1000000 1001000 1003000 1005000 1005500 1007000 | 1020000:
-- active = 7000; the mutation is not an interaction. The session's url
-- marker follows the session's start down to 1000000 when the late batch
-- arrives, so /start stays the first pathname and first_url.
SELECT active_ms, click_count, keypress_count, mouse_activity_count,
       console_log_count, console_warn_count, console_error_count,
       page_count, pathnames, first_url, size_bytes = (SELECT sum(length(data)) FROM dozor.event_batches WHERE session_id = :act) AS size_ok
FROM dozor.sessions WHERE id = :act;

-- A lone interaction is not active time; gaps of exactly 5000 ms are not.
SELECT ingest_events('9b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', evs(o(0), o(5000), o(10000), mutation(10001))) AS lone \gset
SELECT active_ms, mouse_activity_count FROM dozor.sessions WHERE id = :lone;

-- Cross-check on random sessions: the summary equals the rule applied to
-- the merged stream, whatever the batch order.
SELECT setseed(0.3);
CREATE TEMP TABLE act_batches AS
SELECT s, b, '[' || string_agg(
         CASE WHEN random() < 0.8 THEN o(t) WHEN random() < 0.5 THEN click(t) ELSE mutation(t) END, ',' ORDER BY t) || ']' AS evs
FROM generate_series(1, 5) s, generate_series(1, 6) b,
     LATERAL (SELECT (random() * 120000)::bigint AS t FROM generate_series(1, 15) WHERE b > 0) x
GROUP BY s, b;
SELECT count(*) FILTER (WHERE ingest_events(format('ab6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c%s', lpad(s::text, 2, '0')), evs::json) IS NULL) AS failures
FROM (SELECT * FROM act_batches ORDER BY random()) x;
WITH s AS (SELECT id, active_ms, click_count FROM dozor.sessions WHERE external_id::text LIKE 'ab6d8a2c%'),
ev AS (
  SELECT s.id, (e->>'timestamp')::bigint AS t, (e->'data'->>'source')::int AS source, (e->'data'->>'type')::int AS itype
  FROM s, json_array_elements(dozor_events(s.id)) e WHERE (e->>'type')::int = 3),
inter AS (SELECT id, t - lag(t) OVER (PARTITION BY id ORDER BY t) AS gap FROM ev WHERE source IN (1, 2, 3, 4, 5, 6, 7, 12)),
want AS (SELECT id, COALESCE(sum(gap) FILTER (WHERE gap < 5000), 0) AS active FROM inter GROUP BY id)
SELECT count(*) AS sessions,
       count(*) FILTER (WHERE s.active_ms = w.active) AS active_ms_ok,
       count(*) FILTER (WHERE s.click_count = (SELECT count(*) FROM ev WHERE ev.id = s.id AND source = 2 AND itype IN (2, 4))) AS clicks_ok
FROM s JOIN want w USING (id);

-- Runs are stored as [first, last + 4999): a lone interaction is 0 ms,
-- two 3 s apart are 3000 ms; a hostile range is an error, not a wrap.
SELECT dozor_active_ms('{[1000,5999)}') AS lone, dozor_active_ms('{[1000,8999)}') AS three_s,
       dozor_active_ms('{}') AS none;
SELECT expect_error($$SELECT dozor_active_ms('{[-9223372036854775808,9223372036854775807)}')$$);
