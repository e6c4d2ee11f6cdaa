-- Reads that test/upgrade/capture.sql leaves out, run after it on both the
-- primary and the standby by test/suite.d/57_standby.sh (same settings,
-- same sbt.ids view of session ids).

\echo == dozor_keyframes (real and compressed)
SELECT i.id, k.ordinality, k.timestamp, k.type, c.timestamp, c.type
FROM sbt.ids i,
     LATERAL dozor_keyframes(session_id => i.id) WITH ORDINALITY k
     FULL JOIN LATERAL dozor_keyframes(session_id => i.id, compress_idle => true) WITH ORDINALITY c
          ON c.ordinality = k.ordinality
ORDER BY 1, 2;
-- a window from the second to the tenth second of each session, and an
-- open-ended one from its middle (on the compressed timeline)
\echo == dozor_events (windows)
SELECT i.id, md5(dozor_events(session_id => i.id, from_ms => t.s + 1000, to_ms => t.s + 10000)::text),
       md5(dozor_events(session_id => i.id, compress_idle => true, from_ms => t.s + (t.e - t.s) / 2)::text)
FROM sbt.ids i JOIN dozor.sessions s ON s.id = i.id,
     LATERAL (SELECT extract(epoch FROM s.started_at) * 1000 AS s, extract(epoch FROM s.ended_at) * 1000 AS e) t
ORDER BY 1;
\echo == dozor_session_batches (pages of 2, following next_cursor)
SELECT i.id, p.* FROM sbt.ids i,
     LATERAL sbt.pages(format('dozor_session_batches(session_id => %s, page_limit => %%s, cursor => %%L)', i.id), 2)
             WITH ORDINALITY p
ORDER BY 1, p.ordinality;
-- (an operator's function: the viewer may not call it)
SELECT has_function_privilege('dozor_storage()', 'EXECUTE') AS may_storage \gset
\if :may_storage
\echo == dozor_storage
SELECT * FROM dozor_storage();
\endif
