-- dozor install script, last part: roles and grants, nothing else (each
-- table's row-level security policies stand beside the table in
-- src/dozor.sql, each function's security beside it). Appended last by the
-- Makefile.
/*
 * Access control is PostgreSQL's, not the application's. Two things decide
 * what a role may do:
 *
 *   capability  membership in one of three NOLOGIN roles created here:
 *                 dozor_ingest  the public-key boundary: dozor_ingest and
 *                               dozor_cancel_session, nothing else; it
 *                               cannot read a table or call a read function
 *                 dozor_viewer  the read functions, SELECT on the tables
 *                               (not on dozor.projects.key_hash)
 *                 dozor_admin   dozor_viewer (by membership) plus session
 *                               deletion, erasure of a person, project
 *                               creation, key rotation, retention
 *                               cleanup, dozor_grant/dozor_revoke
 *   scope       rows of dozor.project_grants (project, role, level). A role
 *               sees a project when it is a member, directly or through
 *               other roles, of a role the project is granted to; writes
 *               need an 'admin' grant. dozor_grant records the grant and
 *               mirrors it into membership of one of the project's two
 *               NOLOGIN roles (dozor_project_role: dozor_<tag>_p<id>_viewer
 *               and _admin), and the policies test only that membership
 *               (dozor_may): a policy reads no table, as Citus requires of
 *               policies on distributed tables, and holds on every node.
 *
 * A role needs both: GRANT dozor_viewer TO alice gives the functions,
 * SELECT dozor_grant(42, 'alice', 'viewer') gives project 42. Each alone
 * shows nothing. dozor_grant changes memberships of dozor's per-project
 * roles only, never of the capability roles (those belong to the DBA); an
 * 'admin' grant gives write access only to a role that also has
 * dozor_admin's privileges. The per-project roles outlive DROP EXTENSION,
 * like the capability roles.
 *
 * Row-level security on every table enforces the scope for everything that
 * runs as the caller: direct queries, and every read and admin function,
 * all SECURITY INVOKER, including the SPI queries the C functions run. A
 * session of a project the caller may not see does not exist for it: feeds
 * come back empty, dozor_events and dozor_session return NULL,
 * dozor_delete_session returns false, dozor_rotate_api_key says the project
 * does not exist. Policies apply TO PUBLIC: privileges say what, policies
 * say where, for any role that is ever given a privilege.
 *
 * Four functions run as the extension owner (SECURITY DEFINER, search_path
 * pinned to pg_catalog, pg_temp, every other reference schema-qualified):
 * dozor_ingest and dozor_cancel_session, whose check is the API key;
 * dozor_create_project (a new project has no grants yet, so no policy could
 * let its creator insert and read it back); and dozor_sync_grant, which
 * changes role memberships as the grant rows say (partition management,
 * src/partitions.sql, runs as the owner too). The owner and superusers
 * bypass row-level security as usual; ingest therefore works for every
 * project, and only for the project of the key it is given.
 *
 * Every function that touches stored data is revoked from PUBLIC; only the
 * pure functions (bytes or an events array in, a value out) stay public.
 * A function created in a later upgrade script gets its grants there.
 *
 * API keys. Only sha256(key) is stored (dozor.projects.key_hash). The key
 * lookup (dozor_project_of_key) hashes the presented key and finds the hash
 * through the unique index; the comparisons inside the B-tree run on
 * sha256 outputs, never on the key. Their timing can at most reveal how
 * many leading bytes of the presented key's hash match a stored hash, and
 * that does not help: finding a key whose hash shares more bytes with a
 * stored hash is a preimage search, and keys are 128 random bits, so the
 * hash needs no salt (there is no dictionary to precompute). A constant-time
 * compare would protect nothing more. Rotation replaces the hash in one
 * UPDATE: from its commit the old key matches no row. The plaintext is
 * returned once, by dozor_create_project or dozor_rotate_api_key.
 */

-------------------------------------------------------------------------------
-- Roles (cluster-wide: created only when missing, so that CREATE EXTENSION
-- in a second database finds them; DROP EXTENSION leaves them)
-------------------------------------------------------------------------------

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['dozor_ingest', 'dozor_viewer', 'dozor_admin'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        ELSIF EXISTS (SELECT FROM pg_catalog.pg_roles
                      WHERE rolname = r AND (rolsuper OR rolbypassrls)) THEN
            -- a pre-existing role that bypasses row-level security would
            -- hand every project to its members
            RAISE EXCEPTION 'role "%" already exists and bypasses row-level security', r
                USING ERRCODE = '55000',
                      HINT = 'Drop the role or remove SUPERUSER and BYPASSRLS from it before creating the extension.';
        END IF;
    END LOOP;
    -- dozor_admin is dozor_viewer plus the admin functions
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_auth_members
                   WHERE roleid = 'dozor_viewer'::regrole AND member = 'dozor_admin'::regrole) THEN
        GRANT dozor_viewer TO dozor_admin;
    END IF;
END
$$;

-------------------------------------------------------------------------------
-- Table privileges
-------------------------------------------------------------------------------

GRANT USAGE ON SCHEMA dozor TO dozor_viewer;
GRANT SELECT ON dozor.tracked_users, dozor.sessions, dozor.event_batches, dozor.markers,
                dozor.project_grants, dozor.my_grants, dozor.my_projects, dozor.session_tombstones,
                dozor.session_keys
    TO dozor_viewer;

-- Every column of dozor.projects but the key hash: the secrets are the
-- listed exception, so a column another part adds is readable too.
DO $$
DECLARE
    cols text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = 'dozor.projects'::regclass AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attname <> 'key_hash';
    EXECUTE pg_catalog.format('GRANT SELECT (%s) ON dozor.projects TO dozor_viewer', cols);
END
$$;

-- dozor_rotate_api_key writes the new hash; the policy limits it to the
-- admin's projects. (An admin can so set a hash of its own choosing for
-- its own project; no other project is reachable.)
GRANT UPDATE (key_hash) ON dozor.projects TO dozor_admin;
GRANT DELETE ON dozor.sessions, dozor.tracked_users, dozor.session_keys TO dozor_admin;
-- for SELECT ... FOR UPDATE only: see the policy admin_lock
GRANT UPDATE (id) ON dozor.sessions TO dozor_admin;
GRANT INSERT (project_id, role, level), UPDATE (level), DELETE ON dozor.project_grants TO dozor_admin;
GRANT INSERT (project_id, external_id), UPDATE (created_at), DELETE ON dozor.session_tombstones TO dozor_admin;

-------------------------------------------------------------------------------
-- Function privileges
-------------------------------------------------------------------------------

-- Every function of the extension, by name (all overloads alike):
--   public  pure, no stored data: stays executable by PUBLIC
--   ingest  dozor_ingest
--   viewer  dozor_viewer (and so dozor_admin)
--   admin   dozor_admin
-- A function in no class is executable by the owner only. Each function
-- declares how it runs in its own CREATE FUNCTION: the read and admin ones
-- SECURITY INVOKER, so that row-level security applies to them.
DO $$
DECLARE
    f regprocedure;
    class text;
BEGIN
    FOR f, class IN
        SELECT p.oid::regprocedure, c.class
        FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_proc p ON p.oid = d.objid
        LEFT JOIN (VALUES
            ('dozor_gzip', 'public'), ('dozor_gunzip', 'public'),
            ('dozor_url_pathname', 'public'), ('dozor_new_api_key', 'public'),
            ('dozor_api_key_hash', 'public'), ('dozor_prepare_batch', 'public'),
            ('dozor_active_ms', 'public'), ('dozor_activity_run', 'public'),
            ('dozor_ms_to_timestamptz', 'public'),
            ('dozor_compress_events', 'public'), ('dozor_extract_markers', 'public'),
            ('dozor_build_history', 'public'), ('dozor_console_logs', 'public'),
            ('dozor_map_to_compressed', 'public'), ('dozor_map_to_real', 'public'),
            ('dozor_cursor_ts_key', 'public'), ('dozor_cursor_encode', 'public'),
            ('dozor_cursor_decode', 'public'), ('dozor_check_page_limit', 'public'),
            ('dozor_day', 'public'), ('dozor_partition_name', 'public'),
            ('dozor_project_role', 'public'), ('dozor_may', 'public'),
            ('dozor_is_distributed', 'public'),
            ('dozor_ingest', 'ingest'), ('dozor_cancel_session', 'ingest'),
            ('dozor_session_batches', 'viewer'), ('dozor_events', 'viewer'),
            ('dozor_keyframes', 'viewer'),
            ('dozor_markers', 'viewer'), ('dozor_stream_markers', 'viewer'), ('dozor_history', 'viewer'),
            ('dozor_console', 'viewer'), ('dozor_to_compressed', 'viewer'),
            ('dozor_to_real', 'viewer'), ('dozor_session', 'viewer'),
            ('dozor_sessions', 'viewer'), ('dozor_sessions_summary', 'viewer'),
            ('dozor_tracked_users', 'viewer'), ('dozor_tracked_user_sessions', 'viewer'),
            ('dozor_delete_session', 'admin'), ('dozor_create_project', 'admin'),
            ('dozor_rotate_api_key', 'admin'), ('dozor_cleanup', 'admin'),
            ('dozor_grant', 'admin'), ('dozor_revoke', 'admin'),
            ('dozor_require_project_admin', 'admin'), ('dozor_erase_user', 'admin'),
            ('dozor_tombstone_session', 'admin'), ('dozor_expire_tombstones', 'admin'),
            ('dozor_lock', 'admin'), ('dozor_storage', 'admin'),
            ('dozor_sync_grant', 'admin')
        ) AS c (name, class) ON c.name = p.proname
        WHERE d.classid = 'pg_catalog.pg_proc'::regclass
          AND d.refclassid = 'pg_catalog.pg_extension'::regclass
          AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'dozor')
          AND d.deptype = 'e'
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        IF class = 'public' THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
        ELSIF class = 'ingest' THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO dozor_ingest', f);
        ELSIF class IN ('viewer', 'admin') THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I', f, 'dozor_' || class);
        END IF;
    END LOOP;
END
$$;

-- The roles call the functions by name: they need the extension's schema
-- unless PUBLIC may use it already (the public schema). That grant is on a
-- schema the extension does not own, so it outlives DROP EXTENSION (REVOKE
-- it before dropping the roles).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
                   WHERE n.oid = '@extschema@'::regnamespace AND a.grantee = 0
                     AND a.privilege_type = 'USAGE') THEN
        GRANT USAGE ON SCHEMA @extschema@ TO dozor_ingest, dozor_viewer;
    END IF;
END
$$;
