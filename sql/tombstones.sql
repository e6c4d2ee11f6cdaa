-- Cancelled sessions stay cancelled: dozor_cancel_session
-- leaves a tombstone, a later batch of that session is acknowledged and
-- discarded (dozor_ingest returns NULL, nothing is stored), dozor_cleanup
-- expires tombstones. The races are test/suite.d/20_tombstone_race.sh's.

SELECT project_id AS pa, api_key AS ka FROM dozor_create_project('tombstones a') \gset
SELECT project_id AS pb, api_key AS kb FROM dozor_create_project('tombstones b') \gset
CREATE FUNCTION tomb_body(session_uuid text, ts bigint) RETURNS bytea LANGUAGE sql AS $$
    SELECT sdk_body(session_uuid, evs(o(ts), u(ts + 1, '/late'))::text,
        '{"url":"https://shop.example/","referrer":"","userAgent":"t","screenWidth":1,"screenHeight":1,"language":"en"}')
$$;
-- Rows of one session uuid in every table, tombstones included.
CREATE FUNCTION tomb_rows(session_uuid uuid) RETURNS text LANGUAGE sql AS $$
    SELECT format('sessions=%s batches=%s markers=%s tombstones=%s',
        (SELECT count(*) FROM dozor.sessions WHERE external_id = session_uuid),
        (SELECT count(*) FROM dozor.event_batches b JOIN dozor.sessions s ON s.id = b.session_id WHERE s.external_id = session_uuid),
        (SELECT count(*) FROM dozor.markers m JOIN dozor.sessions s ON s.id = m.session_id WHERE s.external_id = session_uuid),
        (SELECT count(*) FROM dozor.session_tombstones WHERE external_id = session_uuid))
$$;

-- Ingest, cancel, then the batch that was in flight: plain, gzip, an
-- empty ping, and a retry of a batch stored before the cancel.
SELECT dozor_ingest(:'ka', tomb_body('c0000000-0000-4000-8000-000000000001', 1700000000000)) IS NOT NULL AS ingested;
SELECT tomb_rows('c0000000-0000-4000-8000-000000000001');
SELECT dozor_cancel_session(:'ka', 'c0000000-0000-4000-8000-000000000001');
SELECT tomb_rows('c0000000-0000-4000-8000-000000000001');
SELECT dozor_ingest(:'ka', tomb_body('c0000000-0000-4000-8000-000000000001', 1700000005000)) AS late_plain,
       dozor_ingest(:'ka', dozor_gzip(tomb_body('c0000000-0000-4000-8000-000000000001', 1700000006000)), 'gzip') AS late_gzip,
       dozor_ingest(:'ka', sdk_body('c0000000-0000-4000-8000-000000000001', '[]')) AS late_ping,
       dozor_ingest(:'ka', tomb_body('c0000000-0000-4000-8000-000000000001', 1700000000000)) AS retried;
SELECT tomb_rows('c0000000-0000-4000-8000-000000000001');
-- a late batch is still validated: a broken one is an error, not a 204
SELECT expect_error(format('SELECT dozor_ingest(%L, %L::bytea)', :'ka',
    sdk_body('c0000000-0000-4000-8000-000000000001', '[{"type":3}]')));
SELECT expect_error(format('SELECT dozor_ingest(%L, %L::bytea, %L)', :'ka',
    tomb_body('c0000000-0000-4000-8000-000000000001', 1), 'gzip'));

-- A cancel that overtakes the session's first batch leaves the tombstone
-- all the same; the session is never created.
SELECT dozor_cancel_session(:'ka', 'c0000000-0000-4000-8000-000000000002');
SELECT dozor_ingest(:'ka', tomb_body('c0000000-0000-4000-8000-000000000002', 1700000000000)) AS first_batch;
SELECT tomb_rows('c0000000-0000-4000-8000-000000000002');

-- The tombstone is the project's: B's session of the same uuid is created,
-- grows and is cancelled on its own key only.
SELECT dozor_ingest(:'kb', tomb_body('c0000000-0000-4000-8000-000000000001', 1700000000000)) IS NOT NULL AS b_ingested,
       dozor_ingest(:'kb', tomb_body('c0000000-0000-4000-8000-000000000001', 1700000009000)) IS NOT NULL AS b_grows;
SELECT p.name, s.event_count FROM dozor.sessions s JOIN dozor.projects p ON p.id = s.project_id
WHERE s.external_id = 'c0000000-0000-4000-8000-000000000001';
SELECT p.name, t.external_id FROM dozor.session_tombstones t JOIN dozor.projects p ON p.id = t.project_id
WHERE t.project_id IN (:pa, :pb) ORDER BY 1, 2;

-- A cancel names its session; a bad key is 28000 and leaves no tombstone.
SELECT expect_error(format('SELECT dozor_cancel_session(%L, NULL)', :'ka'));
SELECT expect_error(format('SELECT dozor_cancel_session(%L, %L)', 'dp_00000000000000000000000000000000',
                           'c0000000-0000-4000-8000-000000000003'));
SELECT tomb_rows('c0000000-0000-4000-8000-000000000003');

-- The dashboard's delete leaves no tombstone (README: it deletes what is
-- stored; the live SDK may go on recording the session).
SELECT dozor_ingest(:'ka', tomb_body('c0000000-0000-4000-8000-000000000004', 1700000000000)) AS del \gset
SELECT dozor_delete_session(:del) AS deleted;
SELECT dozor_ingest(:'ka', tomb_body('c0000000-0000-4000-8000-000000000004', 1700000005000)) IS NOT NULL AS recreated;
SELECT tomb_rows('c0000000-0000-4000-8000-000000000004');

-- Ingest, cancel and erasure lock on (project, session) and refuse
-- REPEATABLE READ, whose snapshot predates the wait for the lock.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT expect_error(format('SELECT dozor_ingest(%L, %L::bytea)', :'ka',
    tomb_body('c0000000-0000-4000-8000-000000000005', 1700000000000)));
SELECT expect_error(format('SELECT dozor_cancel_session(%L, %L)', :'ka', 'c0000000-0000-4000-8000-000000000005'));
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT dozor_ingest(:'ka', tomb_body('c0000000-0000-4000-8000-000000000005', 1700000000000)) IS NOT NULL AS serializable_ok;
ROLLBACK;
SELECT expect_error('SELECT dozor_lock(''row'', 1, ''x'')');
SELECT expect_error('SELECT dozor_lock(''session'', NULL, ''x'')');

-- Expiry: dozor_cleanup removes tombstones older than tombstone_ttl
-- (7 days by default); until then they discard. Afterwards the uuid is a
-- new session again.
UPDATE dozor.session_tombstones SET created_at = now() - interval '8 days'
WHERE project_id = :pa AND external_id = 'c0000000-0000-4000-8000-000000000001';
UPDATE dozor.session_tombstones SET created_at = now() - interval '6 days'
WHERE project_id = :pa AND external_id = 'c0000000-0000-4000-8000-000000000002';
SELECT dozor_ingest(:'ka', tomb_body('c0000000-0000-4000-8000-000000000001', 1700000000000)) AS expired_not_yet_removed;
SELECT dozor_cleanup('90 days') AS sessions_deleted;
SELECT t.external_id, now() - t.created_at > interval '1 day' AS old FROM dozor.session_tombstones t
WHERE t.project_id = :pa ORDER BY 1;
SELECT dozor_ingest(:'ka', tomb_body('c0000000-0000-4000-8000-000000000001', 1700000000000)) IS NOT NULL AS new_again,
       dozor_ingest(:'ka', tomb_body('c0000000-0000-4000-8000-000000000002', 1700000000000)) AS still_discarded;
SELECT dozor_cleanup('90 days', tombstone_ttl => '5 days') AS sessions_deleted;
SELECT count(*) AS a_tombstones FROM dozor.session_tombstones WHERE project_id = :pa;
SELECT dozor_expire_tombstones('0 days') >= 0 AS expired_all;
SELECT count(*) AS a_tombstones FROM dozor.session_tombstones WHERE project_id = :pa;
SELECT expect_error('SELECT dozor_cleanup(''90 days'', NULL)');
SELECT expect_error('SELECT dozor_cleanup(''90 days'', ''-1 day'')');
SELECT expect_error('SELECT dozor_expire_tombstones(''-1 second'')');

-------------------------------------------------------------------------------
-- Erasure of a person (GDPR art. 17)
-------------------------------------------------------------------------------

-- In A: alice with two sessions, bob with one; in B: another alice (same
-- external id) with one. Each session has url, identity and custom markers.
CREATE FUNCTION erase_body(session_uuid text, user_id text) RETURNS bytea LANGUAGE sql AS $$
    SELECT sdk_body(session_uuid,
        evs(o(1700000000000), u(1700000001000, '/cart'), c(1700000002000, 'error'),
            i(1700000003000, user_id), '{"type":5,"data":{"tag":"dozor:step","payload":1},"timestamp":1700000004000}')::text,
        '{"url":"https://shop.example/","referrer":"","userAgent":"t","screenWidth":1,"screenHeight":1,"language":"en",'
        || '"userIdentity":{"userId":' || to_json(user_id)::text || ',"traits":{"plan":"pro"}}}')
$$;
SELECT dozor_ingest(:'ka', erase_body('e0000000-0000-4000-8000-000000000001', 'alice')) IS NOT NULL,
       dozor_ingest(:'ka', erase_body('e0000000-0000-4000-8000-000000000002', 'alice')) IS NOT NULL,
       dozor_ingest(:'ka', erase_body('e0000000-0000-4000-8000-000000000003', 'bob')) IS NOT NULL,
       dozor_ingest(:'kb', erase_body('e0000000-0000-4000-8000-000000000001', 'alice')) IS NOT NULL;
-- a later batch without identity of alice's first session
SELECT dozor_ingest(:'ka', tomb_body('e0000000-0000-4000-8000-000000000001', 1700000010000)) IS NOT NULL;
CREATE FUNCTION erase_state() RETURNS TABLE (project text, user_id text, sessions bigint, batches bigint,
                                              markers bigint, tombstones bigint)
LANGUAGE sql AS $$
    SELECT p.name, u.external_id,
           (SELECT count(*) FROM dozor.sessions s WHERE s.tracked_user_id = u.id),
           (SELECT count(*) FROM dozor.event_batches b JOIN dozor.sessions s ON s.id = b.session_id WHERE s.tracked_user_id = u.id),
           (SELECT count(*) FROM dozor.markers m JOIN dozor.sessions s ON s.id = m.session_id WHERE s.tracked_user_id = u.id),
           NULL::bigint
    FROM dozor.tracked_users u JOIN dozor.projects p ON p.id = u.project_id
    WHERE p.name LIKE 'tombstones %'
    UNION ALL
    SELECT p.name, '(tombstones)', NULL, NULL, NULL, count(t.*)
    FROM dozor.projects p LEFT JOIN dozor.session_tombstones t ON t.project_id = p.id AND t.external_id::text LIKE 'e0%'
    WHERE p.name LIKE 'tombstones %' GROUP BY p.name
    ORDER BY 1, 2
$$;
SELECT * FROM erase_state();
SELECT dozor_erase_user(:pa, 'alice') AS sessions_removed;
SELECT * FROM erase_state();
SELECT t.external_id FROM dozor.session_tombstones t WHERE t.project_id = :pa AND t.external_id::text LIKE 'e0%' ORDER BY 1;
-- nothing of alice in A is left anywhere: her sessions' rows are gone
SELECT tomb_rows('e0000000-0000-4000-8000-000000000002');
SELECT count(*) AS a_sessions_of_uuid_1 FROM dozor.sessions
WHERE project_id = :pa AND external_id = 'e0000000-0000-4000-8000-000000000001';
-- batches in flight for her sessions are discarded, with or without identity
SELECT dozor_ingest(:'ka', tomb_body('e0000000-0000-4000-8000-000000000001', 1700000020000)) AS late,
       dozor_ingest(:'ka', erase_body('e0000000-0000-4000-8000-000000000002', 'alice')) AS late_identified;
SELECT count(*) AS alice_in_a FROM dozor.tracked_users WHERE project_id = :pa AND external_id = 'alice';
-- again: nothing to erase; an unknown user likewise
SELECT dozor_erase_user(:pa, 'alice') AS again, dozor_erase_user(:pa, 'nobody') AS unknown;
-- after the erasure, alice identifying in a new session is a new user
SELECT dozor_ingest(:'ka', erase_body('e0000000-0000-4000-8000-000000000004', 'alice')) IS NOT NULL AS new_session;
SELECT * FROM erase_state();
SELECT expect_error('SELECT dozor_erase_user(NULL, ''alice'')');
SELECT expect_error(format('SELECT dozor_erase_user(%s, NULL)', :pa));
SELECT expect_error('SELECT dozor_erase_user(-1, ''alice'')');

DELETE FROM dozor.projects WHERE id IN (:pa, :pb);
SELECT count(*) AS tombstones_left FROM dozor.session_tombstones WHERE project_id IN (:pa, :pb);
DROP FUNCTION tomb_body(text, bigint), tomb_rows(uuid), erase_body(text, text), erase_state();
