-- verify.sql — consistency of everything the load run stored, as rows
-- "check|violations|detail" (test/load/load.sh fails on any violation;
-- "unacked" is allowed after a crash: committed, but the reply was lost).
-- Reading every session through dozor_events and dozor_history also makes
-- every stored batch inflate and every index decode: a corrupt or
-- half-written batch would stop this script with XX001.
\pset format unaligned
\pset tuples_only on
\set ON_ERROR_STOP 1
UPDATE load.acked SET sid = load.session_uuid(client, sess) WHERE sid IS NULL;
ANALYZE load.acked;

WITH s AS (
    SELECT s.id, s.event_count, s.started_at, s.ended_at,
           (SELECT sum(b.event_count) FROM dozor.event_batches b WHERE b.session_id = s.id) AS batch_events,
           (SELECT count(*) FROM dozor.event_batches b WHERE b.session_id = s.id) AS batches,
           (SELECT min(b.first_timestamp) FROM dozor.event_batches b WHERE b.session_id = s.id) AS first_ts,
           (SELECT max(b.last_timestamp) FROM dozor.event_batches b WHERE b.session_id = s.id) AS last_ts
    FROM dozor.sessions s
), streams AS (
    SELECT s.id, s.event_count, json_array_length(dozor_events(s.id)) AS stream_len,
           (SELECT count(*) FROM dozor_history(s.id)) AS history_rows
    FROM dozor.sessions s
)
SELECT 'sessions', count(*), '' FROM dozor.sessions
UNION ALL SELECT 'batches', count(*), '' FROM dozor.event_batches
UNION ALL SELECT 'events', COALESCE(sum(event_count), 0), '' FROM dozor.event_batches
UNION ALL SELECT 'acked', count(*), '' FROM load.acked
-- every session's event_count is the sum over its batches, and its stream that long
UNION ALL SELECT 'violation:session_count_vs_batches', count(*), string_agg(id::text, ',')
          FROM s WHERE event_count IS DISTINCT FROM batch_events
UNION ALL SELECT 'violation:stream_length', count(*), string_agg(id::text, ',')
          FROM streams WHERE stream_len IS DISTINCT FROM event_count OR history_rows = 0
-- a session exists only with its first batch (they commit together)
UNION ALL SELECT 'violation:session_without_batches', count(*), string_agg(id::text, ',') FROM s WHERE batches = 0
-- the session window is exactly its batches' window
UNION ALL SELECT 'violation:session_window', count(*), string_agg(id::text, ',')
          FROM s WHERE started_at <> dozor_ms_to_timestamptz(first_ts) OR ended_at <> dozor_ms_to_timestamptz(last_ts)
-- each batch is a whole template: its events and its markers, nothing more
UNION ALL SELECT 'violation:batch_not_a_template', count(*), string_agg(b.id::text, ',')
          FROM dozor.event_batches b LEFT JOIN load.templates t ON t.first_ts = b.first_timestamp
          WHERE t.first_ts IS NULL OR b.event_count <> t.events
             OR (SELECT count(*) FROM dozor.markers m WHERE m.batch_id = b.id) <> t.markers
UNION ALL SELECT 'violation:duplicate_markers', count(*), '' FROM
          (SELECT 1 FROM dozor.markers WHERE batch_id IS NOT NULL GROUP BY batch_id, event_index HAVING count(*) > 1) d
UNION ALL SELECT 'violation:initial_url_markers', count(*), string_agg(id::text, ',') FROM
          (SELECT s.id FROM dozor.sessions s
           WHERE (SELECT count(*) FROM dozor.markers m WHERE m.session_id = s.id AND m.batch_id IS NULL) <> 1) d
UNION ALL SELECT 'violation:duplicate_batches', count(*), '' FROM
          (SELECT 1 FROM dozor.event_batches GROUP BY session_id, first_timestamp HAVING count(*) > 1) d
-- every batch pgbench saw acknowledged is there
UNION ALL SELECT 'violation:lost_acked_batch', count(*), string_agg(a.client || '/' || a.sess || '/' || a.batch, ',')
          FROM load.acked a
          WHERE NOT EXISTS (SELECT 1 FROM dozor.sessions s
                            JOIN dozor.event_batches b ON b.session_id = s.id
                            JOIN load.templates t ON t.first_ts = b.first_timestamp
                            WHERE s.external_id = a.sid AND t.batch_no = a.batch)
-- stored but never acknowledged (in flight at a crash; none otherwise)
UNION ALL SELECT 'unacked', count(*), '' FROM dozor.event_batches b
          JOIN dozor.sessions s ON s.id = b.session_id
          JOIN load.templates t ON t.first_ts = b.first_timestamp
          WHERE NOT EXISTS (SELECT 1 FROM load.acked a WHERE a.sid = s.external_id AND a.batch = t.batch_no);
