-- Markers: the session list with its filter, and the pure extractor.
SELECT ingest_events('7b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  evs(o(1000), u(2000, '/a'), i(3000, 'u1', '{"x":1}'),
      '{"type":5,"data":{"tag":"dozor:checkout","payload":{"step":1}},"timestamp":4000}'),
  'https://shop.example/start') AS ms \gset
SELECT * FROM dozor_markers(:ms);
SELECT * FROM dozor_markers(:ms, 'url');
SELECT * FROM dozor_markers(:ms, 'identity');
SELECT count(*) FROM dozor_markers(:ms, '');
SELECT expect_error(format('SELECT * FROM dozor_markers(%s, %L)', :ms, 'checkout'));
SELECT expect_error(format('SELECT * FROM dozor_markers(%s, %L)', :ms, 'URL'));

SELECT * FROM dozor_extract_markers(evs(
  '{"type":5,"data":{"tag":"dozor:late","payload":[1]},"timestamp":9}',
  u(5, '/x'), '{"type":5,"data":{"tag":"dozor:bare"},"timestamp":5}',
  '{"type":5,"data":{"tag":"nope","payload":1},"timestamp":1}',
  '{"type":5,"data":{"tag":"dozor:z","payload":"a\u0000\udc00b"},"timestamp":7}'));

-- Ties follow the stream (docs/SPEC.md §5.2): at one timestamp the session's
-- initial url marker first, then batch order (first_timestamp, id), then
-- position in the batch, whatever order the batches arrive in. The issue's
-- repro: A = [url /x @100, event @200] arrives first, B = [event @50,
-- url /y @100] second; the stream has /y before /x.
SELECT ingest_events('7c6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', evs(u(100, '/x'), o(200))) AS tie \gset
SELECT ingest_events('7c6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', evs(o(50), u(100, '/y'))) = :tie AS same;
SELECT * FROM dozor_markers(:tie);
SELECT * FROM dozor_extract_markers(dozor_events(:tie));
SELECT kind, pathname FROM dozor_history(:tie) ORDER BY started_at, id;
SELECT m->>'timestamp' AS "timestamp", m->'data'->>'pathname' AS pathname
FROM jsonb_array_elements(dozor_session(:tie)->'markers') m;

-- Three batches with url markers tied at 100 (and the initial url marker
-- tied with C's first url marker at 40), sent in all six orders, each
-- with the metadata (the first to arrive fills the session): dozor_markers,
-- the markers of the merged stream and the history feed agree, and give
-- the same list every time.
CREATE FUNCTION marker_tie_session(session_uuid text, arrival text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    sid bigint;
    part text;
BEGIN
    FOREACH part IN ARRAY regexp_split_to_array(arrival, '') LOOP
        sid := ingest_events(session_uuid,
            CASE part
                WHEN 'A' THEN evs(u(100, '/a1'), o(200), u(100, '/a2'))
                WHEN 'B' THEN evs(o(60), u(100, '/b1'), i(100, 'u1'))
                ELSE evs(u(40, '/c1'), u(100, '/c2'), o(150)) END,
            'https://shop.example/start');
    END LOOP;
    RETURN sid;
END
$$;
CREATE FUNCTION marker_list(markers jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg((m->>'timestamp') || ':' || COALESCE(m->'data'->>'pathname', m->'data'->>'userId'), ' ' ORDER BY o)
    FROM jsonb_array_elements(markers) WITH ORDINALITY AS x(m, o)
$$;
CREATE TEMP TABLE marker_tie AS
SELECT n, arrival, marker_tie_session('7d000000-0000-4000-8000-00000000000' || n, arrival) AS s
FROM unnest(ARRAY['ABC', 'ACB', 'BAC', 'BCA', 'CAB', 'CBA']) WITH ORDINALITY AS a(arrival, n);
SELECT arrival,
       marker_list((SELECT jsonb_agg(to_jsonb(m)) FROM dozor_markers(s) m)) AS markers,
       -- the stream holds the batches' markers; the initial one comes first
       marker_list((SELECT jsonb_agg(to_jsonb(m)) FROM dozor_markers(s) m))
         = '40:/start ' || marker_list((SELECT jsonb_agg(to_jsonb(m)) FROM dozor_extract_markers(dozor_events(s)) m)) AS stream_agrees,
       (SELECT string_agg(h.pathname, ' ' ORDER BY h.ordinality) FROM dozor_history(s, false) WITH ORDINALITY AS h
        WHERE h.kind IN ('init', 'navigation'))
         = (SELECT string_agg(m.data->>'pathname', ' ' ORDER BY m.ordinality) FROM dozor_markers(s, 'url') WITH ORDINALITY AS m) AS history_agrees,
       (SELECT first_url || ' ' || array_to_string(pathnames, ' ') FROM dozor.sessions WHERE id = s) AS first_url_pathnames
FROM marker_tie ORDER BY n;
DROP TABLE marker_tie;
DROP FUNCTION marker_tie_session(text, text), marker_list(jsonb);
