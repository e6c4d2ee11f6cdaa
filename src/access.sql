-- dozor install script, part 3: roles, grants and row-level security.
-- Appended after src/dashboard.sql by the Makefile.
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
 *               other roles, of a role the project is granted to
 *               (pg_has_role(current_user, grantee, 'MEMBER')); writes need
 *               an 'admin' grant.
 *
 * A role needs both: GRANT dozor_viewer TO alice gives the functions,
 * SELECT dozor_grant(42, 'alice', 'viewer') gives project 42. Each alone
 * shows nothing. dozor_grant does not change role memberships (they are
 * cluster-wide and belong to the DBA); an 'admin' grant gives write access
 * only to a role that also has dozor_admin's privileges.
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
 * Three functions run as the extension owner (SECURITY DEFINER, search_path
 * pinned to pg_catalog, pg_temp, every other reference schema-qualified):
 * dozor_ingest and dozor_cancel_session, whose check is the API key, and
 * dozor_create_project (a new project has no grants yet, so no policy could
 * let its creator insert and read it back). The owner and superusers
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
-- Grants of projects to roles
-------------------------------------------------------------------------------

-- Which role may see which project; 'admin' also allows its writes. The
-- role is a regrole so that pg_dump writes its name (restore the roles,
-- pg_dumpall --globals-only, before the data). Rows of a dropped role
-- match nobody; revoke them by oid (dozor_revoke(42, 16384::regrole)).
CREATE TABLE dozor.project_grants (
    project_id bigint NOT NULL REFERENCES dozor.projects (id) ON DELETE CASCADE,
    role       regrole NOT NULL,
    level      text NOT NULL CHECK (level IN ('viewer', 'admin')),
    granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (project_id, role)
);
CREATE INDEX ON dozor.project_grants (role);
SELECT pg_catalog.pg_extension_config_dump('dozor.project_grants', '');

-- The grants that reach the current role (directly or through role
-- membership). Every policy reads the grants through this view: it runs
-- with its owner's rights, so it reads dozor.project_grants past that
-- table's own policies (no recursion), while current_user is still the
-- querying role. security_barrier keeps a caller's leaky function from
-- seeing the grants of other roles. The policies probe it by project
-- (EXISTS ... WHERE project_id = ...), which the planner runs as a primary
-- key lookup per row, or hashes once when many rows are read.
CREATE VIEW dozor.my_grants WITH (security_barrier) AS
    SELECT g.project_id, g.role, g.level
    FROM dozor.project_grants g
    WHERE pg_catalog.pg_has_role(CURRENT_USER, g.role::oid, 'MEMBER');

-- The projects the current role may see, with its level on each ('admin'
-- when any grant that reaches it says so).
CREATE VIEW dozor.my_projects AS
    SELECT v.project_id,
           CASE WHEN pg_catalog.bool_or(v.level = 'admin') THEN 'admin' ELSE 'viewer' END AS level
    FROM dozor.my_grants v
    GROUP BY v.project_id;

-- Raises 42501 unless the current role is a superuser or an admin of the project.
CREATE FUNCTION @extschema@.dozor_require_project_admin(project_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER) THEN
        IF NOT EXISTS (SELECT FROM dozor.projects p WHERE p.id = dozor_require_project_admin.project_id) THEN
            RAISE EXCEPTION 'project % does not exist', project_id USING ERRCODE = '22023';
        END IF;
        RETURN;
    END IF;
    -- one answer whether the project does not exist or is someone else's
    IF NOT EXISTS (SELECT FROM dozor.my_projects v
                   WHERE v.project_id = dozor_require_project_admin.project_id AND v.level = 'admin') THEN
        RAISE EXCEPTION 'permission denied for project %', project_id
            USING ERRCODE = '42501',
                  HINT = 'Only superusers and roles granted admin on the project can manage its grants.';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_require_project_admin(bigint) IS
    'Raises 42501 unless the caller is a superuser or an admin of the project.';

-- Grants a project to a role as viewer or admin (replacing its level).
-- SECURITY INVOKER: the caller's own admin grant is the check, here and in
-- the policies on dozor.project_grants.
CREATE FUNCTION @extschema@.dozor_grant(project_id bigint, role regrole, level text)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF dozor_grant.level IS NULL OR dozor_grant.level NOT IN ('viewer', 'admin') THEN
        RAISE EXCEPTION 'invalid grant level "%"', dozor_grant.level
            USING ERRCODE = '22023', HINT = 'The level is viewer or admin.';
    END IF;
    IF dozor_grant.project_id IS NULL OR dozor_grant.role IS NULL THEN
        RAISE EXCEPTION 'project_id and role must not be null' USING ERRCODE = '22023';
    END IF;
    PERFORM @extschema@.dozor_require_project_admin(dozor_grant.project_id);
    INSERT INTO dozor.project_grants AS g (project_id, role, level)
    VALUES (dozor_grant.project_id, dozor_grant.role, dozor_grant.level)
    ON CONFLICT ON CONSTRAINT project_grants_pkey DO UPDATE SET level = EXCLUDED.level;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_grant(bigint, regrole, text) IS
    'Grants a project to a role as viewer or admin (admins of the project).';

-- Removes a role's grant on a project; true when there was one. Takes
-- effect at once: the policies read the grants in every query.
CREATE FUNCTION @extschema@.dozor_revoke(project_id bigint, role regrole)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF dozor_revoke.project_id IS NULL OR dozor_revoke.role IS NULL THEN
        RAISE EXCEPTION 'project_id and role must not be null' USING ERRCODE = '22023';
    END IF;
    PERFORM @extschema@.dozor_require_project_admin(dozor_revoke.project_id);
    DELETE FROM dozor.project_grants g
    WHERE g.project_id = dozor_revoke.project_id AND g.role = dozor_revoke.role;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_revoke(bigint, regrole) IS
    'Removes a role''s grant on a project; true when there was one.';

-- A project created by a non-superuser is granted to it as admin.
-- dozor_create_project runs as the extension owner, so current_user here
-- is the owner, and SQL offers no "caller of the SECURITY DEFINER
-- function". The session's active role is the next best thing: SET ROLE's
-- role (PostgREST's SET LOCAL ROLE included), or else the login role. It
-- is the caller whenever a client calls dozor_create_project, which is the
-- only way a non-superuser inserts a project; only when another SECURITY
-- DEFINER function calls it does the grant go to the session's role rather
-- than to that function's owner. The role must have dozor_admin's
-- privileges (which give the EXECUTE); otherwise, and for superusers, the
-- project starts without grants.
CREATE FUNCTION @extschema@.dozor_grant_new_project()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    setting text := pg_catalog.current_setting('role');
    creator regrole;
BEGIN
    IF setting = 'none' THEN
        creator := pg_catalog.to_regrole(pg_catalog.quote_ident(SESSION_USER));
    ELSE
        creator := pg_catalog.to_regrole(pg_catalog.quote_ident(setting));
    END IF;
    IF creator IS NOT NULL
       AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = creator)
       AND pg_catalog.pg_has_role(creator::oid, 'dozor_admin', 'USAGE') THEN
        INSERT INTO dozor.project_grants (project_id, role, level)
        VALUES (NEW.id, creator, 'admin');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER grant_new_project AFTER INSERT ON dozor.projects
FOR EACH ROW EXECUTE FUNCTION @extschema@.dozor_grant_new_project();

-------------------------------------------------------------------------------
-- Row-level security: a role sees exactly its projects, and writes only
-- where it is admin. Batches and markers follow their session.
-------------------------------------------------------------------------------

ALTER TABLE dozor.projects ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.projects FOR SELECT
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = projects.id));
-- dozor_rotate_api_key
CREATE POLICY admin_update ON dozor.projects FOR UPDATE
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = projects.id AND v.level = 'admin'))
    WITH CHECK (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = projects.id AND v.level = 'admin'));

ALTER TABLE dozor.tracked_users ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.tracked_users FOR SELECT
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = tracked_users.project_id));
CREATE POLICY admin_delete ON dozor.tracked_users FOR DELETE
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = tracked_users.project_id AND v.level = 'admin'));

ALTER TABLE dozor.sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.sessions FOR SELECT
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = sessions.project_id));
-- dozor_delete_session, dozor_cleanup; batches and markers go by cascade
CREATE POLICY admin_delete ON dozor.sessions FOR DELETE
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = sessions.project_id AND v.level = 'admin'));
-- dozor_cleanup picks what to delete with SELECT ... FOR UPDATE SKIP
-- LOCKED, which needs UPDATE privilege and passes the UPDATE policy's
-- USING. WITH CHECK (false) makes that privilege good for locking only:
-- every actual UPDATE by a role under the policies fails.
CREATE POLICY admin_lock ON dozor.sessions FOR UPDATE
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = sessions.project_id AND v.level = 'admin'))
    WITH CHECK (false);

-- EXISTS on the session (under its own policy): the planner probes the
-- session's primary key per row, or hashes the visible sessions when that
-- is cheaper.
ALTER TABLE dozor.event_batches ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.event_batches FOR SELECT
    USING (EXISTS (SELECT FROM dozor.sessions s WHERE s.id = event_batches.session_id));

ALTER TABLE dozor.markers ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.markers FOR SELECT
    USING (EXISTS (SELECT FROM dozor.sessions s WHERE s.id = markers.session_id));

-- Tombstones: an admin leaves them (dozor_erase_user) and expires them
-- (dozor_cleanup) in its projects; the SDK's cancel runs as the owner.
ALTER TABLE dozor.session_tombstones ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.session_tombstones FOR SELECT
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = session_tombstones.project_id));
CREATE POLICY admin_insert ON dozor.session_tombstones FOR INSERT
    WITH CHECK (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = session_tombstones.project_id AND v.level = 'admin'));
CREATE POLICY admin_update ON dozor.session_tombstones FOR UPDATE
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = session_tombstones.project_id AND v.level = 'admin'))
    WITH CHECK (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = session_tombstones.project_id AND v.level = 'admin'));
CREATE POLICY admin_delete ON dozor.session_tombstones FOR DELETE
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = session_tombstones.project_id AND v.level = 'admin'));

-- Everyone sees the grants that reach it; an admin sees and manages every
-- grant of its projects.
ALTER TABLE dozor.project_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.project_grants FOR SELECT
    USING (pg_catalog.pg_has_role(CURRENT_USER, project_grants.role::oid, 'MEMBER')
           OR EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = project_grants.project_id AND v.level = 'admin'));
CREATE POLICY admin_insert ON dozor.project_grants FOR INSERT
    WITH CHECK (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = project_grants.project_id AND v.level = 'admin'));
CREATE POLICY admin_update ON dozor.project_grants FOR UPDATE
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = project_grants.project_id AND v.level = 'admin'))
    WITH CHECK (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = project_grants.project_id AND v.level = 'admin'));
CREATE POLICY admin_delete ON dozor.project_grants FOR DELETE
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = project_grants.project_id AND v.level = 'admin'));

-------------------------------------------------------------------------------
-- Table privileges
-------------------------------------------------------------------------------

GRANT USAGE ON SCHEMA dozor TO dozor_viewer;
GRANT SELECT ON dozor.tracked_users, dozor.sessions, dozor.event_batches, dozor.markers,
                dozor.project_grants, dozor.my_grants, dozor.my_projects, dozor.session_tombstones
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
GRANT DELETE ON dozor.sessions, dozor.tracked_users TO dozor_admin;
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
-- A function in no class is executable by the owner only. The read and
-- admin functions are made SECURITY INVOKER here whatever they were
-- declared as, so that row-level security applies to them.
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
            ('dozor_lock', 'admin'), ('dozor_storage', 'admin')
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
            IF f::oid <> '@extschema@.dozor_create_project(text)'::regprocedure::oid THEN
                EXECUTE pg_catalog.format('ALTER FUNCTION %s SECURITY INVOKER', f);
            END IF;
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
