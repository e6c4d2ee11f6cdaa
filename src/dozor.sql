/*
 * dozor — install script (copied to dozor--<version>.sql by the Makefile).
 *
 * Tables live in schema `dozor` (their names are part of the contract:
 * dashboards query them directly), each with its indexes, its pg_dump
 * registration and its row-level security policies. Functions live in the
 * schema that CREATE EXTENSION chose (@extschema@), each declaring how it
 * runs. One search_path rule for every part: every name is schema-qualified
 * (catalog functions too, so that a hostile search_path cannot redirect
 * them), and every plpgsql or SECURITY DEFINER function also pins
 * search_path = pg_catalog, pg_temp; SQL functions do not, so that the
 * planner can inline them. Roles and grants are src/access.sql's.
 */
\echo Use "CREATE EXTENSION dozor" to load this file. \quit

CREATE SCHEMA IF NOT EXISTS dozor;

-- Plain sequences (not identity columns) so pg_extension_config_dump can
-- carry their positions through pg_dump/pg_restore.
CREATE SEQUENCE dozor.projects_id_seq;
CREATE SEQUENCE dozor.tracked_users_id_seq;
-- The low 37 bits of a session id (src/partitions.sql): 2^37 - 1 at most.
CREATE SEQUENCE dozor.sessions_id_seq MAXVALUE 137438953471;
CREATE SEQUENCE dozor.event_batches_id_seq;
CREATE SEQUENCE dozor.markers_id_seq;

CREATE TABLE dozor.projects (
    id           bigint PRIMARY KEY DEFAULT pg_catalog.nextval('dozor.projects_id_seq'),
    name         text NOT NULL,
    -- sha256 of the API key; the plaintext is shown once and never stored
    key_hash     bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_used_at timestamptz
);
SELECT pg_catalog.pg_extension_config_dump('dozor.projects', '');
SELECT pg_catalog.pg_extension_config_dump('dozor.projects_id_seq', '');

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
-- membership). It runs with its owner's rights, so it reads
-- dozor.project_grants past that table's own policies, while current_user
-- is still the querying role; security_barrier keeps a caller's leaky
-- function from seeing the grants of other roles.
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

-- The policies do not read the grants. dozor_grant mirrors each grant into
-- membership of one of the project's two NOLOGIN roles (dozor_sync_grant:
-- dozor_<tag>_p<id>_viewer and _admin, the admin role a member of the
-- viewer role), and every policy tests only that membership (dozor_may).
-- A policy so reads no table, which is what Citus requires of policies on
-- distributed tables (no subqueries), and it holds on every node of a
-- cluster: roles and memberships are cluster-wide, and Citus propagates
-- them to the workers. The per-row cost is one role-membership test (a
-- cached lookup), about what the old probe of the grants cost.

-- The per-project role of a level. Roles are per PostgreSQL cluster,
-- projects per database: the tag (from the database's name, which is the
-- same on every node of a Citus cluster) keeps two databases' project 1 apart.
CREATE FUNCTION @extschema@.dozor_project_role(project_id bigint, level text)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY INVOKER
AS $$
    SELECT 'dozor_' || pg_catalog.substr(pg_catalog.md5(pg_catalog.current_database()), 1, 8)
           || '_p' || project_id || CASE WHEN level = 'admin' THEN '_admin' ELSE '_viewer' END
$$;
COMMENT ON FUNCTION @extschema@.dozor_project_role(bigint, text) IS
    'The NOLOGIN role whose members see (viewer) or manage (admin) a project; dozor_grant maintains the memberships.';

-- Whether the current role reaches the project at the level ('viewer' or
-- 'admin'; an admin reaches it as viewer too): the test of every policy.
-- One expression, so that the planner inlines it into the policy.
CREATE FUNCTION @extschema@.dozor_may(project_id bigint, level text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
AS $$
    SELECT COALESCE(pg_catalog.pg_has_role(CURRENT_USER,
               pg_catalog.to_regrole(@extschema@.dozor_project_role(project_id, level))::oid, 'MEMBER'),
           false)
$$;
COMMENT ON FUNCTION @extschema@.dozor_may(bigint, text) IS
    'Whether the current role may see (level viewer) or manage (admin) a project: the test of every row-level security policy.';

-- Row-level security of both: a role sees exactly its projects and writes
-- only where it is admin.
ALTER TABLE dozor.projects ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.projects FOR SELECT
    USING (@extschema@.dozor_may(projects.id, 'viewer'));
-- dozor_rotate_api_key
CREATE POLICY admin_update ON dozor.projects FOR UPDATE
    USING (@extschema@.dozor_may(projects.id, 'admin'))
    WITH CHECK (@extschema@.dozor_may(projects.id, 'admin'));

-- Everyone sees the grants that reach it; an admin sees and manages every
-- grant of its projects.
-- Everyone sees the grants that reach it; an admin sees and manages every
-- grant of its projects.
ALTER TABLE dozor.project_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.project_grants FOR SELECT
    USING (pg_catalog.pg_has_role(CURRENT_USER, project_grants.role::oid, 'MEMBER')
           OR @extschema@.dozor_may(project_grants.project_id, 'admin'));
CREATE POLICY admin_insert ON dozor.project_grants FOR INSERT
    WITH CHECK (@extschema@.dozor_may(project_grants.project_id, 'admin'));
CREATE POLICY admin_update ON dozor.project_grants FOR UPDATE
    USING (@extschema@.dozor_may(project_grants.project_id, 'admin'))
    WITH CHECK (@extschema@.dozor_may(project_grants.project_id, 'admin'));
CREATE POLICY admin_delete ON dozor.project_grants FOR DELETE
    USING (@extschema@.dozor_may(project_grants.project_id, 'admin'));

CREATE TABLE dozor.tracked_users (
    id          bigint PRIMARY KEY DEFAULT pg_catalog.nextval('dozor.tracked_users_id_seq'),
    project_id  bigint NOT NULL REFERENCES dozor.projects (id) ON DELETE CASCADE,
    external_id text NOT NULL CHECK (pg_catalog.char_length(external_id) BETWEEN 1 AND 255),
    traits      jsonb,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (project_id, external_id)
);
-- Trait filters of the users list (traits ? key, traits @> {key: value}).
CREATE INDEX tracked_users_traits_idx ON dozor.tracked_users USING gin (traits);
SELECT pg_catalog.pg_extension_config_dump('dozor.tracked_users', '');
SELECT pg_catalog.pg_extension_config_dump('dozor.tracked_users_id_seq', '');
ALTER TABLE dozor.tracked_users ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.tracked_users FOR SELECT
    USING (@extschema@.dozor_may(tracked_users.project_id, 'viewer'));
CREATE POLICY admin_delete ON dozor.tracked_users FOR DELETE
    USING (@extschema@.dozor_may(tracked_users.project_id, 'admin'));

-- The UTC day of a moment: days since 1970-01-01.
CREATE FUNCTION @extschema@.dozor_day(ts timestamptz)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
AS $$ SELECT pg_catalog.floor(EXTRACT(epoch FROM ts) / 86400)::integer $$;

-- A new session's id: its creation day (server clock, UTC) * 2^37 + the
-- sequence. The day is the partition key of the session's batches and
-- markers, so it is fixed for the session's life, and a lookup by session
-- id alone prunes to one partition. Ids stay below 2^53 (exact as JSON
-- numbers in JavaScript) until the year 2149; the sequence stops at 2^37-1.
CREATE FUNCTION @extschema@.dozor_next_session_id()
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY INVOKER
AS $$
    SELECT @extschema@.dozor_day(pg_catalog.now())::bigint * 137438953472
           + pg_catalog.nextval('dozor.sessions_id_seq')
$$;

CREATE TABLE dozor.sessions (
    id              bigint PRIMARY KEY DEFAULT @extschema@.dozor_next_session_id(),
    project_id      bigint NOT NULL REFERENCES dozor.projects (id) ON DELETE CASCADE,
    external_id     uuid NOT NULL,
    tracked_user_id bigint REFERENCES dozor.tracked_users (id) ON DELETE SET NULL,
    url             text,
    referrer        text,
    user_agent      text,
    screen_width    integer,
    screen_height   integer,
    language        text,
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz NOT NULL,
    duration        integer NOT NULL DEFAULT 0,
    event_count     integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- activity summary, folded in from every batch at ingest (README:
    -- "Activity summary"); lists filter and sort on these without inflating
    active_ms       bigint NOT NULL DEFAULT 0,
    active_ranges   int8multirange NOT NULL DEFAULT '{}',
    click_count     integer NOT NULL DEFAULT 0,
    keypress_count  integer NOT NULL DEFAULT 0,
    mouse_activity_count integer NOT NULL DEFAULT 0,
    console_log_count    integer NOT NULL DEFAULT 0,
    console_warn_count   integer NOT NULL DEFAULT 0,
    console_error_count  integer NOT NULL DEFAULT 0,
    page_count      integer NOT NULL DEFAULT 0,
    pathnames       text[] NOT NULL DEFAULT '{}',
    first_url       text,
    size_bytes      bigint NOT NULL DEFAULT 0,
    UNIQUE (project_id, external_id)
);
-- (tracked_user_id) and (project_id, created_at) lookups, the user
-- foreign key's ON DELETE SET NULL included, use the leading columns of
-- the list indexes below; every batch's session update maintains each
-- index there is, so no prefix of one is kept.
CREATE INDEX ON dozor.sessions USING gin (pathnames);
-- The sessions list walks one of these per project (ties broken by id),
-- newest / longest / most active first or last, and stops after a page.
CREATE INDEX sessions_project_created_idx ON dozor.sessions (project_id, created_at, id);
CREATE INDEX sessions_project_duration_idx ON dozor.sessions (project_id, duration, id);
CREATE INDEX sessions_project_active_idx ON dozor.sessions (project_id, active_ms, id);
-- One user's sessions, newest first; ended_at rides along so that the
-- users list takes last seen and the session count from the index alone.
CREATE INDEX sessions_user_created_idx ON dozor.sessions (tracked_user_id, created_at, id) INCLUDE (ended_at);
SELECT pg_catalog.pg_extension_config_dump('dozor.sessions', '');
SELECT pg_catalog.pg_extension_config_dump('dozor.sessions_id_seq', '');
ALTER TABLE dozor.sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.sessions FOR SELECT
    USING (@extschema@.dozor_may(sessions.project_id, 'viewer'));
-- dozor_delete_session, dozor_cleanup; batches and markers go by cascade
CREATE POLICY admin_delete ON dozor.sessions FOR DELETE
    USING (@extschema@.dozor_may(sessions.project_id, 'admin'));
-- dozor_cleanup picks what to delete with SELECT ... FOR UPDATE SKIP
-- LOCKED, which needs UPDATE privilege and passes the UPDATE policy's
-- USING. WITH CHECK (false) makes that privilege good for locking only:
-- every actual UPDATE by a role under the policies fails.
CREATE POLICY admin_lock ON dozor.sessions FOR UPDATE
    USING (@extschema@.dozor_may(sessions.project_id, 'admin'))
    WITH CHECK (false);

-- The session of a client's session uuid in a project: ingest finds a
-- session by this primary key, and creates one when there is none. A table
-- of its own because on Citus dozor.sessions is distributed by id, and a
-- unique key there must include id (dozor_distribute drops the sessions'
-- unique key on (project_id, external_id)); this one is distributed by
-- external_id. A key may outlive its session (dozor_delete_session leaves
-- it): ingest then gives the uuid a new session, as it would without the
-- key. Cancel, erasure and retention delete keys with their sessions.
CREATE TABLE dozor.session_keys (
    external_id uuid NOT NULL,
    project_id  bigint NOT NULL REFERENCES dozor.projects (id) ON DELETE CASCADE,
    session_id  bigint NOT NULL,
    PRIMARY KEY (external_id, project_id)
);
-- retention deletes the keys of whole days by session id range
CREATE INDEX ON dozor.session_keys (session_id);
SELECT pg_catalog.pg_extension_config_dump('dozor.session_keys', '');
ALTER TABLE dozor.session_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.session_keys FOR SELECT
    USING (@extschema@.dozor_may(session_keys.project_id, 'viewer'));
-- dozor_erase_user, dozor_cleanup
CREATE POLICY admin_delete ON dozor.session_keys FOR DELETE
    USING (@extschema@.dozor_may(session_keys.project_id, 'admin'));

-- Batches and markers are range-partitioned by session id, one partition
-- per day of session creation (src/partitions.sql makes and drops them):
-- all rows of a session share one partition, retention drops whole days,
-- and every unique key includes session_id, as partitioning requires.
CREATE TABLE dozor.event_batches (
    id              bigint NOT NULL DEFAULT pg_catalog.nextval('dozor.event_batches_id_seq'),
    session_id      bigint NOT NULL REFERENCES dozor.sessions (id) ON DELETE CASCADE,
    first_timestamp bigint NOT NULL,
    last_timestamp  bigint NOT NULL,
    event_count     integer NOT NULL,
    -- gzip of the JSON array of the events exactly as sent
    data            bytea NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- length of `data` once inflated
    raw_bytes       integer NOT NULL,
    -- the per-batch event index written at ingest (src/batch_index.h):
    -- history, keyframes and the timeline mapping never inflate `data`
    event_index     bytea NOT NULL,
    -- console entries in this batch: the console feed inflates only these
    console_count   integer NOT NULL DEFAULT 0,
    -- 96-bit digest of the events' bytes: a retried batch is stored once
    content_hash    bytea NOT NULL,
    -- this batch's share of the session's activity summary
    click_count     integer NOT NULL DEFAULT 0,
    keypress_count  integer NOT NULL DEFAULT 0,
    mouse_activity_count integer NOT NULL DEFAULT 0,
    console_log_count    integer NOT NULL DEFAULT 0,
    console_warn_count   integer NOT NULL DEFAULT 0,
    console_error_count  integer NOT NULL DEFAULT 0,
    -- runs of user interaction, each [first, last + gap - 1) (src/limits.h):
    -- their union over the batches is the session's activity whatever the
    -- arrival order
    active_ranges   int8multirange NOT NULL DEFAULT '{}',
    -- the session's project (written by ingest): row-level security tests
    -- it without a subquery, which Citus would refuse
    project_id      bigint NOT NULL,
    PRIMARY KEY (session_id, id),
    UNIQUE (session_id, content_hash)
) PARTITION BY RANGE (session_id);
CREATE INDEX ON dozor.event_batches (session_id, first_timestamp, id);
-- The gzip blob never compresses further: skip pglz, store out of line.
-- The small index stays in the row so the history reads no TOAST.
ALTER TABLE dozor.event_batches ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE dozor.event_batches ALTER COLUMN event_index SET STORAGE MAIN;
SELECT pg_catalog.pg_extension_config_dump('dozor.event_batches', '');
SELECT pg_catalog.pg_extension_config_dump('dozor.event_batches_id_seq', '');
-- By the session's project, stored in the row: no probe of the session.
ALTER TABLE dozor.event_batches ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.event_batches FOR SELECT
    USING (@extschema@.dozor_may(event_batches.project_id, 'viewer'));

CREATE TABLE dozor.markers (
    id          bigint NOT NULL DEFAULT pg_catalog.nextval('dozor.markers_id_seq'),
    session_id  bigint NOT NULL REFERENCES dozor.sessions (id) ON DELETE CASCADE,
    -- the batch and position of the Custom event; NULL for the initial url
    -- marker that ingest derives from metadata.url. No foreign key: a batch
    -- is never deleted alone, its markers go with the session or the day.
    batch_id    bigint,
    event_index integer,
    timestamp   bigint NOT NULL,
    kind        text NOT NULL,
    data        jsonb,
    -- the session's project, for row-level security (as in event_batches)
    project_id  bigint NOT NULL,
    PRIMARY KEY (session_id, id)
) PARTITION BY RANGE (session_id);
CREATE INDEX ON dozor.markers (session_id, kind, timestamp);
CREATE INDEX ON dozor.markers (session_id, timestamp);
SELECT pg_catalog.pg_extension_config_dump('dozor.markers', '');
SELECT pg_catalog.pg_extension_config_dump('dozor.markers_id_seq', '');
ALTER TABLE dozor.markers ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.markers FOR SELECT
    USING (@extschema@.dozor_may(markers.project_id, 'viewer'));

-- Sessions the SDK cancelled (dozor_cancel_session) or a person's erasure
-- removed (dozor_erase_user): a batch for one of them is acknowledged and
-- discarded, so that a batch in flight cannot bring the session back.
-- dozor_cleanup removes tombstones older than its tombstone_ttl. Keys are
-- (project, session uuid), like the session's own.
CREATE TABLE dozor.session_tombstones (
    project_id  bigint NOT NULL REFERENCES dozor.projects (id) ON DELETE CASCADE,
    external_id uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (project_id, external_id)
);
CREATE INDEX ON dozor.session_tombstones (created_at);
SELECT pg_catalog.pg_extension_config_dump('dozor.session_tombstones', '');
-- Tombstones: an admin leaves them (dozor_erase_user) and expires them
-- (dozor_cleanup) in its projects; the SDK's cancel runs as the owner.
ALTER TABLE dozor.session_tombstones ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.session_tombstones FOR SELECT
    USING (@extschema@.dozor_may(session_tombstones.project_id, 'viewer'));
CREATE POLICY admin_insert ON dozor.session_tombstones FOR INSERT
    WITH CHECK (@extschema@.dozor_may(session_tombstones.project_id, 'admin'));
CREATE POLICY admin_update ON dozor.session_tombstones FOR UPDATE
    USING (@extschema@.dozor_may(session_tombstones.project_id, 'admin'))
    WITH CHECK (@extschema@.dozor_may(session_tombstones.project_id, 'admin'));
CREATE POLICY admin_delete ON dozor.session_tombstones FOR DELETE
    USING (@extschema@.dozor_may(session_tombstones.project_id, 'admin'));


-------------------------------------------------------------------------------
-- gzip (src/gzip.c)
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.dozor_gzip(data bytea, level integer DEFAULT 6)
RETURNS bytea
AS 'MODULE_PATHNAME', 'dozor_gzip'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_gzip(bytea, integer) IS
    'gzip of bytes at libdeflate level 0..12 (default 6).';

CREATE FUNCTION @extschema@.dozor_gunzip(data bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'dozor_gunzip'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_gunzip(bytea) IS
    'Inflates one or more gzip members, at most 10 MiB of output; 22P02 when not gzip, 54000 over the cap.';

-------------------------------------------------------------------------------
-- URLs (src/url_pathname.c)
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.dozor_url_pathname(url text)
RETURNS text
AS 'MODULE_PATHNAME', 'dozor_url_pathname'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_url_pathname(text) IS
    'The pathname of a URL as a browser parses it (WHATWG URL), "/" when it cannot be parsed.';

-------------------------------------------------------------------------------
-- Projects and API keys
-------------------------------------------------------------------------------

-- A fresh API key: dp_ + 32 lowercase hex (128 bits from the server's
-- strong random source, via two v4 UUIDs).
CREATE FUNCTION @extschema@.dozor_new_api_key()
RETURNS text
LANGUAGE sql VOLATILE SECURITY INVOKER
AS $$
    SELECT 'dp_' || pg_catalog.substr(pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
        pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, 'UTF8')), 'hex'), 1, 32)
$$;

-- The stored form of an API key.
CREATE FUNCTION @extschema@.dozor_api_key_hash(api_key text)
RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
AS $$ SELECT pg_catalog.sha256(pg_catalog.convert_to(api_key, 'UTF8')) $$;

-- dozor_create_project: with the grants below (it grants the new project).

-- Replaces a project's API key; the old key stops working at once.
CREATE FUNCTION @extschema@.dozor_rotate_api_key(project_id bigint)
RETURNS text
LANGUAGE plpgsql VOLATILE STRICT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_key text := @extschema@.dozor_new_api_key();
BEGIN
    UPDATE dozor.projects SET key_hash = @extschema@.dozor_api_key_hash(new_key)
    WHERE id = dozor_rotate_api_key.project_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'project % does not exist', project_id USING ERRCODE = '22023';
    END IF;
    RETURN new_key;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_rotate_api_key(bigint) IS
    'Replaces a project''s API key (admins); the old key stops working at once.';

-- The project of an API key, or 28000 (HTTP 401).
-- (src/ingest_store.c: the same check dozor_ingest makes.) The lookup is
-- by hash, so its timing says nothing about the key. VOLATILE: it reads
-- through statements prepared for ingest.
CREATE FUNCTION @extschema@.dozor_project_of_key(api_key text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dozor_project_of_key'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp;

-------------------------------------------------------------------------------
-- Grants of projects to roles (see src/access.sql for the access model)
-------------------------------------------------------------------------------

-- Raises 42501 unless the current role is a superuser or an admin of the project.
CREATE FUNCTION @extschema@.dozor_require_project_admin(project_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER) THEN
        IF NOT EXISTS (SELECT FROM dozor.projects p WHERE p.id = dozor_require_project_admin.project_id) THEN
            RAISE EXCEPTION 'project % does not exist', project_id USING ERRCODE = '22023';
        END IF;
        RETURN;
    END IF;
    -- one answer whether the project does not exist or is someone else's
    IF NOT @extschema@.dozor_may(dozor_require_project_admin.project_id, 'admin') THEN
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
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
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
    PERFORM @extschema@.dozor_sync_grant(dozor_grant.project_id, dozor_grant.role);
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_grant(bigint, regrole, text) IS
    'Grants a project to a role as viewer or admin (admins of the project).';

-- Removes a role's grant on a project; true when there was one. Takes
-- effect at once: the policies test the memberships in every query.
CREATE FUNCTION @extschema@.dozor_revoke(project_id bigint, role regrole)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF dozor_revoke.project_id IS NULL OR dozor_revoke.role IS NULL THEN
        RAISE EXCEPTION 'project_id and role must not be null' USING ERRCODE = '22023';
    END IF;
    PERFORM @extschema@.dozor_require_project_admin(dozor_revoke.project_id);
    DELETE FROM dozor.project_grants g
    WHERE g.project_id = dozor_revoke.project_id AND g.role = dozor_revoke.role;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM @extschema@.dozor_sync_grant(dozor_revoke.project_id, dozor_revoke.role);
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_revoke(bigint, regrole) IS
    'Removes a role''s grant on a project; true when there was one.';

-- Makes the role memberships of a role's grant on a project match its row
-- in dozor.project_grants (none when there is no row), creating the
-- project's two roles when missing: what the policies test (dozor_may).
-- Runs as the extension owner (it changes memberships), but only copies
-- what the row says, and the caller wrote the row under the policies, by
-- its own admin grant.
CREATE FUNCTION @extschema@.dozor_sync_grant(project_id bigint, role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    viewer text := @extschema@.dozor_project_role(project_id, 'viewer');
    admin text := @extschema@.dozor_project_role(project_id, 'admin');
    lvl text;
    r text;
BEGIN
    IF pg_catalog.to_regrole(viewer) IS NULL THEN
        EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', viewer);
    END IF;
    IF pg_catalog.to_regrole(admin) IS NULL THEN
        EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', admin);
        EXECUTE pg_catalog.format('GRANT %I TO %I', viewer, admin);
    END IF;
    -- a role that no longer exists has no memberships to change
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles x WHERE x.oid = role::oid) THEN
        RETURN;
    END IF;
    SELECT g.level INTO lvl FROM dozor.project_grants g
    WHERE g.project_id = dozor_sync_grant.project_id AND g.role = dozor_sync_grant.role;
    FOREACH r IN ARRAY ARRAY[viewer, admin] LOOP
        IF r = @extschema@.dozor_project_role(project_id, lvl) THEN
            IF NOT EXISTS (SELECT FROM pg_catalog.pg_auth_members m
                           WHERE m.roleid = r::regrole AND m.member = role::oid) THEN
                EXECUTE pg_catalog.format('GRANT %I TO %s', r, role);
            END IF;
        ELSIF EXISTS (SELECT FROM pg_catalog.pg_auth_members m
                      WHERE m.roleid = r::regrole AND m.member = role::oid) THEN
            EXECUTE pg_catalog.format('REVOKE %I FROM %s', r, role);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_sync_grant(bigint, regrole) IS
    'Internal: makes a role''s memberships in a project''s roles match its grant (dozor_grant and dozor_revoke call it).';

-- The creator of a project, granted it as admin by dozor_create_project.
-- dozor_create_project runs as the extension owner, so current_user there
-- is the owner, and SQL offers no "caller of the SECURITY DEFINER
-- function". The session's active role is the next best thing: SET ROLE's
-- role (PostgREST's SET LOCAL ROLE included), or else the login role. It
-- is the caller whenever a client calls dozor_create_project, which is the
-- only way a non-superuser makes a project; only when another SECURITY
-- DEFINER function calls it does the grant go to the session's role rather
-- than to that function's owner. The role must have dozor_admin's
-- privileges (which give the EXECUTE); otherwise, and for superusers,
-- NULL: the project starts without grants. (0.1.0 did this in a trigger on
-- dozor.projects; Citus cannot make a table with triggers a reference table.)
CREATE FUNCTION @extschema@.dozor_project_creator()
RETURNS regrole
LANGUAGE plpgsql STABLE SECURITY INVOKER
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
        RETURN creator;
    END IF;
    RETURN NULL;
END
$$;

-- Creates a project; its API key is returned here and never again. Runs
-- as the extension owner: a new project has no grants yet, so no policy
-- could let its creator insert it and read it back. The project's roles
-- are made here, and a non-superuser creator is granted it as admin (see
-- dozor_project_creator).
CREATE FUNCTION @extschema@.dozor_create_project(name text)
RETURNS TABLE (project_id bigint, api_key text)
LANGUAGE plpgsql VOLATILE STRICT
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_key text := @extschema@.dozor_new_api_key();
    creator regrole := @extschema@.dozor_project_creator();
BEGIN
    INSERT INTO dozor.projects (name, key_hash)
    VALUES (dozor_create_project.name, @extschema@.dozor_api_key_hash(new_key))
    RETURNING id INTO project_id;
    IF creator IS NOT NULL THEN
        INSERT INTO dozor.project_grants (project_id, role, level)
        VALUES (dozor_create_project.project_id, creator, 'admin');
    END IF;
    PERFORM @extschema@.dozor_sync_grant(dozor_create_project.project_id,
                                         COALESCE(creator, 'dozor_admin'::regrole));
    api_key := new_key;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_create_project(text) IS
    'Creates a project and returns its API key, shown this once; a non-superuser creator is granted admin on it.';

-------------------------------------------------------------------------------
-- Ingest (src/ingest.c does the parsing; this does the writes)
-------------------------------------------------------------------------------

CREATE TYPE @extschema@.dozor_prepared_batch AS (
    session_id       uuid,
    has_metadata     boolean,
    url              text,
    referrer         text,
    user_agent       text,
    screen_width     integer,
    screen_height    integer,
    language         text,
    url_pathname     text,
    user_id          text,
    traits           text,      -- JSON text; cast to jsonb as it is stored
    event_count      integer,
    first_timestamp  bigint,
    last_timestamp   bigint,
    data             bytea,
    raw_bytes        integer,
    event_index      bytea,
    console_count    integer,
    content_hash     bytea,
    marker_index     integer[],
    marker_timestamp bigint[],
    marker_kind      text[],
    marker_data      text[],    -- JSON texts; cast to jsonb row by row
    click_count      integer,
    keypress_count   integer,
    mouse_activity_count integer,
    console_log_count    integer,
    console_warn_count   integer,
    console_error_count  integer,
    active_starts    bigint[],
    active_ends      bigint[]   -- last interaction of each run
);

-- Validates a request body and prepares everything ingest stores.
CREATE FUNCTION @extschema@.dozor_prepare_batch(body bytea, content_encoding text DEFAULT NULL)
RETURNS @extschema@.dozor_prepared_batch
AS 'MODULE_PATHNAME', 'dozor_prepare_batch'
LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY INVOKER;

-- A stored batch's digest and event index made again from its blob
-- (src/ingest.c); the 0.2.0 upgrade rebuilds 0.1.0 batches with it. Owner only.
CREATE FUNCTION @extschema@.dozor_rebuild_batch(batch_id bigint, data bytea, raw_bytes integer,
                                               stored_hash bytea,
                                               OUT content_hash bytea, OUT event_index bytea)
AS 'MODULE_PATHNAME', 'dozor_rebuild_batch'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE SECURITY INVOKER;

-- A run of user interaction from its first to its last interaction, as
-- stored: [first, last + gap - 1) (src/limits.h), so that two runs overlap
-- or touch exactly when they are closer than the gap.
CREATE FUNCTION @extschema@.dozor_activity_run(first_ms bigint, last_ms bigint)
RETURNS int8range
AS 'MODULE_PATHNAME', 'dozor_activity_run'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER;

-- Active time of a session from its merged runs of activity, each stored
-- as [first, last + gap - 1) (src/limits.h): a run's active time is its
-- length - (gap - 1).
CREATE FUNCTION @extschema@.dozor_active_ms(ranges int8multirange)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dozor_active_ms'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER;

-- Milliseconds since the epoch as timestamptz, exactly.
CREATE FUNCTION @extschema@.dozor_ms_to_timestamptz(ms bigint)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
AS $$ SELECT 'epoch'::timestamptz + ms * '1 millisecond'::interval $$;

-- Takes the transaction-level advisory lock of one session of a project
-- (what = 'session', key = its uuid) or of one tracked user (what = 'user',
-- key = its external id); held to commit. Ingest, cancel and erasure of a
-- session serialize on it (src/session_lock.c says why, and why not under
-- REPEATABLE READ). Whoever needs both locks takes the user's first.
CREATE FUNCTION @extschema@.dozor_lock(what text, project_id bigint, key text)
RETURNS void
AS 'MODULE_PATHNAME', 'dozor_lock'
LANGUAGE C VOLATILE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_lock(text, bigint, text) IS
    'Internal: the transaction-level advisory lock on which ingest, cancel and erasure of a session (or a tracked user) serialize.';

-- POST /api/ingest: one SDK batch, all of docs/SPEC.md §3 in one transaction
-- (src/ingest.c validates and prepares, src/ingest_store.c writes).
-- Returns the session's internal id, or NULL when the session was
-- cancelled or erased (it has a tombstone): the batch is acknowledged and
-- discarded, nothing is stored (HTTP 204, so the SDK does not retry).
-- Runs as the extension owner (the API key is the check): the ingest role
-- reads and writes no table itself.
CREATE FUNCTION @extschema@.dozor_ingest(api_key text, body bytea, content_encoding text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dozor_ingest'
LANGUAGE C VOLATILE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.dozor_ingest(text, bytea, text) IS
    'POST /api/ingest: one SDK batch exactly as sent (key, body, Content-Encoding). Validates, stores exactly once, returns the session id; NULL when the session was cancelled or erased (answer 204).';

-- Deletes a project's session by uuid, with its batches and markers, and
-- leaves its tombstone (renewed if there was one); true when a session was
-- deleted. The tombstone is left either way: a cancel may overtake the
-- session's first batch.
CREATE FUNCTION @extschema@.dozor_tombstone_session(project_id bigint, session_id uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sid bigint;
    at_now timestamptz := pg_catalog.now();
BEGIN
    PERFORM @extschema@.dozor_lock('session', project_id, session_id::text);
    INSERT INTO dozor.session_tombstones AS t (project_id, external_id)
    VALUES (dozor_tombstone_session.project_id, dozor_tombstone_session.session_id)
    -- a value, not now(): Citus wants DO UPDATE immutable
    ON CONFLICT ON CONSTRAINT session_tombstones_pkey DO UPDATE SET created_at = at_now;
    DELETE FROM dozor.session_keys k
    WHERE k.external_id = dozor_tombstone_session.session_id
      AND k.project_id = dozor_tombstone_session.project_id
    RETURNING k.session_id INTO sid;
    IF sid IS NOT NULL THEN
        -- by id: on Citus one shard
        DELETE FROM dozor.sessions s
        WHERE s.id = sid AND s.project_id = dozor_tombstone_session.project_id;
        IF FOUND THEN
            RETURN true;
        END IF;
    END IF;
    -- a session stored without its key (a bulk load)
    DELETE FROM dozor.sessions s
    WHERE s.project_id = dozor_tombstone_session.project_id
      AND s.external_id = dozor_tombstone_session.session_id;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_tombstone_session(bigint, uuid) IS
    'Internal: deletes a project''s session by uuid and leaves its tombstone; true when a session was deleted.';

-- Removes the tombstones older than tombstone_ttl (dozor_cleanup calls
-- it); returns how many. Until then a tombstone discards every batch of
-- its session.
CREATE FUNCTION @extschema@.dozor_expire_tombstones(tombstone_ttl interval DEFAULT '7 days')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF tombstone_ttl IS NULL OR tombstone_ttl < interval '0' THEN
        RAISE EXCEPTION 'tombstone_ttl must be a non-negative interval (got %)', COALESCE(tombstone_ttl::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Batches of a cancelled session are discarded for this long, e.g. ''7 days''.';
    END IF;
    DELETE FROM dozor.session_tombstones t WHERE t.created_at < pg_catalog.now() - tombstone_ttl;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_expire_tombstones(interval) IS
    'Removes tombstones older than tombstone_ttl (dozor_cleanup calls it); returns how many.';

-- POST /api/sessions/cancel: hard delete, scoped to the key's project,
-- leaving a tombstone: batches of the session that arrive later (already
-- in flight when the SDK cancelled) are discarded. Runs as the extension
-- owner, like dozor_ingest: the API key is the check.
CREATE FUNCTION @extschema@.dozor_cancel_session(api_key text, session_id uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    project bigint := @extschema@.dozor_project_of_key(api_key);
BEGIN
    IF dozor_cancel_session.session_id IS NULL THEN
        RAISE EXCEPTION 'dozor_cancel_session: session_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    PERFORM @extschema@.dozor_tombstone_session(project, dozor_cancel_session.session_id);
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_cancel_session(text, uuid) IS
    'POST /api/sessions/cancel: deletes the key''s project''s session by uuid and leaves a tombstone, so batches still in flight are discarded.';

-- Dashboard-side delete by internal id; true when a session was deleted.
-- Its key stays (see dozor.session_keys). PL/pgSQL, not SQL: on Citus this
-- runs on the session's worker, and Citus plans no SQL function's
-- parameters there.
CREATE FUNCTION @extschema@.dozor_delete_session(session_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM dozor.sessions s WHERE s.id = dozor_delete_session.session_id;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_delete_session(bigint) IS
    'Dashboard delete of a session by id (admins); true when one was deleted. Leaves no tombstone.';

-- Erasure of a person (GDPR art. 17): deletes a project's tracked user and
-- every session linked to it, with their batches and markers, in one
-- transaction, leaving a tombstone per session so that batches still in
-- flight cannot bring one back; returns how many sessions it removed (0
-- for an unknown user). Holding the user's lock (see dozor_lock), no batch
-- can link another session to the user meanwhile; a batch that identifies
-- the same user id after the erasure commits starts a new tracked user.
CREATE FUNCTION @extschema@.dozor_erase_user(project_id bigint, external_id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    uid bigint;
    sess uuid;
    n bigint := 0;
BEGIN
    IF dozor_erase_user.project_id IS NULL OR dozor_erase_user.external_id IS NULL THEN
        RAISE EXCEPTION 'dozor_erase_user: project_id and external_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    PERFORM @extschema@.dozor_require_project_admin(dozor_erase_user.project_id);
    PERFORM @extschema@.dozor_lock('user', dozor_erase_user.project_id, dozor_erase_user.external_id);
    SELECT u.id INTO uid FROM dozor.tracked_users u
    WHERE u.project_id = dozor_erase_user.project_id AND u.external_id = dozor_erase_user.external_id;
    IF uid IS NULL THEN
        RETURN 0;
    END IF;
    FOR sess IN SELECT s.external_id FROM dozor.sessions s
                WHERE s.tracked_user_id = uid ORDER BY s.external_id LOOP
        IF @extschema@.dozor_tombstone_session(dozor_erase_user.project_id, sess) THEN
            n := n + 1;
        END IF;
    END LOOP;
    DELETE FROM dozor.tracked_users u WHERE u.id = uid;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_erase_user(bigint, text) IS
    'Erasure of a person (GDPR art. 17): deletes the tracked user and every session linked to it, leaves their tombstones, returns how many sessions.';

-------------------------------------------------------------------------------
-- Read side: session-level functions (stored batches) and their pure
-- counterparts over an events array. src/stream.c merges; the feeds are in
-- src/history.c, src/console.c, src/merged.c, src/markers.c, src/mapping.c.
-------------------------------------------------------------------------------

-- GET /api/sessions/{id}/events: each stored batch, gzip bytes in base64,
-- in stream order (first_timestamp, id). All at once by default; with a
-- page_limit (1..1000) or a cursor, a page at a time: the page's last row
-- carries next_cursor when more remain (keyset on (first_timestamp, id),
-- so a page costs the same wherever it starts). A cursor without a
-- page_limit pages by 100.
CREATE FUNCTION @extschema@.dozor_session_batches(session_id bigint, cursor text DEFAULT NULL,
                                                 page_limit integer DEFAULT NULL)
RETURNS TABLE (id bigint, first_timestamp bigint, last_timestamp bigint,
               event_count integer, data text, next_cursor text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    made_for text[] := ARRAY['batches', dozor_session_batches.session_id::text];
    after_ts bigint;
    after_id bigint;
    page integer := COALESCE(dozor_session_batches.page_limit, 100);
BEGIN
    IF dozor_session_batches.cursor IS NULL AND dozor_session_batches.page_limit IS NULL THEN
        RETURN QUERY
            SELECT b.id, b.first_timestamp, b.last_timestamp, b.event_count,
                   pg_catalog.translate(pg_catalog.encode(b.data, 'base64'), E'\n', ''), NULL::text
            FROM dozor.event_batches b
            WHERE b.session_id = dozor_session_batches.session_id
            ORDER BY b.first_timestamp, b.id;
        RETURN;
    END IF;
    PERFORM @extschema@.dozor_check_page_limit(page);
    IF dozor_session_batches.cursor IS NOT NULL THEN
        SELECT d.key_num, d.last_id INTO after_ts, after_id
        FROM @extschema@.dozor_cursor_decode(dozor_session_batches.cursor, made_for, false) d;
    END IF;
    RETURN QUERY
        SELECT p.id, p.first_timestamp, p.last_timestamp, p.event_count,
               pg_catalog.translate(pg_catalog.encode(p.data, 'base64'), E'\n', ''),
               CASE WHEN p.n = page AND p.more
                    THEN @extschema@.dozor_cursor_encode(VARIADIC made_for || ARRAY[p.first_timestamp::text, p.id::text])
               END
        FROM (SELECT b.id, b.first_timestamp, b.last_timestamp, b.event_count, b.data,
                     pg_catalog.row_number() OVER (ORDER BY b.first_timestamp, b.id) AS n,
                     pg_catalog.count(*) OVER () > page AS more
              FROM (SELECT x.* FROM dozor.event_batches x
                    WHERE x.session_id = dozor_session_batches.session_id
                      AND (after_id IS NULL OR (x.first_timestamp, x.id) > (after_ts, after_id))
                    ORDER BY x.first_timestamp, x.id
                    LIMIT page + 1) b) p
        WHERE p.n <= page
        ORDER BY p.n;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_session_batches(bigint, text, integer) IS
    'GET /api/sessions/{id}/events: the stored batches in stream order, gzip as base64; pages with cursor and page_limit (1..1000), next_cursor on the last row of a page.';

-- The session stream as one json array; with from_ms/to_ms only the events
-- whose timestamps (on the chosen timeline, whole milliseconds) are in
-- [from_ms, to_ms), each exactly as in the whole stream. NULL bounds are
-- open. A window inflates only the batches that overlap it.
CREATE FUNCTION @extschema@.dozor_events(session_id bigint, compress_idle boolean DEFAULT false,
                                        gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000,
                                        from_ms double precision DEFAULT NULL,
                                        to_ms double precision DEFAULT NULL)
RETURNS json
AS 'MODULE_PATHNAME', 'dozor_events'
LANGUAGE C STABLE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_events(bigint, boolean, integer, integer, double precision, double precision) IS
    'The session stream as one JSON array, optionally on the idle-compressed timeline, whole or the window [from_ms, to_ms); each event byte-identical to what the SDK sent.';

-- Every Meta (4) and FullSnapshot (2) event in stream order, from the batch
-- indexes alone: where a player can start rendering (src/keyframes.c).
CREATE FUNCTION @extschema@.dozor_keyframes(session_id bigint, compress_idle boolean DEFAULT false,
                                           gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000)
RETURNS TABLE ("timestamp" double precision, type integer)
AS 'MODULE_PATHNAME', 'dozor_keyframes'
LANGUAGE C STABLE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_keyframes(bigint, boolean, integer, integer) IS
    'Every Meta (4) and FullSnapshot (2) event of the session in stream order, with its time on the chosen timeline: where a player can start rendering.';

CREATE FUNCTION @extschema@.dozor_compress_events(events json, gap_ms integer DEFAULT 30000,
                                                 cap_ms integer DEFAULT 5000)
RETURNS json
AS 'MODULE_PATHNAME', 'dozor_compress_events'
LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_compress_events(json, integer, integer) IS
    'An events array as a session stream on the idle-compressed timeline (pure counterpart of dozor_events).';

-- A marker as the read side returns it (a type, not OUT parameters, so
-- that dozor_markers can take an argument named kind as well).
CREATE TYPE @extschema@.dozor_marker AS ("timestamp" bigint, kind text, data jsonb);

-- Markers of a session (of one kind, or all when kind is NULL) in the
-- stream's order (docs/SPEC.md §5.2): by timestamp; at one timestamp the session's
-- initial url marker first, then batch order (first_timestamp, id) and
-- position in the batch, exactly as dozor_events and dozor_history order
-- events, whatever order the batches arrived in. Callers keep the order
-- with WITH ORDINALITY. PL/pgSQL, not SQL: Citus plans no query of a SQL
-- function that uses its parameters (and so the type: an OUT parameter
-- could not be named kind as well).
CREATE FUNCTION @extschema@.dozor_stream_markers(session_id bigint, kind text DEFAULT NULL)
RETURNS SETOF @extschema@.dozor_marker
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
        SELECT m.timestamp, m.kind, m.data
        FROM dozor.markers m
        LEFT JOIN dozor.event_batches b ON b.session_id = dozor_stream_markers.session_id AND b.id = m.batch_id
        WHERE m.session_id = dozor_stream_markers.session_id
          AND (dozor_stream_markers.kind IS NULL OR m.kind = dozor_stream_markers.kind)
        ORDER BY m.timestamp, m.batch_id IS NOT NULL, b.first_timestamp, m.batch_id, m.event_index, m.id;
END
$$;

-- Markers of a session by timestamp; kind filter: NULL or '' (all), url, identity.
CREATE FUNCTION @extschema@.dozor_markers(session_id bigint, kind text DEFAULT NULL)
RETURNS SETOF @extschema@.dozor_marker
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF dozor_markers.kind IS NOT NULL AND dozor_markers.kind NOT IN ('', 'url', 'identity') THEN
        RAISE EXCEPTION 'unknown marker kind "%"', dozor_markers.kind
            USING ERRCODE = '22023', HINT = 'Use url, identity, or NULL for all markers.';
    END IF;
    RETURN QUERY
        SELECT m.timestamp, m.kind, m.data
        FROM @extschema@.dozor_stream_markers(dozor_markers.session_id, NULLIF(dozor_markers.kind, ''))
             WITH ORDINALITY AS m ("timestamp", kind, data, ord)
        ORDER BY m.ord;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_markers(bigint, text) IS
    'The session''s dozor:* markers in stream order; kind NULL or '''' for all, url, identity.';

CREATE FUNCTION @extschema@.dozor_extract_markers(events json)
RETURNS SETOF @extschema@.dozor_marker
AS 'MODULE_PATHNAME', 'dozor_extract_markers'
LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_extract_markers(json) IS
    'The dozor:* markers of an events array in stream order (pure counterpart of dozor_markers).';

CREATE FUNCTION @extschema@.dozor_history(session_id bigint, compress_idle boolean DEFAULT true,
                                         idle_gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000)
RETURNS TABLE (id text, kind text, started_at double precision, ended_at double precision,
               real_duration_ms bigint, pathname text, url text, user_id text, traits jsonb)
AS 'MODULE_PATHNAME', 'dozor_history'
LANGUAGE C STABLE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_history(bigint, boolean, integer, integer) IS
    'The history feed of a session: init, navigation, idle and identify rows (docs/HISTORY.md), on the idle-compressed timeline by default.';

CREATE FUNCTION @extschema@.dozor_build_history(events json, initial_url text DEFAULT NULL,
                                               session_ended_at bigint DEFAULT NULL,
                                               compress_idle boolean DEFAULT false,
                                               idle_gap_ms integer DEFAULT 30000,
                                               cap_ms integer DEFAULT 5000)
RETURNS TABLE (id text, kind text, started_at double precision, ended_at double precision,
               real_duration_ms bigint, pathname text, url text, user_id text, traits jsonb)
AS 'MODULE_PATHNAME', 'dozor_build_history'
LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_build_history(json, text, bigint, boolean, integer, integer) IS
    'The history feed of an events array (pure counterpart of dozor_history).';

CREATE FUNCTION @extschema@.dozor_console(session_id bigint, compress_idle boolean DEFAULT true,
                                         gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000)
RETURNS TABLE (time_offset bigint, "timestamp" bigint, level text, payload text[], trace text[])
AS 'MODULE_PATHNAME', 'dozor_console'
LANGUAGE C STABLE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_console(bigint, boolean, integer, integer) IS
    'The console feed of a session: level, payload, trace and offset of every console entry.';

CREATE FUNCTION @extschema@.dozor_console_logs(events json, compress_idle boolean DEFAULT false,
                                              gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000)
RETURNS TABLE (time_offset bigint, "timestamp" bigint, level text, payload text[], trace text[])
AS 'MODULE_PATHNAME', 'dozor_console_logs'
LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_console_logs(json, boolean, integer, integer) IS
    'The console feed of an events array (pure counterpart of dozor_console).';

CREATE FUNCTION @extschema@.dozor_to_compressed(session_id bigint, real_ms double precision,
                                               gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000)
RETURNS double precision
AS 'MODULE_PATHNAME', 'dozor_to_compressed'
LANGUAGE C STABLE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_to_compressed(bigint, double precision, integer, integer) IS
    'A real timestamp of the session mapped onto its idle-compressed timeline (the seek bar).';

CREATE FUNCTION @extschema@.dozor_to_real(session_id bigint, compressed_ms double precision,
                                         gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000)
RETURNS double precision
AS 'MODULE_PATHNAME', 'dozor_to_real'
LANGUAGE C STABLE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_to_real(bigint, double precision, integer, integer) IS
    'A time on the session''s idle-compressed timeline mapped back to a real timestamp.';

CREATE FUNCTION @extschema@.dozor_map_to_compressed(events json, real_ms double precision,
                                                   gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000)
RETURNS double precision
AS 'MODULE_PATHNAME', 'dozor_map_to_compressed'
LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_map_to_compressed(json, double precision, integer, integer) IS
    'A real timestamp mapped onto the idle-compressed timeline of an events array.';

CREATE FUNCTION @extschema@.dozor_map_to_real(events json, compressed_ms double precision,
                                             gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000)
RETURNS double precision
AS 'MODULE_PATHNAME', 'dozor_map_to_real'
LANGUAGE C IMMUTABLE PARALLEL SAFE SECURITY INVOKER;
COMMENT ON FUNCTION @extschema@.dozor_map_to_real(json, double precision, integer, integer) IS
    'A compressed time mapped back to a real timestamp for an events array.';
