-- The merged stream (docs/SPEC.md §5.1) and the batches endpoint.
SELECT ingest_events('5b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  '[{"type":3,"timestamp":300,"data":{"n":"b1-0"}}, {"type":3,"timestamp":100,"data":{"n":"b1-1"}},{"timestamp":300,"type":3,"data":{"n":"b1-2"}}]') AS es \gset
SELECT ingest_events('5b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  '[{"type":3,"timestamp":200,"data":{"n":"b2-0"}},{"type":3,"timestamp":300,"data":{"n":"b2-1"}}]') = :es;
SELECT ingest_events('5b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d',
  '[{"type":3,"timestamp":100,"data":{"n":"b3-0"}}]') = :es;
-- Batches by (first_timestamp, id): b1 (100), b3 (100), b2 (200); ties keep
-- batch order then position.
SELECT dozor_events(:es);
SELECT id IS NOT NULL AS has_id, first_timestamp, last_timestamp, event_count,
       convert_from(dozor_gunzip(decode(data, 'base64')), 'UTF8') AS events
FROM dozor_session_batches(:es);
SELECT dozor_events(-1) IS NULL AS missing_session_is_null;

-- Property: the merged stream has exactly the ingested events, each
-- byte-identical, stably sorted (many random batches, overlapping).
SELECT setseed(0.7);
CREATE TEMP TABLE sent AS
SELECT b, k, format('{"type":3,"timestamp":%s,"data":{"b":%s,"k":%s,"pad":"%s"}}',
                    (random() * 1000)::int, b, k, repeat('x', (random() * 50)::int)) AS ev
FROM generate_series(1, 30) b, generate_series(1, (random() * 40)::int + 1) k;
SELECT count(*) FILTER (WHERE ingest_events('6b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', ('[' || evs || ']')::json) IS NULL) AS failures
FROM (SELECT b, string_agg(ev, ',' ORDER BY k) AS evs FROM sent GROUP BY b ORDER BY b) x;
WITH s AS (SELECT id FROM dozor.sessions WHERE external_id = '6b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d'),
got AS (SELECT ord, v::text AS ev FROM s, json_array_elements(dozor_events(s.id)) WITH ORDINALITY AS a(v, ord)),
want AS (
  SELECT row_number() OVER (ORDER BY (ev::json->>'timestamp')::int, bo.first_ts, bo.bid, k) AS ord, ev
  FROM sent JOIN (SELECT b, min((ev::json->>'timestamp')::int) AS first_ts, b AS bid FROM sent GROUP BY b) bo USING (b))
SELECT (SELECT count(*) FROM got) AS got, (SELECT count(*) FROM want) AS want,
       (SELECT count(*) FROM got JOIN want USING (ord) WHERE got.ev = want.ev) AS identical;

-- Property: batches disjoint in time but out of order inside (events stamped
-- a little early, equal timestamps, one batch reversed) are each reordered
-- whole, byte-identical and stable.
SELECT setseed(0.3);
CREATE TEMP TABLE sent2 AS
SELECT b, k, format('{"type":3,"timestamp":%s,"data":{"b":%s,"k":%s,"pad":"%s"}}',
                    CASE WHEN b = 7 THEN b * 10000 + (60 - k) * 20
                         WHEN random() < 0.2 THEN b * 10000 + 100 + k * 20 - (random() * 120)::int
                         ELSE b * 10000 + 100 + (k / 3) * 60 END,
                    b, k, repeat('y', (random() * 30)::int)) AS ev
FROM generate_series(1, 20) b, generate_series(1, 60) k;
SELECT count(*) FILTER (WHERE ingest_events('7b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d', ('[' || evs || ']')::json) IS NULL) AS failures
FROM (SELECT b, string_agg(ev, ',' ORDER BY k) AS evs FROM sent2 GROUP BY b ORDER BY b) x;
WITH s AS (SELECT id FROM dozor.sessions WHERE external_id = '7b6d8a2c-3f1e-4c6a-9d2b-7e5f1a2b3c4d'),
got AS (SELECT ord, v::text AS ev FROM s, json_array_elements(dozor_events(s.id)) WITH ORDINALITY AS a(v, ord)),
want AS (SELECT row_number() OVER (ORDER BY (ev::json->>'timestamp')::int, b, k) AS ord, ev FROM sent2)
SELECT (SELECT count(*) FROM got) AS got, (SELECT count(*) FROM want) AS want,
       (SELECT count(*) FROM got JOIN want USING (ord) WHERE got.ev = want.ev) AS identical;
