-- Console feed: docs/HISTORY.md §4.
SELECT * FROM dozor_console_logs(evs(
  o(1000),
  c(2000, 'warn', '["a",{"b":1}]'),
  '{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"trace":[],"payload":["no level"]}},"timestamp":3000}',
  '{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":7,"payload":"not an array"}},"timestamp":4000}',
  '{"type":6,"data":{"plugin":"rrweb/console@1","payload":{"level":"error","payload":[null,1.5,"x\u0000y\ud800"],"trace":["t1","t2"]}},"timestamp":5000}',
  c(6000, 'table', '[]')));

-- Not console entries: other plugins, falsy payloads.
SELECT count(*) FROM dozor_console_logs(evs(o(0),
  '{"type":6,"data":{"plugin":"rrweb/console@1","payload":null},"timestamp":1}',
  '{"type":6,"data":{"plugin":"rrweb/console@1","payload":0},"timestamp":2}',
  '{"type":6,"data":{"plugin":"rrweb/console@1","payload":""},"timestamp":3}',
  '{"type":6,"data":{"plugin":"rrweb/console@1","payload":false},"timestamp":4}',
  '{"type":6,"data":{"plugin":"rrweb/console@1"},"timestamp":5}',
  '{"type":6,"data":{"plugin":"rrweb/network@1","payload":{}},"timestamp":6}'));

-- On the compressed timeline, offsets from the first event.
SELECT time_offset, timestamp, level FROM dozor_console_logs(evs(o(100), c(200), c(1000000), o(1000100)), true);

-- Stored sessions: only batches holding console entries are inflated.
SELECT ingest_events('4b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', evs(o(1000), c(1500, 'info', '["first"]'))) AS cs \gset
SELECT ingest_events('4b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', evs(o(100000), c(100001, 'error', '["second"]'), o(200000))) = :cs;
SELECT ingest_events('4b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', evs(o(300000), o(400000))) = :cs;
SELECT console_count FROM dozor.event_batches WHERE session_id = :cs ORDER BY first_timestamp;
SELECT * FROM dozor_console(:cs);
SELECT * FROM dozor_console(:cs, compress_idle => false);
