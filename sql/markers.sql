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
