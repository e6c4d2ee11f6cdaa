-- Access control: the roles dozor_ingest, dozor_viewer and
-- dozor_admin, project grants, and row-level security. pg_regress runs as
-- a superuser; the checks run as login-less test roles.

-- The extension's roles: no login, nothing that bypasses row-level
-- security, and dozor_admin includes dozor_viewer.
SELECT rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolinherit
FROM pg_roles WHERE rolname IN ('dozor_ingest', 'dozor_viewer', 'dozor_admin') ORDER BY rolname;
SELECT r.rolname AS role, m.rolname AS member_of
FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.member JOIN pg_roles m ON m.oid = a.roleid
WHERE r.rolname LIKE 'dozor\_%' AND r.rolname !~ '^dozor_[0-9a-f]{8}_p' ORDER BY 1, 2;

-- Two projects, created by the superuser (so granted to nobody yet).
-- A has two sessions, B one; each with a url marker, a console error, an
-- identity marker, a tracked user and a 97 s idle gap.
SELECT project_id AS pa, api_key AS key_a FROM dozor_create_project('access a') \gset
SELECT project_id AS pb, api_key AS key_b FROM dozor_create_project('access b') \gset
SELECT count(*) AS grants_of_superuser_projects FROM dozor.project_grants WHERE project_id IN (:pa, :pb);
CREATE FUNCTION access_body(session_uuid text, user_id text) RETURNS bytea LANGUAGE sql AS $$
    SELECT sdk_body(session_uuid,
        evs(o(1700000000000), u(1700000001000, '/cart'), c(1700000002000, 'error'),
            i(1700000003000, user_id), o(1700000100000))::text,
        '{"url":"https://shop.example/","referrer":"","userAgent":"t","screenWidth":1,"screenHeight":1,"language":"en",'
        || '"userIdentity":{"userId":"' || user_id || '"}}')
$$;
SELECT dozor_ingest(:'key_a', access_body('a0000000-0000-4000-8000-000000000001', 'alice')) AS sa \gset
SELECT dozor_ingest(:'key_a', access_body('a0000000-0000-4000-8000-000000000002', 'alice')) AS sa2 \gset
SELECT dozor_ingest(:'key_b', access_body('b0000000-0000-4000-8000-000000000001', 'bob')) AS sb \gset
SELECT id AS ua FROM dozor.tracked_users WHERE project_id = :pa \gset
SELECT id AS ub FROM dozor.tracked_users WHERE project_id = :pb \gset
-- and a tombstone each (a cancel of a session that never arrived)
SELECT dozor_cancel_session(:'key_a', 'a0000000-0000-4000-8000-000000000009'),
       dozor_cancel_session(:'key_b', 'b0000000-0000-4000-8000-000000000009');

-- Test roles: capability (membership in a dozor role) and scope (grants).
--   viewer_a  dozor_viewer, granted A as viewer
--   member_a  no dozor role of its own: a member of viewer_a
--   viewer_b  dozor_viewer, granted B as viewer
--   admin_a   dozor_admin, granted A as admin
--   ingest    dozor_ingest, and (uselessly) granted A as viewer
--   outsider  dozor_viewer, granted nothing
--   nobody    no dozor role, granted A as viewer: a grant alone gives nothing
CREATE ROLE regress_viewer_a;
CREATE ROLE regress_member_a IN ROLE regress_viewer_a;
CREATE ROLE regress_viewer_b;
CREATE ROLE regress_admin_a;
CREATE ROLE regress_ingest;
CREATE ROLE regress_outsider;
CREATE ROLE regress_nobody;
GRANT dozor_viewer TO regress_viewer_a, regress_viewer_b, regress_outsider;
GRANT dozor_admin TO regress_admin_a;
GRANT dozor_ingest TO regress_ingest;
SELECT dozor_grant(:pa, 'regress_viewer_a', 'viewer'), dozor_grant(:pa, 'regress_admin_a', 'admin'),
       dozor_grant(:pb, 'regress_viewer_b', 'viewer'), dozor_grant(:pa, 'regress_ingest', 'viewer'),
       dozor_grant(:pa, 'regress_nobody', 'viewer');
-- dozor_grant replaces the level; bad arguments
SELECT dozor_grant(:pa, 'regress_nobody', 'admin');
SELECT dozor_grant(:pa, 'regress_nobody', 'viewer');
SELECT expect_error(format('SELECT dozor_grant(%s, %L, %L)', :pa, 'regress_nobody', 'owner'));
SELECT expect_error(format('SELECT dozor_grant(%s, %L, NULL)', :pa, 'regress_nobody'));
SELECT expect_error(format('SELECT dozor_grant(NULL, %L, %L)', 'regress_nobody', 'viewer'));
SELECT expect_error(format('SELECT dozor_grant(%s, %L, %L)', :pa, 'regress_no_such_role', 'viewer'));
SELECT expect_error(format('SELECT dozor_grant(%s, %L, %L)', -1, 'regress_nobody', 'viewer'));
SELECT expect_error(format('SELECT dozor_revoke(%s, NULL)', :pa));
SELECT p.name, g.role, g.level FROM dozor.project_grants g JOIN dozor.projects p ON p.id = g.project_id
WHERE g.project_id IN (:pa, :pb) ORDER BY p.name, g.role::text;
-- Each grant is mirrored into membership of the project's viewer or admin
-- role, which is what the policies test (dozor_may); the admin role is a
-- member of the viewer role.
SELECT CASE WHEN r.rolname ~ '^dozor_[0-9a-f]{8}_p' THEN '(its admin role)' ELSE r.rolname END AS member,
       CASE g.rolname WHEN dozor_project_role(:pa, 'viewer') THEN 'A viewer'
                      WHEN dozor_project_role(:pa, 'admin') THEN 'A admin'
                      WHEN dozor_project_role(:pb, 'viewer') THEN 'B viewer'
                      WHEN dozor_project_role(:pb, 'admin') THEN 'B admin' END AS project_role
FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.member JOIN pg_roles g ON g.oid = a.roleid
WHERE g.rolname IN (dozor_project_role(:pa, 'viewer'), dozor_project_role(:pa, 'admin'),
                    dozor_project_role(:pb, 'viewer'), dozor_project_role(:pb, 'admin'))
ORDER BY 2, 1;

-------------------------------------------------------------------------------
-- Privileges as the catalogs hold them
-------------------------------------------------------------------------------

-- Every function of the extension: who may execute it (x), and which run
-- as the owner (with a pinned search_path).
SELECT p.proname AS function,
       CASE WHEN bool_and(has_function_privilege('regress_nobody', p.oid, 'EXECUTE')) THEN 'x' ELSE '-' END AS public,
       CASE WHEN bool_and(has_function_privilege('dozor_ingest', p.oid, 'EXECUTE')) THEN 'x' ELSE '-' END AS ingest,
       CASE WHEN bool_and(has_function_privilege('dozor_viewer', p.oid, 'EXECUTE')) THEN 'x' ELSE '-' END AS viewer,
       CASE WHEN bool_and(has_function_privilege('dozor_admin', p.oid, 'EXECUTE')) THEN 'x' ELSE '-' END AS admin,
       CASE WHEN bool_or(p.prosecdef) THEN 'definer' ELSE '' END AS security,
       string_agg(DISTINCT c, ', ') FILTER (WHERE c LIKE 'search_path=%') AS config
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'dozor'
LEFT JOIN LATERAL unnest(p.proconfig) AS c ON true
GROUP BY p.proname ORDER BY p.proname;

-- Every relation in schema dozor: S I U D per role; lower case when only
-- some columns are granted.
CREATE FUNCTION access_privs(r name, rel oid) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(CASE WHEN has_table_privilege(r, rel, p) THEN upper(left(p, 1))
                           WHEN p <> 'DELETE' AND has_any_column_privilege(r, rel, p) THEN lower(left(p, 1))
                           ELSE '-' END, '' ORDER BY o)
    FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) WITH ORDINALITY AS t(p, o)
$$;
SELECT c.relname, c.relkind, c.relrowsecurity AS rls,
       access_privs('regress_nobody', c.oid) AS public, access_privs('dozor_ingest', c.oid) AS ingest,
       access_privs('dozor_viewer', c.oid) AS viewer, access_privs('dozor_admin', c.oid) AS admin
FROM pg_class c WHERE c.relnamespace = 'dozor'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'S')
  AND NOT c.relispartition
ORDER BY c.relkind, c.relname;
-- Partitions (made at run time, one per day) grant nothing and have no
-- policies: every role reads them through their parent's policies.
SELECT count(*) > 0 AS has_partitions,
       count(*) FILTER (WHERE access_privs('regress_nobody', c.oid) || access_privs('dozor_ingest', c.oid)
                              || access_privs('dozor_viewer', c.oid) || access_privs('dozor_admin', c.oid)
                              <> '----------------') AS granting
FROM pg_class c WHERE c.relnamespace = 'dozor'::regnamespace AND c.relispartition;
-- The key hash and the columns an admin may write.
SELECT a.attrelid::regclass AS relation, a.attname,
       has_column_privilege('dozor_viewer', a.attrelid, a.attnum, 'SELECT') AS viewer_select,
       has_column_privilege('dozor_admin', a.attrelid, a.attnum, 'SELECT') AS admin_select,
       has_column_privilege('dozor_admin', a.attrelid, a.attnum, 'UPDATE') AS admin_update
FROM pg_attribute a
WHERE a.attrelid IN ('dozor.projects'::regclass, 'dozor.sessions'::regclass, 'dozor.project_grants'::regclass)
  AND a.attnum > 0 AND NOT a.attisdropped
  AND (a.attname IN ('key_hash', 'name')
       OR has_column_privilege('dozor_admin', a.attrelid, a.attnum, 'UPDATE'))
ORDER BY 1, a.attnum;
SELECT tablename, policyname, cmd, roles FROM pg_policies WHERE schemaname = 'dozor' ORDER BY 1, 2;

-------------------------------------------------------------------------------
-- What each role gets when it tries: every read, for A's and B's ids
-------------------------------------------------------------------------------

-- Runs a query as a role and shows its one value ('null' for NULL) or the
-- SQLSTATE it fails with; its effects are always rolled back.
CREATE FUNCTION as_role(r name, query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    PERFORM set_config('role', r, true);
    EXECUTE query INTO v;
    v := coalesce(v, 'null');
    RAISE SQLSTATE 'ZZ000';
EXCEPTION
    WHEN SQLSTATE 'ZZ000' THEN RETURN v;
    WHEN OTHERS THEN RETURN SQLSTATE;
END
$$;

CREATE TEMP TABLE access_target (name text, p bigint, s bigint, u bigint, k text, x uuid);
INSERT INTO access_target VALUES
    ('A', :pa, :sa, :ua, :'key_a', 'a0000000-0000-4000-8000-000000000001'),
    ('B', :pb, :sb, :ub, :'key_b', 'b0000000-0000-4000-8000-000000000001');
-- One query per row: %1$s project, %2$s session, %3$s tracked user,
-- %4$s the project's API key, %5$s the session's uuid.
CREATE TEMP TABLE access_call (ord serial, label text, q text);

-- Shows every call of access_call for A and B as every test role.
CREATE FUNCTION access_matrix()
RETURNS TABLE (call text, superuser text, nobody text, ingest text, viewer_a text,
               member_a text, viewer_b text, outsider text, admin_a text)
LANGUAGE sql AS $$
    SELECT c.label || ' ' || t.name, as_role(current_user, f.query),
           as_role('regress_nobody', f.query), as_role('regress_ingest', f.query),
           as_role('regress_viewer_a', f.query), as_role('regress_member_a', f.query),
           as_role('regress_viewer_b', f.query), as_role('regress_outsider', f.query),
           as_role('regress_admin_a', f.query)
    FROM access_call c CROSS JOIN access_target t
    CROSS JOIN LATERAL format(c.q, t.p, t.s, t.u, quote_literal(t.k), quote_literal(t.x)) AS f (query)
    ORDER BY c.ord, t.name
$$;

-- Reads: the tables (counts of A's / B's rows) and every read function,
-- as a superuser (for reference) and as each test role. A role sees
-- exactly its projects; B's ids through A's role (and the other way round)
-- give nothing, never B's data (the timeline mapping of a session it cannot
-- see is the identity, as for a session that does not exist).
INSERT INTO access_call (label, q) VALUES
    ('projects', 'SELECT count(*) FROM dozor.projects WHERE id = %1$s'),
    ('projects.key_hash', 'SELECT count(key_hash) FROM dozor.projects WHERE id = %1$s'),
    ('projects.*', 'SELECT count(p.*) FROM dozor.projects p WHERE id = %1$s'),
    ('tracked_users', 'SELECT count(*) FROM dozor.tracked_users WHERE project_id = %1$s'),
    ('sessions', 'SELECT count(*) FROM dozor.sessions WHERE project_id = %1$s'),
    ('event_batches', 'SELECT count(*) FROM dozor.event_batches WHERE session_id = %2$s'),
    ('markers', 'SELECT count(*) FROM dozor.markers WHERE session_id = %2$s'),
    ('project_grants', 'SELECT count(*) FROM dozor.project_grants WHERE project_id = %1$s'),
    ('session_tombstones', 'SELECT count(*) FROM dozor.session_tombstones WHERE project_id = %1$s'),
    ('my_grants', 'SELECT count(*) FROM dozor.my_grants WHERE project_id = %1$s'),
    ('my_projects', 'SELECT level FROM dozor.my_projects WHERE project_id = %1$s'),
    ('dozor_session_batches', 'SELECT count(*) FROM dozor_session_batches(%2$s)'),
    ('dozor_events', 'SELECT json_array_length(dozor_events(%2$s))'),
    ('dozor_markers', 'SELECT count(*) FROM dozor_markers(%2$s)'),
    ('dozor_stream_markers', 'SELECT count(*) FROM dozor_stream_markers(%2$s)'),
    ('dozor_history', 'SELECT count(*) FROM dozor_history(%2$s)'),
    ('dozor_console', 'SELECT count(*) FROM dozor_console(%2$s)'),
    ('dozor_to_compressed', 'SELECT dozor_to_compressed(%2$s, 1700000100000)'),
    ('dozor_to_real', 'SELECT dozor_to_real(%2$s, 1700000008000)'),
    ('dozor_session', 'SELECT jsonb_array_length(dozor_session(%2$s)->''markers'')'),
    ('dozor_sessions', 'SELECT count(*) FROM dozor_sessions(ARRAY[%1$s], NULL, min_events => NULL, min_duration => NULL)'),
    ('dozor_sessions(all)', 'SELECT count(*) FROM dozor_sessions(NULL, NULL, min_events => NULL, min_duration => NULL) WHERE project_id = %1$s'),
    ('dozor_sessions_summary', 'SELECT total_sessions FROM dozor_sessions_summary(ARRAY[%1$s])'),
    ('dozor_tracked_users', 'SELECT count(*) FROM dozor_tracked_users(ARRAY[%1$s])'),
    ('dozor_tracked_users(all)', 'SELECT count(*) FROM dozor_tracked_users() WHERE project_id = %1$s'),
    ('dozor_tracked_user_sessions', 'SELECT count(*) FROM dozor_tracked_user_sessions(%3$s)'),
    ('dozor_project_of_key', 'SELECT dozor_project_of_key(%4$s) = %1$s'),
    ('pure dozor_url_pathname', 'SELECT dozor_url_pathname(''https://x.example/a?b'')');
SELECT * FROM access_matrix();

-- Writes: each is tried and rolled back. Ingest and cancel only for
-- dozor_ingest (with the project's key); deletion, rotation, creation,
-- cleanup and grants only for dozor_admin, and only in A; raw writes to the
-- tables only where a policy allows them (an admin's deletes in A, its
-- grants of A, its key of A).
TRUNCATE access_call RESTART IDENTITY;
INSERT INTO access_call (label, q) VALUES
    ('dozor_ingest', 'SELECT dozor_ingest(%4$s, sdk_body(%5$s, ''[{"type":3,"data":{"source":2,"type":2},"timestamp":1700000200000}]'')) = %2$s'),
    ('dozor_cancel_session', 'SELECT ''ok'' FROM dozor_cancel_session(%4$s, %5$s)'),
    ('dozor_delete_session', 'SELECT dozor_delete_session(%2$s)'),
    ('dozor_erase_user', 'SELECT dozor_erase_user(%1$s, ''alice'')'),
    ('dozor_tombstone_session', 'SELECT dozor_tombstone_session(%1$s, %5$s)'),
    ('dozor_expire_tombstones', 'SELECT dozor_expire_tombstones(''0 days'')'),
    ('dozor_rotate_api_key', 'SELECT length(dozor_rotate_api_key(%1$s))'),
    ('dozor_create_project', 'SELECT count(*) FROM dozor_create_project(''x'')'),
    ('dozor_cleanup', 'SELECT dozor_cleanup(''0 days'') > 0'),
    ('dozor_grant', 'SELECT ''ok'' FROM dozor_grant(%1$s, ''regress_outsider'', ''viewer'')'),
    ('dozor_revoke', 'SELECT dozor_revoke(%1$s, ''regress_viewer_a'')'),
    ('insert sessions', 'WITH w AS (INSERT INTO dozor.sessions (project_id, external_id, started_at, ended_at) VALUES (%1$s, gen_random_uuid(), now(), now()) RETURNING 1) SELECT count(*) FROM w'),
    ('update sessions', 'WITH w AS (UPDATE dozor.sessions SET url = ''x'' WHERE project_id = %1$s RETURNING 1) SELECT count(*) FROM w'),
    ('update sessions.id', 'WITH w AS (UPDATE dozor.sessions SET id = id WHERE project_id = %1$s RETURNING 1) SELECT count(*) FROM w'),
    ('lock sessions', 'SELECT count(*) FROM (SELECT 1 FROM dozor.sessions WHERE project_id = %1$s FOR UPDATE) l'),
    ('delete sessions', 'WITH w AS (DELETE FROM dozor.sessions WHERE project_id = %1$s RETURNING 1) SELECT count(*) FROM w'),
    ('delete event_batches', 'WITH w AS (DELETE FROM dozor.event_batches WHERE session_id = %2$s RETURNING 1) SELECT count(*) FROM w'),
    ('delete markers', 'WITH w AS (DELETE FROM dozor.markers WHERE session_id = %2$s RETURNING 1) SELECT count(*) FROM w'),
    ('delete tracked_users', 'WITH w AS (DELETE FROM dozor.tracked_users WHERE project_id = %1$s RETURNING 1) SELECT count(*) FROM w'),
    ('insert session_tombstones', 'WITH w AS (INSERT INTO dozor.session_tombstones (project_id, external_id) VALUES (%1$s, gen_random_uuid()) RETURNING 1) SELECT count(*) FROM w'),
    ('delete session_tombstones', 'WITH w AS (DELETE FROM dozor.session_tombstones WHERE project_id = %1$s RETURNING 1) SELECT count(*) FROM w'),
    ('update projects.name', 'WITH w AS (UPDATE dozor.projects SET name = ''x'' WHERE id = %1$s RETURNING 1) SELECT count(*) FROM w'),
    ('update projects.key_hash', 'WITH w AS (UPDATE dozor.projects SET key_hash = ''\x00'' WHERE id = %1$s RETURNING 1) SELECT count(*) FROM w'),
    ('delete projects', 'WITH w AS (DELETE FROM dozor.projects WHERE id = %1$s RETURNING 1) SELECT count(*) FROM w'),
    ('insert project_grants', 'WITH w AS (INSERT INTO dozor.project_grants (project_id, role, level) VALUES (%1$s, ''regress_outsider'', ''admin'') RETURNING 1) SELECT count(*) FROM w'),
    ('update project_grants', 'WITH w AS (UPDATE dozor.project_grants SET level = ''admin'' WHERE project_id = %1$s RETURNING 1) SELECT count(*) FROM w'),
    ('delete project_grants', 'WITH w AS (DELETE FROM dozor.project_grants WHERE project_id = %1$s RETURNING 1) SELECT count(*) FROM w');
SELECT * FROM access_matrix();
-- Nothing above stayed.
SELECT (SELECT count(*) FROM dozor.sessions WHERE project_id IN (:pa, :pb)) AS sessions,
       (SELECT count(*) FROM dozor.project_grants WHERE project_id IN (:pa, :pb)) AS grants,
       (SELECT count(*) FROM dozor.projects WHERE name = 'x') AS created,
       dozor_project_of_key(:'key_a') = :pa AS key_a_unchanged;

-------------------------------------------------------------------------------
-- The same, for real, one role at a time
-------------------------------------------------------------------------------

-- The ingest role ingests and cancels with a key, and reads nothing.
SET ROLE regress_ingest;
SELECT dozor_ingest(:'key_a', access_body('a0000000-0000-4000-8000-000000000003', 'carol')) > 0 AS ingested;
SELECT expect_error('SELECT count(*) FROM dozor.sessions');
SELECT expect_error(format('SELECT count(*) FROM dozor_history(%s)', :sa));
SELECT dozor_cancel_session(:'key_a', 'a0000000-0000-4000-8000-000000000003');
-- a key never reaches another project's session: a silent no-op
SELECT dozor_cancel_session(:'key_a', 'b0000000-0000-4000-8000-000000000001');
SELECT expect_error(format('SELECT dozor_ingest(%L, access_body(%L, %L))', 'dp_00000000000000000000000000000000',
                           'a0000000-0000-4000-8000-000000000003', 'carol'));
RESET ROLE;
SELECT external_id, project_id = :pb AS in_b FROM dozor.sessions WHERE project_id IN (:pa, :pb) ORDER BY external_id;

-- An admin creates a project and is its admin at once; rotates A's key
-- (the old key stops at once, the new one works); cannot touch B.
SET ROLE regress_admin_a;
SELECT project_id AS pc FROM dozor_create_project('access c') \gset
SELECT p.name, v.level FROM dozor.my_projects v JOIN dozor.projects p ON p.id = v.project_id ORDER BY p.name;
SELECT g.role, g.level FROM dozor.project_grants g WHERE g.project_id = :pc;
SELECT dozor_rotate_api_key(:pa) AS key_a2 \gset
SELECT replace(expect_error(format('SELECT dozor_rotate_api_key(%s)', :pb)), 'project ' || :pb, 'project <B>') AS expect_error;
SELECT dozor_delete_session(:sb) AS deleted_b, dozor_delete_session(:sa2) AS deleted_a2;
SELECT replace(expect_error(format('SELECT dozor_grant(%s, %L, %L)', :pb, 'regress_admin_a', 'admin')), 'project ' || :pb, 'project <B>') AS expect_error;
SELECT replace(expect_error(format('SELECT dozor_revoke(%s, %L)', :pb, 'regress_viewer_b')), 'project ' || :pb, 'project <B>') AS expect_error;
SELECT expect_error(format('INSERT INTO dozor.project_grants (project_id, role, level) VALUES (%s, %L, %L)',
                           :pb, 'regress_admin_a', 'admin'));
SELECT expect_error(format('SELECT dozor_grant(%s, %L, %L)', :pa, 'regress_viewer_b', 'owner'));
RESET ROLE;
SELECT :'key_a2' ~ '^dp_[0-9a-f]{32}$' AS new_key_format, :'key_a2' <> :'key_a' AS changed;
SELECT expect_error(format('SELECT dozor_ingest(%L, access_body(%L, %L))', :'key_a',
                           'a0000000-0000-4000-8000-000000000001', 'alice')) AS old_key;
SELECT dozor_ingest(:'key_a2', access_body('a0000000-0000-4000-8000-000000000001', 'alice')) = :sa AS new_key;
SELECT (SELECT count(*) FROM dozor.sessions WHERE id = :sb) AS b_session_kept,
       (SELECT count(*) FROM dozor.sessions WHERE id = :sa2) AS a2_session_deleted;

-- Grants and revokes by an admin take effect at once, also for members.
SET ROLE regress_admin_a;
SELECT dozor_grant(:pa, 'regress_viewer_b', 'viewer');
SET ROLE regress_viewer_b;
SELECT count(*) AS viewer_b_sees_a FROM dozor.sessions WHERE project_id = :pa;
SELECT count(*) AS viewer_b_history_a FROM dozor_history(:sa);
SET ROLE regress_admin_a;
SELECT dozor_revoke(:pa, 'regress_viewer_b') AS revoked, dozor_revoke(:pa, 'regress_viewer_b') AS again;
SELECT pg_has_role('regress_viewer_b', dozor_project_role(:pa, 'viewer'), 'MEMBER') AS viewer_b_in_a_role;
SET ROLE regress_viewer_b;
SELECT count(*) AS viewer_b_sees_a FROM dozor.sessions WHERE project_id = :pa;
SELECT count(*) AS viewer_b_history_a FROM dozor_history(:sa);
SET ROLE regress_admin_a;
SELECT dozor_revoke(:pa, 'regress_viewer_a') AS revoked;
SET ROLE regress_member_a;
SELECT count(*) AS member_a_sees_a FROM dozor.sessions WHERE project_id = :pa;
RESET ROLE;
-- an admin-level grant through a group role: the member administers A
SELECT dozor_grant(:pa, 'regress_viewer_a', 'admin');
SET ROLE regress_member_a;
SELECT level FROM dozor.my_projects WHERE project_id = :pa;
-- but write privileges come from dozor_admin, which member_a lacks
SELECT expect_error(format('SELECT dozor_delete_session(%s)', :sa));
RESET ROLE;
-- erasure of a person is an admin's: a viewer is refused
SET ROLE regress_viewer_b;
SELECT expect_error(format('SELECT dozor_erase_user(%s, %L)', :pb, 'bob'));
RESET ROLE;

-- Retention as an admin deletes only in its projects.
SET ROLE regress_admin_a;
SELECT dozor_cleanup('0 days') AS deleted;
RESET ROLE;
SELECT p.name, count(s.id) AS sessions FROM dozor.projects p LEFT JOIN dozor.sessions s ON s.project_id = p.id
WHERE p.id IN (:pa, :pb, :pc) GROUP BY p.name ORDER BY p.name;

-- CREATE EXTENSION in a second database finds the roles and succeeds.
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_dozor_access_second;
\c regress_dozor_access_second
SET client_min_messages = warning;
-- (not if a role of that name would bypass row-level security)
ALTER ROLE dozor_viewer BYPASSRLS;
CREATE EXTENSION dozor;
ALTER ROLE dozor_viewer NOBYPASSRLS;
CREATE EXTENSION dozor;
SELECT count(*) AS roles FROM pg_roles WHERE rolname IN ('dozor_ingest', 'dozor_viewer', 'dozor_admin');
\c :regress_db
DROP DATABASE regress_dozor_access_second;

-- Clean up: the test's projects (grants go with them) and roles.
DELETE FROM dozor.projects WHERE id IN (:pa, :pb, :pc);
SELECT count(*) AS grants_left FROM dozor.project_grants
WHERE role::text LIKE 'regress\_%';
DROP ROLE regress_member_a, regress_viewer_a, regress_viewer_b, regress_admin_a,
          regress_ingest, regress_outsider, regress_nobody;
DROP FUNCTION access_matrix(), as_role(name, text), access_privs(name, oid), access_body(text, text);
