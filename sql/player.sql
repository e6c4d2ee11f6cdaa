-- The player's reads: windows of the stream, keyframes, paged batches.
-- A random session (fixed seed): 6 batches arriving out of order, events
-- out of order inside batches, idle gaps past 30 s, keyframes (types 2 and
-- 4) in several batches.
SELECT setseed(0.14);
CREATE TEMP TABLE player_batches AS
SELECT b, (SELECT json_agg(json_build_object(
            'type', CASE WHEN k % 17 = 0 THEN 4 WHEN k % 17 = 1 THEN 2 ELSE 3 END,
            'data', json_build_object('source', 1, 'n', k),
            'timestamp', 1700000000000 + b * 40000 + (k % 40) * 900 + floor(random() * 700)::int))
           FROM generate_series(b * 100, b * 100 + 39) k) AS events
FROM generate_series(0, 5) b;
SELECT count(DISTINCT ingest_events('9a9e0000-0000-4000-8000-00000000000a', events)) AS one_session
FROM (SELECT events FROM player_batches ORDER BY random()) r;
SELECT id AS ps FROM dozor.sessions WHERE external_id = '9a9e0000-0000-4000-8000-00000000000a' \gset

-- A window is exactly the whole stream's events with floor(timestamp) in
-- [from, to), same bytes, same order: checked for 40 random windows on both
-- timelines (and open ends).
CREATE FUNCTION window_matches(sid bigint, compress boolean, lo double precision, hi double precision)
RETURNS boolean LANGUAGE sql AS $$
    SELECT (SELECT COALESCE(array_agg(e::text ORDER BY n), '{}')
            FROM json_array_elements(dozor_events(sid, compress, 30000, 5000, lo, hi)) WITH ORDINALITY w(e, n))
         = (SELECT COALESCE(array_agg(e::text ORDER BY n), '{}')
            FROM json_array_elements(dozor_events(sid, compress)) WITH ORDINALITY w(e, n)
            WHERE (lo IS NULL OR floor((e->>'timestamp')::float8) >= lo)
              AND (hi IS NULL OR floor((e->>'timestamp')::float8) < hi))
$$;
SELECT compress, count(*) AS windows, bool_and(window_matches(:ps, compress, lo, hi)) AS all_match,
       sum(json_array_length(dozor_events(:ps, compress, 30000, 5000, lo, hi))) > 0 AS non_empty
FROM (SELECT compress, lo, lo + span AS hi
      FROM (VALUES (false), (true)) c(compress),
           LATERAL (SELECT 1700000000000 + random() * 250000 AS lo, random() * 60000 AS span
                    FROM generate_series(1, 20)) w) t
GROUP BY compress ORDER BY compress;
SELECT window_matches(:ps, false, NULL, 1700000100000) AS open_start,
       window_matches(:ps, true, 1700000100000, NULL) AS open_end,
       window_matches(:ps, false, 1700000100000.5, 1700000100000.5) AS empty_window,
       dozor_events(:ps, false, 30000, 5000, NULL, NULL)::text = dozor_events(:ps)::text AS null_bounds_whole;

-- Keyframes: every type 2 and 4 event of the stream, in order, with its
-- timestamp on the chosen timeline, from the indexes alone.
CREATE FUNCTION keyframes_match(sid bigint, compress boolean) RETURNS boolean LANGUAGE sql AS $$
    SELECT (SELECT array_agg(k."timestamp" || ':' || k.type) FROM dozor_keyframes(sid, compress) k)
         = (SELECT array_agg((e->>'timestamp')::float8 || ':' || (e->>'type') ORDER BY n)
            FROM json_array_elements(dozor_events(sid, compress)) WITH ORDINALITY w(e, n)
            WHERE e->>'type' IN ('2', '4'))
$$;
SELECT keyframes_match(:ps, false) AS real_timeline, keyframes_match(:ps, true) AS compressed,
       (SELECT count(*) FROM dozor_keyframes(:ps)) AS keyframes;

-- A window inflates only the batches that overlap it: with the first
-- batch's blob destroyed, a window after it still reads; the whole stream
-- cannot.
CREATE TEMP TABLE first_blob AS
SELECT id, data FROM dozor.event_batches WHERE session_id = :ps ORDER BY first_timestamp LIMIT 1;
UPDATE dozor.event_batches b SET data = '\x1f8b'::bytea WHERE b.id = (SELECT id FROM first_blob);
SELECT json_array_length(dozor_events(:ps, false, 30000, 5000, 1700000150000, 1700000200000)) > 0 AS real_window_reads,
       json_array_length(dozor_events(:ps, true, 30000, 5000, 1700000100000, NULL)) > 0 AS compressed_window_reads;
SELECT regexp_replace(expect_error(format('SELECT dozor_events(%s)', :ps)), 'batch [0-9]+', 'batch N') AS whole_stream;
UPDATE dozor.event_batches b SET data = f.data FROM first_blob f WHERE b.id = f.id;

-- Bad windows are 22023.
SELECT expect_error(format('SELECT dozor_events(%s, false, 30000, 5000, 10, 5)', :ps));
SELECT expect_error(format('SELECT dozor_events(%s, false, 30000, 5000, ''NaN'', NULL)', :ps));
SELECT expect_error(format('SELECT dozor_events(%s, false, 30000, 5000, NULL, ''Infinity'')', :ps));
SELECT expect_error(format('SELECT dozor_events(%s, true, 30000, 5000, ''-Infinity'', 0)', :ps));

-- Paged batches: every page size covers all batches exactly once, in
-- stream order, and the unpaged call is as before (next_cursor NULL).
CREATE FUNCTION all_pages(sid bigint, size integer) RETURNS TABLE (ids bigint[], pages integer)
LANGUAGE plpgsql AS $$
DECLARE
    c text;
    r record;
BEGIN
    ids := '{}';
    pages := 0;
    LOOP
        c := NULL;
        pages := pages + 1;
        FOR r IN SELECT * FROM dozor_session_batches(sid, (SELECT cur FROM pg_temp.cursor_box), size) LOOP
            ids := ids || r.id;
            c := r.next_cursor;
        END LOOP;
        DELETE FROM pg_temp.cursor_box;
        EXIT WHEN c IS NULL;
        INSERT INTO pg_temp.cursor_box VALUES (c);
    END LOOP;
    RETURN NEXT;
END
$$;
CREATE TEMP TABLE cursor_box (cur text);
SELECT size, p.pages, p.ids = (SELECT array_agg(id ORDER BY first_timestamp, id) FROM dozor_session_batches(:ps)) AS covers_all_once
FROM (VALUES (1), (2), (4), (6), (1000)) s(size), LATERAL all_pages(:ps, s.size) p;
SELECT count(*) AS batches, count(next_cursor) AS cursors FROM dozor_session_batches(:ps);
SELECT expect_error(format('SELECT * FROM dozor_session_batches(%s, NULL, 0)', :ps));
SELECT expect_error(format('SELECT * FROM dozor_session_batches(%s, NULL, 1001)', :ps));
SELECT expect_error(format('SELECT * FROM dozor_session_batches(%s, ''not-a-cursor'', 10)', :ps));
-- a cursor only continues the session it came from
SELECT next_cursor AS c1 FROM dozor_session_batches(:ps, NULL, 1) \gset
-- (session ids carry today's date: shown by name)
SELECT replace(replace(expect_error(format('SELECT * FROM dozor_session_batches(%s, %L, 10)', :ps + 1, :'c1')),
               (:ps + 1)::text, 'ps+1'), :ps::text, 'ps') AS expect_error;
