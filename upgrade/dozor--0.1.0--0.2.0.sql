/*
 * dozor 0.1.0 -> 0.2.0 (ALTER EXTENSION dozor UPDATE TO '0.2.0').
 *
 * 0.2.0 is in development: this script grows with it until the release, and
 * test/upgrade checks after every change that a 0.1.0 store upgraded by it
 * gives byte-identical feeds, takes new batches, and has the catalog of a
 * fresh CREATE EXTENSION.
 *
 * Sections, in the order they must run:
 *   1. stored batches: event indexes bound to their rows
 *   2. cancelled sessions: tombstones
 *   3. functions: those 0.2.0 dropped, added or changed, each exactly as
 *      in the install script
 *   4. partitioned storage: batches and markers by session day
 *   5. keys and policies a Citus cluster can distribute
 *   6. every function's grants, as the install script gives them
 */
\echo Use "ALTER EXTENSION dozor UPDATE TO '0.2.0'" to load this file. \quit

-------------------------------------------------------------------------------
-- 1. Stored batches: event indexes bound to their rows
--
-- 0.2.0 seals each batch's event index with the batch's digest (a valid
-- index of another batch no longer passes), adds the classes full
-- snapshot, meta and other dozor:* marker, and computes digests with
-- another hash. Every 0.1.0 digest and index is made again from its blob,
-- exactly as ingest makes them: this reads and inflates every stored batch
-- once (README, "Upgrading", gives the cost per GB).
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.dozor_rebuild_batch(batch_id bigint, data bytea, raw_bytes integer,
                                               stored_hash bytea,
                                               OUT content_hash bytea, OUT event_index bytea)
AS 'MODULE_PATHNAME', 'dozor_rebuild_batch'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE SECURITY INVOKER;
REVOKE ALL ON FUNCTION @extschema@.dozor_rebuild_batch(bigint, bytea, integer, bytea) FROM PUBLIC;

-- The digest too: 0.2.0 hashes with XXH64 (src/xxh64.c), and a batch
-- retried after the update must find its stored copy.
UPDATE dozor.event_batches b
SET (content_hash, timeline) = (SELECT r.content_hash, r.event_index
                                FROM @extschema@.dozor_rebuild_batch(b.id, b.data, b.raw_bytes, b.content_hash) r);

-- What follows changes tables that 0.1.0's ingest and reads use while the
-- update runs: take them all now, in the order ingest takes them (its key
-- lookup reads projects first), so that the update waits for calls in
-- flight instead of deadlocking with one (bench/upgrade.sh found that: a
-- later DROP TRIGGER on projects against an ingest that had read projects
-- and waited for sessions). Ingest and reads queue from here to the commit.
LOCK TABLE dozor.projects, dozor.sessions, dozor.event_batches, dozor.markers,
           dozor.tracked_users, dozor.project_grants IN ACCESS EXCLUSIVE MODE;

-------------------------------------------------------------------------------
-- 2. cancelled sessions: tombstones
-------------------------------------------------------------------------------
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
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = session_tombstones.project_id));
CREATE POLICY admin_insert ON dozor.session_tombstones FOR INSERT
    WITH CHECK (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = session_tombstones.project_id AND v.level = 'admin'));
CREATE POLICY admin_update ON dozor.session_tombstones FOR UPDATE
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = session_tombstones.project_id AND v.level = 'admin'))
    WITH CHECK (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = session_tombstones.project_id AND v.level = 'admin'));
CREATE POLICY admin_delete ON dozor.session_tombstones FOR DELETE
    USING (EXISTS (SELECT FROM dozor.my_grants v WHERE v.project_id = session_tombstones.project_id AND v.level = 'admin'));

GRANT SELECT ON dozor.session_tombstones TO dozor_viewer;
GRANT INSERT (project_id, external_id), UPDATE (created_at), DELETE ON dozor.session_tombstones TO dozor_admin;

-------------------------------------------------------------------------------
-- 2b. Indexes that were leading prefixes of others: every batch's session
-- update maintained them for nothing (src/dozor.sql says which serve)
-------------------------------------------------------------------------------

DROP INDEX dozor.sessions_tracked_user_id_idx;
DROP INDEX dozor.sessions_project_id_created_at_idx;


-------------------------------------------------------------------------------
-- 3. Functions: dropped (their signature changed), then every new or changed
-- function exactly as in the install script, then the grants of all
-------------------------------------------------------------------------------

DROP FUNCTION @extschema@.dozor_cleanup(interval);
DROP FUNCTION @extschema@.dozor_events(bigint,boolean,integer,integer);
DROP FUNCTION @extschema@.dozor_session_batches(bigint);

-- The UTC day of a moment: days since 1970-01-01.
CREATE OR REPLACE FUNCTION @extschema@.dozor_day(ts timestamptz)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
AS $$ SELECT pg_catalog.floor(EXTRACT(epoch FROM ts) / 86400)::integer $$;

-- A new session's id: its creation day (server clock, UTC) * 2^37 + the
-- sequence. The day is the partition key of the session's batches and
-- markers, so it is fixed for the session's life, and a lookup by session
-- id alone prunes to one partition. Ids stay below 2^53 (exact as JSON
-- numbers in JavaScript) until the year 2149; the sequence stops at 2^37-1.
CREATE OR REPLACE FUNCTION @extschema@.dozor_next_session_id()
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY INVOKER
AS $$
    SELECT @extschema@.dozor_day(pg_catalog.now())::bigint * 137438953472
           + pg_catalog.nextval('dozor.sessions_id_seq')
$$;

-- Replaces a project's API key; the old key stops working at once.
CREATE OR REPLACE FUNCTION @extschema@.dozor_rotate_api_key(project_id bigint)
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

-- The project of an API key, or 28000 (HTTP 401).
-- (src/ingest_store.c: the same check dozor_ingest makes.) The lookup is
-- by hash, so its timing says nothing about the key. VOLATILE: it reads
-- through statements prepared for ingest.
CREATE OR REPLACE FUNCTION @extschema@.dozor_project_of_key(api_key text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dozor_project_of_key'
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp;

-- Raises 42501 unless the current role is a superuser or an admin of the project.
CREATE OR REPLACE FUNCTION @extschema@.dozor_require_project_admin(project_id bigint)
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

-- Grants a project to a role as viewer or admin (replacing its level).
-- SECURITY INVOKER: the caller's own admin grant is the check, here and in
-- the policies on dozor.project_grants.
CREATE OR REPLACE FUNCTION @extschema@.dozor_grant(project_id bigint, role regrole, level text)
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

-- Removes a role's grant on a project; true when there was one. Takes
-- effect at once: the policies test the memberships in every query.
CREATE OR REPLACE FUNCTION @extschema@.dozor_revoke(project_id bigint, role regrole)
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

-- A run of user interaction from its first to its last interaction, as
-- stored: [first, last + gap - 1) (src/limits.h), so that two runs overlap
-- or touch exactly when they are closer than the gap.
CREATE OR REPLACE FUNCTION @extschema@.dozor_activity_run(first_ms bigint, last_ms bigint)
RETURNS int8range
AS 'MODULE_PATHNAME', 'dozor_activity_run'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER;

-- Active time of a session from its merged runs of activity, each stored
-- as [first, last + gap - 1) (src/limits.h): a run's active time is its
-- length - (gap - 1).
CREATE OR REPLACE FUNCTION @extschema@.dozor_active_ms(ranges int8multirange)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dozor_active_ms'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER;

-- Takes the transaction-level advisory lock of one session of a project
-- (what = 'session', key = its uuid) or of one tracked user (what = 'user',
-- key = its external id); held to commit. Ingest, cancel and erasure of a
-- session serialize on it (src/session_lock.c says why, and why not under
-- REPEATABLE READ). Whoever needs both locks takes the user's first.
CREATE OR REPLACE FUNCTION @extschema@.dozor_lock(what text, project_id bigint, key text)
RETURNS void
AS 'MODULE_PATHNAME', 'dozor_lock'
LANGUAGE C VOLATILE SECURITY INVOKER;

-- POST /api/ingest: one SDK batch, all of docs/SPEC.md §3 in one transaction
-- (src/ingest.c validates and prepares, src/ingest_store.c writes).
-- Returns the session's internal id, or NULL when the session was
-- cancelled or erased (it has a tombstone): the batch is acknowledged and
-- discarded, nothing is stored (HTTP 204, so the SDK does not retry).
-- Runs as the extension owner (the API key is the check): the ingest role
-- reads and writes no table itself.
CREATE OR REPLACE FUNCTION @extschema@.dozor_ingest(api_key text, body bytea, content_encoding text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dozor_ingest'
LANGUAGE C VOLATILE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- Deletes a project's session by uuid, with its batches and markers, and
-- leaves its tombstone (renewed if there was one); true when a session was
-- deleted. The tombstone is left either way: a cancel may overtake the
-- session's first batch.
CREATE OR REPLACE FUNCTION @extschema@.dozor_tombstone_session(project_id bigint, session_id uuid)
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

-- Removes the tombstones older than tombstone_ttl (dozor_cleanup calls
-- it); returns how many. Until then a tombstone discards every batch of
-- its session.
CREATE OR REPLACE FUNCTION @extschema@.dozor_expire_tombstones(tombstone_ttl interval DEFAULT '7 days')
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

-- POST /api/sessions/cancel: hard delete, scoped to the key's project,
-- leaving a tombstone: batches of the session that arrive later (already
-- in flight when the SDK cancelled) are discarded. Runs as the extension
-- owner, like dozor_ingest: the API key is the check.
CREATE OR REPLACE FUNCTION @extschema@.dozor_cancel_session(api_key text, session_id uuid)
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

-- Erasure of a person (GDPR art. 17): deletes a project's tracked user and
-- every session linked to it, with their batches and markers, in one
-- transaction, leaving a tombstone per session so that batches still in
-- flight cannot bring one back; returns how many sessions it removed (0
-- for an unknown user). Holding the user's lock (see dozor_lock), no batch
-- can link another session to the user meanwhile; a batch that identifies
-- the same user id after the erasure commits starts a new tracked user.
CREATE OR REPLACE FUNCTION @extschema@.dozor_erase_user(project_id bigint, external_id text)
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

-- GET /api/sessions/{id}/events: each stored batch, gzip bytes in base64,
-- in stream order (first_timestamp, id). All at once by default; with a
-- page_limit (1..1000) or a cursor, a page at a time: the page's last row
-- carries next_cursor when more remain (keyset on (first_timestamp, id),
-- so a page costs the same wherever it starts). A cursor without a
-- page_limit pages by 100.
CREATE OR REPLACE FUNCTION @extschema@.dozor_session_batches(session_id bigint, cursor text DEFAULT NULL,
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

-- The session stream as one json array; with from_ms/to_ms only the events
-- whose timestamps (on the chosen timeline, whole milliseconds) are in
-- [from_ms, to_ms), each exactly as in the whole stream. NULL bounds are
-- open. A window inflates only the batches that overlap it.
CREATE OR REPLACE FUNCTION @extschema@.dozor_events(session_id bigint, compress_idle boolean DEFAULT false,
                                        gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000,
                                        from_ms double precision DEFAULT NULL,
                                        to_ms double precision DEFAULT NULL)
RETURNS json
AS 'MODULE_PATHNAME', 'dozor_events'
LANGUAGE C STABLE SECURITY INVOKER;

-- Every Meta (4) and FullSnapshot (2) event in stream order, from the batch
-- indexes alone: where a player can start rendering (src/keyframes.c).
CREATE OR REPLACE FUNCTION @extschema@.dozor_keyframes(session_id bigint, compress_idle boolean DEFAULT false,
                                           gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000)
RETURNS TABLE ("timestamp" double precision, type integer)
AS 'MODULE_PATHNAME', 'dozor_keyframes'
LANGUAGE C STABLE SECURITY INVOKER;

-- Markers of a session (of one kind, or all when kind is NULL) in the
-- stream's order (docs/SPEC.md §5.2): by timestamp; at one timestamp the session's
-- initial url marker first, then batch order (first_timestamp, id) and
-- position in the batch, exactly as dozor_events and dozor_history order
-- events, whatever order the batches arrived in. Callers keep the order
-- with WITH ORDINALITY. PL/pgSQL, not SQL: Citus plans no query of a SQL
-- function that uses its parameters (and so the type: an OUT parameter
-- could not be named kind as well).
CREATE OR REPLACE FUNCTION @extschema@.dozor_stream_markers(session_id bigint, kind text DEFAULT NULL)
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
CREATE OR REPLACE FUNCTION @extschema@.dozor_markers(session_id bigint, kind text DEFAULT NULL)
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

-- GET /api/sessions/{id}: the session row, its activity summary, tracked
-- user and markers, as one object; NULL when there is no such session.
CREATE OR REPLACE FUNCTION @extschema@.dozor_session(session_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE STRICT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j jsonb;
BEGIN
    -- Two statements, not one with the markers as a subquery: on Citus
    -- this runs on the session's worker, where a query on a shard may not
    -- call a function that reads another table (dozor_stream_markers).
    -- (jsonb orders keys itself: the object is the same either way.)
    SELECT pg_catalog.jsonb_build_object(
        'id', s.id, 'projectId', s.project_id, 'sessionId', s.external_id,
        'url', s.url, 'referrer', s.referrer, 'userAgent', s.user_agent,
        'screenWidth', s.screen_width, 'screenHeight', s.screen_height,
        'language', s.language, 'startedAt', s.started_at, 'endedAt', s.ended_at,
        'duration', s.duration, 'eventCount', s.event_count, 'createdAt', s.created_at,
        'activity', pg_catalog.jsonb_build_object(
            'activeMs', s.active_ms, 'clickCount', s.click_count,
            'keypressCount', s.keypress_count, 'mouseActivityCount', s.mouse_activity_count,
            'consoleLogCount', s.console_log_count, 'consoleWarnCount', s.console_warn_count,
            'consoleErrorCount', s.console_error_count, 'pageCount', s.page_count,
            'pathnames', pg_catalog.to_jsonb(s.pathnames), 'firstUrl', s.first_url,
            'sizeBytes', s.size_bytes),
        'trackedUser', CASE WHEN u.id IS NULL THEN NULL ELSE pg_catalog.jsonb_build_object(
            'id', u.id, 'userId', u.external_id, 'traits', u.traits) END)
    INTO j
    FROM dozor.sessions s LEFT JOIN dozor.tracked_users u ON u.id = s.tracked_user_id
    WHERE s.id = dozor_session.session_id;
    IF j IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN j || pg_catalog.jsonb_build_object('markers', COALESCE((
        SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'timestamp', m.timestamp, 'kind', m.kind, 'data', m.data) ORDER BY m.ord)
        FROM @extschema@.dozor_stream_markers(dozor_session.session_id) WITH ORDINALITY
             AS m ("timestamp", kind, data, ord)), '[]'::jsonb));
END
$$;

-- Deletes the sessions created before now() - retention, with their
-- batches and markers; returns how many. Tracked users stay (they may come
-- back). Two ways, in this order:
--   * session by session: sessions created before the cutoff that are not
--     in a whole expired day (the partial day at the cutoff, 0.1.0's rows,
--     and, for a caller who may not drop days, everything due). Project by
--     project in chunks of 1000 along (project_id, created_at, id), each
--     chunk one DELETE whose cascades run at its end, so memory stays
--     bounded; rows locked by a concurrent ingest are skipped (SKIP
--     LOCKED), never waited for, and go at the next run. Row-level security
--     applies: an admin deletes in its own projects only.
--   * whole days (src/partitions.sql, dozor_drop_expired_days): partitions
--     of days that ended before the cutoff are dropped, then their
--     sessions deleted. This writes a few kB of WAL where deleting the rows
--     would write the whole day's data again. It is global (every
--     project's rows of the day), so it runs only for roles that may
--     execute dozor_drop_expired_days: the extension owner and superusers.
--     It comes last, because its ACCESS EXCLUSIVE lock on the partitioned
--     tables is held until the transaction ends.
-- Everything is one transaction (a function cannot commit). Running it
-- twice deletes nothing the second time. It also removes the tombstones
-- of cancelled sessions older than tombstone_ttl (dozor_expire_tombstones).
--
-- Daily at 03:00 with pg_cron (in the database where pg_cron runs jobs):
--   SELECT cron.schedule('dozor-retention', '0 3 * * *', $$SELECT dozor_cleanup('90 days')$$);
CREATE OR REPLACE FUNCTION @extschema@.dozor_cleanup(retention interval DEFAULT '90 days',
                                          tombstone_ttl interval DEFAULT '7 days')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cutoff timestamptz;
    chunk CONSTANT integer := 1000;
    total bigint := 0;
    n bigint;
    project bigint;
    last_at timestamptz;
    last_id bigint;
    by_day boolean := pg_catalog.has_function_privilege(
        '@extschema@.dozor_drop_expired_days(timestamptz)', 'EXECUTE');
    -- sessions with ids in [2^37, day_ids) are in whole expired days
    day_ids bigint := 0;
    uuids uuid[];
    ids bigint[];
    -- Citus locks rows only in queries of one shard: distributed, a chunk
    -- waits for an ingest holding one of its rows instead of skipping it
    lock_clause text := CASE WHEN @extschema@.dozor_is_distributed() THEN ''
                             ELSE 'FOR UPDATE SKIP LOCKED' END;
BEGIN
    IF retention IS NULL THEN
        RAISE EXCEPTION 'retention must not be NULL' USING ERRCODE = '22023';
    ELSIF retention < interval '0' THEN
        RAISE EXCEPTION 'retention must not be negative (got %)', retention
            USING ERRCODE = '22023', HINT = 'Sessions created more than this long ago are deleted, e.g. ''90 days''.';
    END IF;
    cutoff := pg_catalog.now() - retention;
    PERFORM @extschema@.dozor_expire_tombstones(tombstone_ttl);
    IF by_day THEN
        day_ids := @extschema@.dozor_day(cutoff)::bigint * 137438953472;
    END IF;
    FOR project IN SELECT p.id FROM dozor.projects p ORDER BY p.id LOOP
        -- keyset through the project's old sessions: each chunk starts
        -- after the last one, never rescanning what this call deleted
        last_at := '-infinity';
        last_id := 0;
        LOOP
            n := NULL;
            EXECUTE pg_catalog.format($q$
                WITH gone AS (
                    DELETE FROM dozor.sessions s
                    WHERE s.id IN (
                        SELECT c.id FROM dozor.sessions c
                        WHERE c.project_id = $1 AND c.created_at < $2
                          AND (c.created_at, c.id) > ($3, $4)
                          AND NOT (c.id >= 137438953472 AND c.id < $5)
                        ORDER BY c.created_at, c.id
                        LIMIT $6
                        %s)
                    RETURNING s.created_at, s.id, s.external_id)
                SELECT pg_catalog.count(*) OVER (), g.created_at, g.id,
                       pg_catalog.array_agg(g.external_id) OVER (), pg_catalog.array_agg(g.id) OVER ()
                FROM gone g ORDER BY g.created_at DESC, g.id DESC LIMIT 1$q$, lock_clause)
            INTO n, last_at, last_id, uuids, ids
            USING project, cutoff, last_at, last_id, day_ids, chunk;
            EXIT WHEN n IS NULL;
            -- their keys (whole days' keys go with the days)
            DELETE FROM dozor.session_keys k
            WHERE k.project_id = project AND k.external_id = ANY (uuids) AND k.session_id = ANY (ids);
            total := total + n;
        END LOOP;
    END LOOP;
    IF by_day THEN
        total := total + @extschema@.dozor_drop_expired_days(cutoff);
    END IF;
    RETURN total;
END
$$;

-- Partition name of a table and a day: event_batches_p20261206.
CREATE OR REPLACE FUNCTION @extschema@.dozor_partition_name(tbl text, day integer)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
AS $$ SELECT tbl || '_p' || pg_catalog.to_char(date '1970-01-01' + day, 'YYYYMMDD') $$;

-- Makes the day's partitions of dozor.event_batches and dozor.markers
-- where missing; returns how many it made (0, 1 or 2).
CREATE OR REPLACE FUNCTION @extschema@.dozor_add_day(day integer)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl text;
    part text;
    lo bigint;
    made integer := 0;
BEGIN
    -- day 0 is the legacy range [0, 2^37); 65535 keeps ids below 2^53
    IF day NOT BETWEEN 1 AND 65535 THEN
        RAISE EXCEPTION 'day % is out of range', day
            USING ERRCODE = '22023', HINT = 'A day is days since 1970-01-01, from 1 to 65535.';
    END IF;
    -- the common case (all there) takes no lock
    IF pg_catalog.to_regclass('dozor.' || @extschema@.dozor_partition_name('markers', day)) IS NOT NULL
       AND pg_catalog.to_regclass('dozor.' || @extschema@.dozor_partition_name('event_batches', day)) IS NOT NULL THEN
        RETURN 0;
    END IF;
    -- creators (ingest, maintain) take turns; the second finds it made
    PERFORM pg_catalog.pg_advisory_xact_lock('dozor.event_batches'::regclass::oid::bigint);
    lo := day::bigint * 137438953472;
    FOREACH tbl IN ARRAY ARRAY['event_batches', 'markers'] LOOP
        part := @extschema@.dozor_partition_name(tbl, day);
        CONTINUE WHEN pg_catalog.to_regclass('dozor.' || part) IS NOT NULL;
        -- STORAGE: the blob stays EXTERNAL, the index MAIN, as on the parent.
        -- A batch row is toasted only past 8160 bytes: then the blob goes
        -- out of line and the event index stays in the row uncompressed
        -- (at the default 2 kB, pglz would compress a 500-event batch's
        -- index on every insert and every read would inflate it).
        EXECUTE pg_catalog.format('CREATE TABLE dozor.%I (LIKE dozor.%I INCLUDING DEFAULTS'
                                  ' INCLUDING STORAGE INCLUDING COMPRESSION)%s', part, tbl,
                                  CASE tbl WHEN 'event_batches' THEN ' WITH (toast_tuple_target = 8160)' ELSE '' END);
        EXECUTE pg_catalog.format('ALTER TABLE dozor.%I ATTACH PARTITION dozor.%I FOR VALUES FROM (%s) TO (%s)',
                                  tbl, part, lo, lo + 137438953472);
        made := made + 1;
    END LOOP;
    RETURN made;
END
$$;

-- Today's partitions, made if missing (the fast path is two catalog
-- lookups). dozor_ingest calls this when it creates a session, before it
-- writes anything.
CREATE OR REPLACE FUNCTION @extschema@.dozor_ensure_today()
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today integer := @extschema@.dozor_day(pg_catalog.now());
BEGIN
    IF pg_catalog.to_regclass('dozor.' || @extschema@.dozor_partition_name('markers', today)) IS NULL THEN
        PERFORM @extschema@.dozor_add_day(today);
    END IF;
END
$$;

-- Makes today's partitions and those of the next days_ahead days where
-- missing; returns how many it made. Idempotent and cheap when there is
-- nothing to do: run it every few minutes, e.g. with pg_cron:
--   SELECT cron.schedule('dozor-maintain', '*/10 * * * *', $$SELECT dozor_maintain()$$);
CREATE OR REPLACE FUNCTION @extschema@.dozor_maintain(days_ahead integer DEFAULT 7)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    today integer := @extschema@.dozor_day(pg_catalog.now());
    made integer := 0;
BEGIN
    IF days_ahead IS NULL OR days_ahead NOT BETWEEN 0 AND 366 THEN
        RAISE EXCEPTION 'days_ahead must be between 0 and 366, not %', COALESCE(days_ahead::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    FOR d IN today .. today + days_ahead LOOP
        made := made + @extschema@.dozor_add_day(d);
    END LOOP;
    RETURN made;
END
$$;

-- Drops the partitions of every day that ended at or before cutoff and
-- deletes the sessions of those days; returns how many sessions. The
-- batches and markers go with the partitions: the WAL is a few catalog rows
-- plus the session rows. A day whose partitions stay locked (a long read)
-- after the retries is kept, with every later day, for the next run: no
-- batch is ever left without its session. The legacy partitions (0.1.0's
-- rows) go once no session of theirs is left. Called by dozor_cleanup.
--
-- Order. The DROPs hold ACCESS EXCLUSIVE on both parents until the
-- transaction ends, so they come last, after the session deletes. Those run
-- with session_replication_role = replica: their ON DELETE CASCADE triggers
-- would otherwise each query the partitioned tables (about 140 us a session
-- with 90 days, 14 s for a day of 100 000 sessions), and find nothing once
-- the day is dropped. If a day cannot be dropped, everything this call did
-- is undone (a subtransaction) and redone with the days before it only.
-- That needs a superuser owner (the GUC is superuser-only); otherwise the
-- days are dropped first and the cascades run under the lock.
-- (Any other trigger on dozor.sessions is skipped here too: there is none.)
CREATE OR REPLACE FUNCTION @extschema@.dozor_drop_expired_days(cutoff timestamptz)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- days before this one ended at or before the cutoff
    first_kept integer := @extschema@.dozor_day(cutoff);
    old_timeout text := pg_catalog.current_setting('lock_timeout');
    old_role text := pg_catalog.current_setting('session_replication_role');
    fast boolean := (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER);
    days integer[];
    failed integer;
    dropped boolean;
    total bigint;
BEGIN
    SELECT pg_catalog.array_agg(DISTINCT (pg_catalog.to_date(pg_catalog.right(c.relname, 8), 'YYYYMMDD') - date '1970-01-01'))
    INTO days
    FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent IN ('dozor.event_batches'::regclass, 'dozor.markers'::regclass)
      AND c.relname ~ '^(event_batches|markers)_p[0-9]{8}$';
    LOOP
        total := 0;
        failed := NULL;
        BEGIN
            IF fast THEN
                PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
                total := @extschema@.dozor_delete_sessions_below(first_kept);
                PERFORM pg_catalog.set_config('session_replication_role', old_role, true);
            END IF;
            PERFORM pg_catalog.set_config('lock_timeout', '500ms', true);
            FOREACH failed IN ARRAY COALESCE(days, '{}') LOOP
                CONTINUE WHEN failed >= first_kept;
                dropped := false;
                FOR attempt IN 1 .. 5 LOOP
                    BEGIN
                        EXECUTE pg_catalog.format('DROP TABLE IF EXISTS dozor.%I, dozor.%I',
                            @extschema@.dozor_partition_name('markers', failed),
                            @extschema@.dozor_partition_name('event_batches', failed));
                        dropped := true;
                        EXIT;
                    EXCEPTION WHEN lock_not_available THEN
                        PERFORM pg_catalog.pg_sleep(0.1 * attempt);
                    END;
                END LOOP;
                IF NOT dropped THEN
                    RAISE SQLSTATE 'DZ001';
                END IF;
            END LOOP;
            failed := NULL;
            PERFORM pg_catalog.set_config('lock_timeout', old_timeout, true);
            IF NOT fast THEN
                total := @extschema@.dozor_delete_sessions_below(first_kept);
            END IF;
            EXIT;
        EXCEPTION WHEN SQLSTATE 'DZ001' THEN
            RAISE WARNING 'dozor: the partitions of % stay locked; retention keeps them and later days for the next run',
                date '1970-01-01' + failed;
            first_kept := failed;
        END;
    END LOOP;

    -- 0.1.0's rows: dozor_cleanup deletes them session by session; the
    -- emptied partitions then go as a whole.
    -- (SELECT 1: on Citus a multi-shard subquery must return a column)
    IF pg_catalog.to_regclass('dozor.event_batches_legacy') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM dozor.sessions s WHERE s.id < 137438953472) THEN
        PERFORM pg_catalog.set_config('lock_timeout', '500ms', true);
        BEGIN
            DROP TABLE IF EXISTS dozor.markers_legacy, dozor.event_batches_legacy;
        EXCEPTION WHEN lock_not_available THEN
            NULL;   -- empty anyway; the next run drops them
        END;
        PERFORM pg_catalog.set_config('lock_timeout', old_timeout, true);
    END IF;
    RETURN total;
END
$$;

-- Deletes the sessions of the days before first_kept (by primary key
-- range, in chunks); returns how many. For dozor_drop_expired_days.
CREATE OR REPLACE FUNCTION @extschema@.dozor_delete_sessions_below(first_kept integer)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    upto bigint := first_kept::bigint * 137438953472;
    total bigint := 0;
    n bigint;
BEGIN
    LOOP
        WITH gone AS (
            DELETE FROM dozor.sessions s
            WHERE s.id IN (SELECT c.id FROM dozor.sessions c
                           WHERE c.id >= 137438953472 AND c.id < upto
                           ORDER BY c.id LIMIT 10000)
            RETURNING 1)
        SELECT pg_catalog.count(*) INTO n FROM gone;
        EXIT WHEN n = 0;
        total := total + n;
    END LOOP;
    -- and their keys (dozor.session_keys), by the same range
    DELETE FROM dozor.session_keys k WHERE k.session_id >= 137438953472 AND k.session_id < upto;
    RETURN total;
END
$$;

-- What is stored, per partition day and project: sessions, batches,
-- events, stored bytes (the gzip blobs), and per project the oldest and
-- newest day held. A row with project_id NULL totals the day and adds the
-- partitions' size on disk (heap, TOAST and indexes, every project's).
-- day is NULL for the legacy partitions of 0.1.0's rows. Reads every
-- session row and the batches' primary key: an operator's query, not a
-- dashboard's. Row-level security applies to the counts.
CREATE OR REPLACE FUNCTION @extschema@.dozor_storage()
RETURNS TABLE (day date, project_id bigint, sessions bigint, batches bigint, events bigint,
               stored_bytes bigint, disk_bytes bigint, oldest_day date, newest_day date)
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH per_session AS (
        SELECT s.id, s.project_id, s.event_count, s.size_bytes,
               CASE WHEN s.id >= 137438953472
                    THEN date '1970-01-01' + (s.id / 137438953472)::integer END AS day
        FROM dozor.sessions s),
    batch_counts AS (
        SELECT b.session_id, pg_catalog.count(*) AS batches
        FROM dozor.event_batches b GROUP BY b.session_id),
    per_project AS (
        SELECT p.day, p.project_id, pg_catalog.count(*) AS sessions,
               COALESCE(pg_catalog.sum(bc.batches), 0)::bigint AS batches,
               pg_catalog.sum(p.event_count)::bigint AS events,
               pg_catalog.sum(p.size_bytes)::bigint AS stored_bytes
        FROM per_session p LEFT JOIN batch_counts bc ON bc.session_id = p.id
        GROUP BY p.day, p.project_id),
    parts AS (
        SELECT CASE WHEN c.relname ~ '_legacy$' THEN NULL
                    ELSE pg_catalog.to_date(pg_catalog.right(c.relname, 8), 'YYYYMMDD') END AS day,
               pg_catalog.sum(pg_catalog.pg_total_relation_size(c.oid))::bigint AS disk_bytes
        FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent IN ('dozor.event_batches'::regclass, 'dozor.markers'::regclass)
        GROUP BY 1)
    SELECT pp.day, pp.project_id, pp.sessions, pp.batches, pp.events, pp.stored_bytes, NULL::bigint,
           pg_catalog.min(pp.day) OVER w, pg_catalog.max(pp.day) OVER w
    FROM per_project pp
    WINDOW w AS (PARTITION BY pp.project_id)
    UNION ALL
    SELECT COALESCE(pt.day, t.day), NULL, COALESCE(t.sessions, 0), COALESCE(t.batches, 0),
           COALESCE(t.events, 0), COALESCE(t.stored_bytes, 0), pt.disk_bytes,
           pg_catalog.min(t.day) OVER (), pg_catalog.max(t.day) OVER ()
    FROM (SELECT pp.day, pg_catalog.sum(pp.sessions)::bigint AS sessions,
                 pg_catalog.sum(pp.batches)::bigint AS batches, pg_catalog.sum(pp.events)::bigint AS events,
                 pg_catalog.sum(pp.stored_bytes)::bigint AS stored_bytes
          FROM per_project pp GROUP BY pp.day) t
    -- (the legacy day is NULL on both sides: match it as -infinity)
    FULL JOIN parts pt ON COALESCE(pt.day, '-infinity') = COALESCE(t.day, '-infinity')
    ORDER BY 1 NULLS FIRST, 2 NULLS FIRST
$$;

-- The per-project role of a level. Roles are per PostgreSQL cluster,
-- projects per database: the tag (from the database's name, which is the
-- same on every node of a Citus cluster) keeps two databases' project 1 apart.
CREATE OR REPLACE FUNCTION @extschema@.dozor_project_role(project_id bigint, level text)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY INVOKER
AS $$
    SELECT 'dozor_' || pg_catalog.substr(pg_catalog.md5(pg_catalog.current_database()), 1, 8)
           || '_p' || project_id || CASE WHEN level = 'admin' THEN '_admin' ELSE '_viewer' END
$$;

-- Whether the current role reaches the project at the level ('viewer' or
-- 'admin'; an admin reaches it as viewer too): the test of every policy.
-- One expression, so that the planner inlines it into the policy.
CREATE OR REPLACE FUNCTION @extschema@.dozor_may(project_id bigint, level text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
AS $$
    SELECT COALESCE(pg_catalog.pg_has_role(CURRENT_USER,
               pg_catalog.to_regrole(@extschema@.dozor_project_role(project_id, level))::oid, 'MEMBER'),
           false)
$$;

-- Makes the role memberships of a role's grant on a project match its row
-- in dozor.project_grants (none when there is no row), creating the
-- project's two roles when missing: what the policies test (dozor_may).
-- Runs as the extension owner (it changes memberships), but only copies
-- what the row says, and the caller wrote the row under the policies, by
-- its own admin grant.
CREATE OR REPLACE FUNCTION @extschema@.dozor_sync_grant(project_id bigint, role regrole)
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
CREATE OR REPLACE FUNCTION @extschema@.dozor_project_creator()
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
CREATE OR REPLACE FUNCTION @extschema@.dozor_create_project(name text)
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

-- Dashboard-side delete by internal id; true when a session was deleted.
-- Its key stays (see dozor.session_keys). PL/pgSQL, not SQL: on Citus this
-- runs on the session's worker, and Citus plans no SQL function's
-- parameters there.
CREATE OR REPLACE FUNCTION @extschema@.dozor_delete_session(session_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM dozor.sessions s WHERE s.id = dozor_delete_session.session_id;
    RETURN FOUND;
END
$$;

-- Whether dozor's tables are distributed (false without Citus).
CREATE OR REPLACE FUNCTION @extschema@.dozor_is_distributed()
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
                   WHERE p.logicalrelid = 'dozor.sessions'::regclass);
END
$$;

-- Per-session functions, delegated by their session_id argument.
CREATE OR REPLACE FUNCTION @extschema@.dozor_distributed_functions()
RETURNS SETOF regprocedure
LANGUAGE sql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.oid::regprocedure
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_depend d ON d.objid = p.oid AND d.classid = 'pg_catalog.pg_proc'::regclass
         AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
    JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'dozor'
    WHERE p.proname IN ('dozor_history', 'dozor_events', 'dozor_console', 'dozor_markers',
                        'dozor_session_batches', 'dozor_to_compressed', 'dozor_to_real',
                        'dozor_session', 'dozor_delete_session', 'dozor_keyframes')
      AND 'session_id' = ANY (p.proargnames)
    ORDER BY p.proname
$$;

-- Runs a DDL statement here and on every worker. The workers made dozor's
-- tables themselves (Citus runs CREATE EXTENSION dozor on each) and Citus
-- takes those as the workers' copies of the distributed tables rather
-- than making its own: what changes before distributing must change there
-- too, or later DDL that Citus propagates meets the old definition.
CREATE OR REPLACE FUNCTION @extschema@.dozor_on_every_node(command text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    failed text;
BEGIN
    EXECUTE command;
    EXECUTE 'SELECT pg_catalog.string_agg(r.nodename || '':'' || r.nodeport || '': '' || r.result, ''; '')
             FROM pg_catalog.run_command_on_workers($1) r WHERE NOT r.success'
        INTO failed USING command;
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION 'dozor_distribute: % failed on %', command, failed USING ERRCODE = '55000';
    END IF;
END
$$;

-- Distributes dozor over the Citus cluster this runs on (the coordinator).
-- shard_count: shards of the session tables (NULL: citus.shard_count, 32
-- by default). Idempotent: a second call does nothing. Existing rows move
-- to the workers. Returns a line per step taken.
CREATE OR REPLACE FUNCTION @extschema@.dozor_distribute(shard_count integer DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    workers integer;
    f regprocedure;
    fk record;
    fks text[] := '{}';
    t text;
    shards integer;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'citus') THEN
        RAISE EXCEPTION 'dozor_distribute needs the Citus extension'
            USING ERRCODE = '0A000',
                  HINT = 'Install Citus, add citus to shared_preload_libraries, CREATE EXTENSION citus and add workers; dozor works without it on a single node.';
    END IF;
    IF @extschema@.dozor_is_distributed() THEN
        RETURN NEXT 'already distributed';
        RETURN;
    END IF;
    EXECUTE 'SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_node n
             WHERE n.noderole = ''primary'' AND n.groupid <> 0 AND n.isactive'
        INTO workers;
    IF workers = 0 THEN
        RAISE EXCEPTION 'dozor_distribute needs a Citus coordinator with workers'
            USING ERRCODE = '55000',
                  HINT = 'Add workers with citus_add_node(host, port) on the coordinator first.';
    END IF;
    shards := COALESCE(shard_count, pg_catalog.current_setting('citus.shard_count')::integer);
    IF shards NOT BETWEEN 1 AND 64000 THEN
        RAISE EXCEPTION 'shard_count must be between 1 and 64000, not %', shards USING ERRCODE = '22023';
    END IF;
    -- keys to reference tables are made over one connection per node
    PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);

    -- what Citus cannot keep (see the top of this file)
    PERFORM @extschema@.dozor_on_every_node(
        'ALTER TABLE dozor.sessions DROP CONSTRAINT IF EXISTS sessions_project_id_external_id_key');
    PERFORM @extschema@.dozor_on_every_node(
        'ALTER TABLE dozor.sessions DROP CONSTRAINT IF EXISTS sessions_tracked_user_id_fkey');
    PERFORM @extschema@.dozor_on_every_node(
        'CREATE INDEX IF NOT EXISTS sessions_project_id_external_id_idx ON dozor.sessions (project_id, external_id)');
    RETURN NEXT 'dropped the sessions'' unique key on (project_id, external_id) and their foreign key to tracked users';

    -- Foreign keys go while the tables are distributed, and come back after:
    -- with a key to a new reference table, Citus would first turn the local
    -- tables that refer to it into Citus local tables and make them again
    -- on the workers, where the extension has made them already.
    FOR fk IN
        SELECT c.conrelid::regclass::text AS tbl, c.conname, pg_catalog.pg_get_constraintdef(c.oid) AS def
        FROM pg_catalog.pg_constraint c
        WHERE c.contype = 'f' AND c.conparentid = 0
          AND c.connamespace = 'dozor'::regnamespace
        ORDER BY 1, 2
    LOOP
        PERFORM @extschema@.dozor_on_every_node(
            pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fk.tbl, fk.conname));
        fks := fks || pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tbl, fk.conname, fk.def);
    END LOOP;

    -- small, read on every node, written rarely (projects, grants, people)
    FOREACH t IN ARRAY ARRAY['dozor.projects', 'dozor.project_grants', 'dozor.tracked_users'] LOOP
        EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING t;
        RETURN NEXT 'reference table ' || t;
    END LOOP;

    EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => ''none'', shard_count => $3)'
        USING 'dozor.sessions', 'id', shards;
    RETURN NEXT pg_catalog.format('distributed dozor.sessions by id in %s shards', shards);
    FOREACH t IN ARRAY ARRAY['dozor.event_batches', 'dozor.markers'] LOOP
        EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''session_id'', colocate_with => ''dozor.sessions'')'
            USING t;
        RETURN NEXT 'distributed ' || t || ' by session_id, colocated with dozor.sessions';
    END LOOP;
    EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''external_id'', colocate_with => ''none'', shard_count => $2)'
        USING 'dozor.session_keys', shards;
    RETURN NEXT 'distributed dozor.session_keys by external_id';
    EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''external_id'', colocate_with => ''dozor.session_keys'')'
        USING 'dozor.session_tombstones';
    RETURN NEXT 'distributed dozor.session_tombstones by external_id, colocated with dozor.session_keys';

    FOREACH t IN ARRAY fks LOOP
        EXECUTE t;
    END LOOP;
    RETURN NEXT pg_catalog.format('foreign keys restored: %s', COALESCE(pg_catalog.array_length(fks, 1), 0));

    -- the next days' partitions now, so that ingest does not make them
    PERFORM @extschema@.dozor_maintain();

    FOR f IN SELECT * FROM @extschema@.dozor_distributed_functions() LOOP
        EXECUTE 'SELECT pg_catalog.create_distributed_function($1::regprocedure, ''session_id'', colocate_with => ''dozor.sessions'')'
            USING f::text;
        RETURN NEXT 'delegated ' || f::text || ' by session_id';
    END LOOP;
END
$$;

-- GET /api/sessions: one page of the sessions list.
--   project_ids        NULL: every project the caller can see
--   since              created at or after (NULL: no bound)
--   search             case-insensitive substring of the session id (uuid);
--                      a whole uuid is looked up by the unique index
--   sort, sort_dir     date (created_at) | duration | active (active_ms);
--                      desc | asc (case-insensitive; NULL = the default);
--                      ties are broken by id in the same direction
--   min_events, min_duration (s), min_active_ms: floors (NULL: none); the
--                      defaults hide sessions that are not "real" (one
--                      event, under a second)
--   visited            a pathname the session visited (GIN: pathnames @> )
--   has_console_errors true: at least one console error; false: none
-- Rows carry the tracked user's external id and traits, and next_cursor.
-- The list is a walk down one (project_id, <key>, id) index per project,
-- a page at most from each, merged: the cost is a page per project in
-- scope, whatever the number of sessions. (On Citus a page at most from
-- each shard, merged by the coordinator.)
CREATE OR REPLACE FUNCTION @extschema@.dozor_sessions(
    project_ids bigint[] DEFAULT NULL,
    since timestamptz DEFAULT pg_catalog.now() - interval '90 days',
    search text DEFAULT NULL,
    sort text DEFAULT 'date',
    sort_dir text DEFAULT 'desc',
    page_limit integer DEFAULT 50,
    cursor text DEFAULT NULL,
    min_events integer DEFAULT 2,
    min_duration integer DEFAULT 1,
    visited text DEFAULT NULL,
    has_console_errors boolean DEFAULT NULL,
    min_active_ms bigint DEFAULT NULL)
RETURNS TABLE (id bigint, external_id uuid, project_id bigint, url text,
               started_at timestamptz, ended_at timestamptz, duration integer,
               event_count integer, active_ms bigint, click_count integer,
               console_error_count integer, page_count integer, created_at timestamptz,
               tracked_user_id bigint, user_external_id text, user_traits jsonb, next_cursor text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
-- a page is a few index probes: compiling it (JIT) would cost far more
SET jit = off
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sort_key text := pg_catalog.lower(COALESCE(dozor_sessions.sort, 'date'));
    dir text := pg_catalog.lower(COALESCE(dozor_sessions.sort_dir, 'desc'));
    col text;
    key_expr text;
    cmp text;
    cur_ts timestamptz;
    cur_num bigint;
    cur_id bigint;
    search_text text;
    search_uuid uuid;
    conds text[] := '{}';
    projects text;
    page text;
    q text;
BEGIN
    col := CASE sort_key WHEN 'date' THEN 'created_at' WHEN 'duration' THEN 'duration'
                         WHEN 'active' THEN 'active_ms' END;
    IF col IS NULL THEN
        RAISE EXCEPTION 'unknown sort key "%"', dozor_sessions.sort
            USING ERRCODE = '22023', HINT = 'Sort by date, duration or active.';
    END IF;
    IF dir NOT IN ('asc', 'desc') THEN
        RAISE EXCEPTION 'unknown sort direction "%"', dozor_sessions.sort_dir
            USING ERRCODE = '22023', HINT = 'Use asc or desc.';
    END IF;
    PERFORM @extschema@.dozor_check_page_limit(dozor_sessions.page_limit);
    cmp := CASE dir WHEN 'desc' THEN '<' ELSE '>' END;
    key_expr := CASE sort_key WHEN 'date' THEN '@extschema@.dozor_cursor_ts_key(s.created_at)'
                              ELSE 's.' || col || '::text' END;

    -- Only the filters in use become part of the query (planned for the
    -- values at hand, every call), numbered parameters for every value.
    IF dozor_sessions.cursor IS NOT NULL THEN
        SELECT d.key_ts, d.key_num, d.last_id INTO cur_ts, cur_num, cur_id
        FROM @extschema@.dozor_cursor_decode(dozor_sessions.cursor, ARRAY['sessions', sort_key, dir], sort_key = 'date') d;
        conds := conds || pg_catalog.format('(s.%I, s.id) %s (%s, $10)', col, cmp,
                                            CASE sort_key WHEN 'date' THEN '$8' ELSE '$9' END);
    END IF;
    IF dozor_sessions.since IS NOT NULL THEN
        conds := conds || 's.created_at >= $2'::text;
    END IF;
    IF COALESCE(dozor_sessions.search, '') <> '' THEN
        IF dozor_sessions.search ~* '^\s*[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\s*$' THEN
            search_uuid := pg_catalog.btrim(dozor_sessions.search)::uuid;
            conds := conds || 's.external_id = $12'::text;
        ELSE
            search_text := pg_catalog.lower(dozor_sessions.search);
            conds := conds || 'pg_catalog.strpos(s.external_id::text, $3) > 0'::text;
        END IF;
    END IF;
    IF dozor_sessions.min_events IS NOT NULL THEN
        conds := conds || 's.event_count >= $4'::text;
    END IF;
    IF dozor_sessions.min_duration IS NOT NULL THEN
        conds := conds || 's.duration >= $5'::text;
    END IF;
    IF dozor_sessions.visited IS NOT NULL THEN
        conds := conds || 's.pathnames @> ARRAY[$6]'::text;
    END IF;
    IF dozor_sessions.has_console_errors THEN
        conds := conds || 's.console_error_count > 0'::text;
    ELSIF NOT dozor_sessions.has_console_errors THEN
        conds := conds || 's.console_error_count = 0'::text;
    END IF;
    IF dozor_sessions.min_active_ms IS NOT NULL THEN
        conds := conds || 's.active_ms >= $7'::text;
    END IF;

    IF @extschema@.dozor_is_distributed() THEN
        -- On Citus: a top-N of every shard, merged by the coordinator (a
        -- lateral walk per project cannot be pushed down to the shards).
        page := pg_catalog.format($q$
            SELECT s.* FROM dozor.sessions s
            WHERE %1$s%2$s
            ORDER BY s.%4$I %3$s, s.id %3$s
            LIMIT $11$q$,
            CASE WHEN dozor_sessions.project_ids IS NULL THEN 'true' ELSE 's.project_id = ANY ($1)' END,
            (SELECT pg_catalog.string_agg(E'\n              AND ' || c, '') FROM pg_catalog.unnest(conds) AS c),
            dir, col);
    ELSE
        projects := CASE WHEN dozor_sessions.project_ids IS NULL
                         THEN '(SELECT p.id FROM dozor.projects p)'
                         ELSE '(SELECT DISTINCT x.id FROM pg_catalog.unnest($1) AS x(id))' END;
        page := pg_catalog.format($q$
            SELECT s.* FROM %1$s AS p
            CROSS JOIN LATERAL (
                SELECT s.* FROM dozor.sessions s
                WHERE s.project_id = p.id%2$s
                ORDER BY s.%4$I %3$s, s.id %3$s
                LIMIT $11) AS s
            ORDER BY s.%4$I %3$s, s.id %3$s
            LIMIT $11$q$,
            projects,
            (SELECT pg_catalog.string_agg(E'\n                  AND ' || c, '') FROM pg_catalog.unnest(conds) AS c),
            dir, col);
    END IF;
    -- The page is cut before the users are joined: at most page_limit
    -- probes of tracked_users, however many users there are.
    q := pg_catalog.format($q$
        SELECT s.id, s.external_id, s.project_id, s.url, s.started_at, s.ended_at, s.duration,
               s.event_count, s.active_ms, s.click_count, s.console_error_count, s.page_count,
               s.created_at, s.tracked_user_id, u.external_id, u.traits,
               @extschema@.dozor_cursor_encode('sessions', %2$L, %3$L, %4$s, s.id::text)
        FROM (%1$s) AS s
        LEFT JOIN dozor.tracked_users u ON u.id = s.tracked_user_id
        ORDER BY s.%5$I %3$s, s.id %3$s$q$,
        page, sort_key, dir, key_expr, col);
    RETURN QUERY EXECUTE q
        USING dozor_sessions.project_ids, dozor_sessions.since, search_text,
              dozor_sessions.min_events, dozor_sessions.min_duration, dozor_sessions.visited,
              dozor_sessions.min_active_ms, cur_ts, cur_num, cur_id,
              dozor_sessions.page_limit, search_uuid;
END
$$;

-- The dashboard's header figures, in one pass over the sessions of the
-- projects (NULL: every project the caller can see): every session counts,
-- whatever its size; durations in seconds; "last 24 h" by created_at.
CREATE OR REPLACE FUNCTION @extschema@.dozor_sessions_summary(project_ids bigint[] DEFAULT NULL)
RETURNS TABLE (total_sessions bigint, total_duration bigint, avg_duration numeric,
               sessions_last_24h bigint)
LANGUAGE plpgsql STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    day_ago timestamptz := pg_catalog.now() - interval '24 hours';
BEGIN
    -- PL/pgSQL, not SQL: Citus plans no query of a SQL function that uses
    -- its parameters
    RETURN QUERY
        SELECT pg_catalog.count(*),
               COALESCE(pg_catalog.sum(s.duration), 0)::bigint,
               COALESCE(pg_catalog.round(pg_catalog.avg(s.duration), 2), 0),
               pg_catalog.count(*) FILTER (WHERE s.created_at >= day_ago)
        FROM dozor.sessions s
        WHERE dozor_sessions_summary.project_ids IS NULL
           OR s.project_id = ANY (dozor_sessions_summary.project_ids);
END
$$;

-- GET /api/users: one page of tracked users, last seen first (the latest
-- ended_at of their sessions; users with no session left come last), ties
-- by id. Filters: projects (NULL: all the caller can see), a trait key
-- (users that have it) and value (traits->>key = value, so 3 and "3" both
-- match '3'), search (case-insensitive substring of the user id). Last seen
-- is computed, not stored: a page costs one index probe per matching user.
CREATE OR REPLACE FUNCTION @extschema@.dozor_tracked_users(
    project_ids bigint[] DEFAULT NULL,
    trait_key text DEFAULT NULL,
    trait_value text DEFAULT NULL,
    search text DEFAULT NULL,
    page_limit integer DEFAULT 50,
    cursor text DEFAULT NULL)
RETURNS TABLE (id bigint, project_id bigint, external_id text, traits jsonb,
               created_at timestamptz, updated_at timestamptz, last_seen timestamptz,
               session_count bigint, next_cursor text)
LANGUAGE plpgsql STABLE SECURITY INVOKER
-- a page is a few index probes: compiling it (JIT) would cost far more
SET jit = off
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur_ts timestamptz;
    cur_id bigint;
    value_json jsonb;
    conds text[] := '{}';
    activity text;
    q text;
BEGIN
    PERFORM @extschema@.dozor_check_page_limit(dozor_tracked_users.page_limit);
    IF dozor_tracked_users.trait_value IS NOT NULL AND dozor_tracked_users.trait_key IS NULL THEN
        RAISE EXCEPTION 'trait_value needs a trait_key'
            USING ERRCODE = '22023';
    END IF;
    IF dozor_tracked_users.project_ids IS NOT NULL THEN
        conds := conds || 'u.project_id = ANY ($1)'::text;
    END IF;
    IF dozor_tracked_users.trait_key IS NOT NULL AND dozor_tracked_users.trait_value IS NULL THEN
        conds := conds || 'u.traits ? $2'::text;
    ELSIF dozor_tracked_users.trait_key IS NOT NULL THEN
        -- traits->>key = value is the rule; the containment before it only
        -- lets the GIN index find the candidates: the value as a string,
        -- or, when the text is JSON of another kind (3, true), as that
        BEGIN
            value_json := dozor_tracked_users.trait_value::jsonb;
        EXCEPTION WHEN data_exception THEN
            value_json := NULL;
        END;
        IF value_json IS NULL OR pg_catalog.jsonb_typeof(value_json) IN ('string', 'null') THEN
            conds := conds || 'u.traits @> pg_catalog.jsonb_build_object($2, $3)'::text;
        ELSE
            conds := conds || '(u.traits @> pg_catalog.jsonb_build_object($2, $3)
               OR u.traits @> pg_catalog.jsonb_build_object($2, $8))'::text;
        END IF;
        conds := conds || 'u.traits ->> $2 = $3'::text;
    END IF;
    IF COALESCE(dozor_tracked_users.search, '') <> '' THEN
        conds := conds || 'pg_catalog.strpos(pg_catalog.lower(u.external_id), $4) > 0'::text;
    END IF;
    IF dozor_tracked_users.cursor IS NOT NULL THEN
        SELECT d.key_ts, d.last_id INTO cur_ts, cur_id
        FROM @extschema@.dozor_cursor_decode(dozor_tracked_users.cursor, ARRAY['users'], true) d;
        conds := conds || '(COALESCE(a.last_seen, ''-infinity''), u.id) < ($5, $6)'::text;
    END IF;
    -- Each user's last seen and session count: probed per user on a single
    -- node; on Citus (where a lateral subquery cannot reach the shards from
    -- a reference table) one pass over the sessions, grouped by user.
    activity := CASE WHEN @extschema@.dozor_is_distributed() THEN $a$
        LEFT JOIN (
            SELECT s.tracked_user_id, pg_catalog.max(s.ended_at) AS last_seen, pg_catalog.count(*) AS session_count
            FROM dozor.sessions s WHERE s.tracked_user_id IS NOT NULL
            GROUP BY s.tracked_user_id) AS a ON a.tracked_user_id = u.id$a$
        ELSE $a$
        CROSS JOIN LATERAL (
            SELECT pg_catalog.max(s.ended_at) AS last_seen, pg_catalog.count(*) AS session_count
            FROM dozor.sessions s WHERE s.tracked_user_id = u.id) AS a$a$ END;
    q := pg_catalog.format($q$
        SELECT u.id, u.project_id, u.external_id, u.traits, u.created_at, u.updated_at,
               a.last_seen, COALESCE(a.session_count, 0),
               @extschema@.dozor_cursor_encode('users',
                   @extschema@.dozor_cursor_ts_key(COALESCE(a.last_seen, '-infinity')), u.id::text)
        FROM dozor.tracked_users u%s
        WHERE true%s
        ORDER BY COALESCE(a.last_seen, '-infinity') DESC, u.id DESC
        LIMIT $7$q$,
        activity,
        (SELECT pg_catalog.string_agg(E'\n          AND ' || c, '') FROM pg_catalog.unnest(conds) AS c));
    RETURN QUERY EXECUTE q
        USING dozor_tracked_users.project_ids, dozor_tracked_users.trait_key,
              dozor_tracked_users.trait_value, pg_catalog.lower(dozor_tracked_users.search),
              cur_ts, cur_id, dozor_tracked_users.page_limit, value_json;
END
$$;

-------------------------------------------------------------------------------
-- 4. Partitioned storage: batches and markers by session day
--
-- Batches and markers are partitioned by session id, one partition per day
-- (src/partitions.sql). 0.1.0's tables become the legacy partitions
-- [0, 2^37) in place: renamed, their primary keys rebuilt to include
-- session_id, and attached. No row is copied and no blob (TOAST) is read;
-- the cost is one scan of each table's heap (the partition bound check)
-- and one primary-key build each (README, "Upgrading", has the figures).
-- New sessions get day-carrying ids; 0.1.0's sessions keep theirs.
-- dozor_cleanup deletes the legacy rows session by session as they expire
-- and drops the emptied legacy partitions. No day partition is made here:
-- tables made by an extension script would belong to the extension and be
-- left out of pg_dump; ingest makes today's on demand, dozor_maintain the
-- next days'.
-------------------------------------------------------------------------------

ALTER SEQUENCE dozor.sessions_id_seq MAXVALUE 137438953471;
ALTER TABLE dozor.sessions ALTER COLUMN id SET DEFAULT @extschema@.dozor_next_session_id();

-- The old tables step aside, names of their indexes and constraints with
-- them (the new parents take the old names).
ALTER TABLE dozor.event_batches RENAME TO event_batches_legacy;
-- as day partitions are made (src/partitions.sql, dozor_add_day)
ALTER TABLE dozor.event_batches_legacy SET (toast_tuple_target = 8160);
ALTER TABLE dozor.event_batches_legacy RENAME CONSTRAINT event_batches_session_id_content_hash_key
    TO event_batches_legacy_session_id_content_hash_key;
ALTER TABLE dozor.event_batches_legacy RENAME CONSTRAINT event_batches_session_id_fkey
    TO event_batches_legacy_session_id_fkey;
ALTER INDEX dozor.event_batches_session_id_first_timestamp_id_idx
    RENAME TO event_batches_legacy_session_id_first_timestamp_id_idx;
ALTER TABLE dozor.markers RENAME TO markers_legacy;
ALTER TABLE dozor.markers_legacy RENAME CONSTRAINT markers_session_id_fkey TO markers_legacy_session_id_fkey;
ALTER INDEX dozor.markers_session_id_kind_timestamp_idx RENAME TO markers_legacy_session_id_kind_timestamp_idx;
ALTER INDEX dozor.markers_session_id_timestamp_idx RENAME TO markers_legacy_session_id_timestamp_idx;

-- Markers no longer reference batches (a batch never goes alone); the
-- primary keys include session_id, as partitioning requires.
ALTER TABLE dozor.markers_legacy DROP CONSTRAINT markers_batch_id_fkey;
DROP INDEX dozor.markers_batch_id_idx;
ALTER TABLE dozor.event_batches_legacy DROP CONSTRAINT event_batches_pkey,
    ADD CONSTRAINT event_batches_legacy_pkey PRIMARY KEY (session_id, id);
ALTER TABLE dozor.markers_legacy DROP CONSTRAINT markers_pkey,
    ADD CONSTRAINT markers_legacy_pkey PRIMARY KEY (session_id, id);

-- The partitioned tables, column for column the old ones (LIKE: whatever
-- the sections above changed), with the install script's keys and indexes.
CREATE TABLE dozor.event_batches (
    LIKE dozor.event_batches_legacy INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION,
    PRIMARY KEY (session_id, id),
    UNIQUE (session_id, content_hash),
    FOREIGN KEY (session_id) REFERENCES dozor.sessions (id) ON DELETE CASCADE
) PARTITION BY RANGE (session_id);
CREATE INDEX ON dozor.event_batches (session_id, first_timestamp, id);
CREATE TABLE dozor.markers (
    LIKE dozor.markers_legacy INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION,
    PRIMARY KEY (session_id, id),
    FOREIGN KEY (session_id) REFERENCES dozor.sessions (id) ON DELETE CASCADE
) PARTITION BY RANGE (session_id);
CREATE INDEX ON dozor.markers (session_id, kind, timestamp);
CREATE INDEX ON dozor.markers (session_id, timestamp);

-- Attaching finds the old indexes and foreign keys equal to the parents'
-- and adopts them (nothing is rebuilt or revalidated); it scans each heap
-- once for the bound.
ALTER TABLE dozor.event_batches ATTACH PARTITION dozor.event_batches_legacy FOR VALUES FROM (0) TO (137438953472);
ALTER TABLE dozor.markers ATTACH PARTITION dozor.markers_legacy FOR VALUES FROM (0) TO (137438953472);

-- The legacy partitions become what a day partition is: no policies, no
-- grants (everyone reads through the parents), and not part of the
-- extension, so that pg_dump dumps them, rows and all, like the days.
DROP POLICY read ON dozor.event_batches_legacy;
DROP POLICY read ON dozor.markers_legacy;
ALTER TABLE dozor.event_batches_legacy DISABLE ROW LEVEL SECURITY;
ALTER TABLE dozor.markers_legacy DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON dozor.event_batches_legacy, dozor.markers_legacy FROM dozor_viewer;
ALTER EXTENSION dozor DROP TABLE dozor.event_batches_legacy;
ALTER EXTENSION dozor DROP TABLE dozor.markers_legacy;

SELECT pg_catalog.pg_extension_config_dump('dozor.event_batches', '');
SELECT pg_catalog.pg_extension_config_dump('dozor.markers', '');
ALTER TABLE dozor.event_batches ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.event_batches FOR SELECT
    USING (EXISTS (SELECT FROM dozor.sessions s WHERE s.id = event_batches.session_id));
ALTER TABLE dozor.markers ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.markers FOR SELECT
    USING (EXISTS (SELECT FROM dozor.sessions s WHERE s.id = markers.session_id));
GRANT SELECT ON dozor.event_batches, dozor.markers TO dozor_viewer;

-- Partition management and the storage report (as in src/partitions.sql).

-------------------------------------------------------------------------------
-- Storage report
-------------------------------------------------------------------------------

-- Changed: whole days dropped; the markers of a session by its id (prunes).


-------------------------------------------------------------------------------
-- 4c. Names that say what they hold: the per-batch event index
-------------------------------------------------------------------------------

ALTER TABLE dozor.event_batches RENAME COLUMN timeline TO event_index;
ALTER TYPE @extschema@.dozor_prepared_batch RENAME ATTRIBUTE timeline TO event_index;

-------------------------------------------------------------------------------
-- 4b. Descriptions of the functions an HTTP layer or PostgREST exposes
-- (PostgREST shows them in its OpenAPI document)
-------------------------------------------------------------------------------

COMMENT ON FUNCTION @extschema@.dozor_gzip(bytea, integer) IS
    'gzip of bytes at libdeflate level 0..12 (default 6).';
COMMENT ON FUNCTION @extschema@.dozor_gunzip(bytea) IS
    'Inflates one or more gzip members, at most 10 MiB of output; 22P02 when not gzip, 54000 over the cap.';
COMMENT ON FUNCTION @extschema@.dozor_url_pathname(text) IS
    'The pathname of a URL as a browser parses it (WHATWG URL), "/" when it cannot be parsed.';
COMMENT ON FUNCTION @extschema@.dozor_create_project(text) IS
    'Creates a project and returns its API key, shown this once; a non-superuser creator is granted admin on it.';
COMMENT ON FUNCTION @extschema@.dozor_rotate_api_key(bigint) IS
    'Replaces a project''s API key (admins); the old key stops working at once.';
COMMENT ON FUNCTION @extschema@.dozor_require_project_admin(bigint) IS
    'Raises 42501 unless the caller is a superuser or an admin of the project.';
COMMENT ON FUNCTION @extschema@.dozor_grant(bigint, regrole, text) IS
    'Grants a project to a role as viewer or admin (admins of the project).';
COMMENT ON FUNCTION @extschema@.dozor_revoke(bigint, regrole) IS
    'Removes a role''s grant on a project; true when there was one.';
COMMENT ON FUNCTION @extschema@.dozor_lock(text, bigint, text) IS
    'Internal: the transaction-level advisory lock on which ingest, cancel and erasure of a session (or a tracked user) serialize.';
COMMENT ON FUNCTION @extschema@.dozor_ingest(text, bytea, text) IS
    'POST /api/ingest: one SDK batch exactly as sent (key, body, Content-Encoding). Validates, stores exactly once, returns the session id; NULL when the session was cancelled or erased (answer 204).';
COMMENT ON FUNCTION @extschema@.dozor_tombstone_session(bigint, uuid) IS
    'Internal: deletes a project''s session by uuid and leaves its tombstone; true when a session was deleted.';
COMMENT ON FUNCTION @extschema@.dozor_expire_tombstones(interval) IS
    'Removes tombstones older than tombstone_ttl (dozor_cleanup calls it); returns how many.';
COMMENT ON FUNCTION @extschema@.dozor_cancel_session(text, uuid) IS
    'POST /api/sessions/cancel: deletes the key''s project''s session by uuid and leaves a tombstone, so batches still in flight are discarded.';
COMMENT ON FUNCTION @extschema@.dozor_delete_session(bigint) IS
    'Dashboard delete of a session by id (admins); true when one was deleted. Leaves no tombstone.';
COMMENT ON FUNCTION @extschema@.dozor_erase_user(bigint, text) IS
    'Erasure of a person (GDPR art. 17): deletes the tracked user and every session linked to it, leaves their tombstones, returns how many sessions.';
COMMENT ON FUNCTION @extschema@.dozor_session_batches(bigint, text, integer) IS
    'GET /api/sessions/{id}/events: the stored batches in stream order, gzip as base64; pages with cursor and page_limit (1..1000), next_cursor on the last row of a page.';
COMMENT ON FUNCTION @extschema@.dozor_events(bigint, boolean, integer, integer, double precision, double precision) IS
    'The session stream as one JSON array, optionally on the idle-compressed timeline, whole or the window [from_ms, to_ms); each event byte-identical to what the SDK sent.';
COMMENT ON FUNCTION @extschema@.dozor_keyframes(bigint, boolean, integer, integer) IS
    'Every Meta (4) and FullSnapshot (2) event of the session in stream order, with its time on the chosen timeline: where a player can start rendering.';
COMMENT ON FUNCTION @extschema@.dozor_compress_events(json, integer, integer) IS
    'An events array as a session stream on the idle-compressed timeline (pure counterpart of dozor_events).';
COMMENT ON FUNCTION @extschema@.dozor_markers(bigint, text) IS
    'The session''s dozor:* markers in stream order; kind NULL or '''' for all, url, identity.';
COMMENT ON FUNCTION @extschema@.dozor_extract_markers(json) IS
    'The dozor:* markers of an events array in stream order (pure counterpart of dozor_markers).';
COMMENT ON FUNCTION @extschema@.dozor_history(bigint, boolean, integer, integer) IS
    'The history feed of a session: init, navigation, idle and identify rows (docs/HISTORY.md), on the idle-compressed timeline by default.';
COMMENT ON FUNCTION @extschema@.dozor_build_history(json, text, bigint, boolean, integer, integer) IS
    'The history feed of an events array (pure counterpart of dozor_history).';
COMMENT ON FUNCTION @extschema@.dozor_console(bigint, boolean, integer, integer) IS
    'The console feed of a session: level, payload, trace and offset of every console entry.';
COMMENT ON FUNCTION @extschema@.dozor_console_logs(json, boolean, integer, integer) IS
    'The console feed of an events array (pure counterpart of dozor_console).';
COMMENT ON FUNCTION @extschema@.dozor_to_compressed(bigint, double precision, integer, integer) IS
    'A real timestamp of the session mapped onto its idle-compressed timeline (the seek bar).';
COMMENT ON FUNCTION @extschema@.dozor_to_real(bigint, double precision, integer, integer) IS
    'A time on the session''s idle-compressed timeline mapped back to a real timestamp.';
COMMENT ON FUNCTION @extschema@.dozor_map_to_compressed(json, double precision, integer, integer) IS
    'A real timestamp mapped onto the idle-compressed timeline of an events array.';
COMMENT ON FUNCTION @extschema@.dozor_map_to_real(json, double precision, integer, integer) IS
    'A compressed time mapped back to a real timestamp for an events array.';
COMMENT ON FUNCTION @extschema@.dozor_sessions(bigint[], timestamptz, text, text, text, integer, text, integer, integer, text, boolean, bigint) IS
    'The session list of the caller''s projects: filters, sorts and keyset pages (next_cursor).';
COMMENT ON FUNCTION @extschema@.dozor_session(bigint) IS
    'GET /api/sessions/{id}: the session row, its activity summary, tracked user and markers as one JSON object; NULL when not visible.';
COMMENT ON FUNCTION @extschema@.dozor_sessions_summary(bigint[]) IS
    'Counts and totals over the caller''s sessions, per project.';
COMMENT ON FUNCTION @extschema@.dozor_tracked_users(bigint[], text, text, text, integer, text) IS
    'Tracked users of the caller''s projects, with filters and keyset pages.';
COMMENT ON FUNCTION @extschema@.dozor_tracked_user_sessions(bigint, integer, text) IS
    'The sessions of one tracked user, newest first, in keyset pages.';
COMMENT ON FUNCTION @extschema@.dozor_cleanup(interval, interval) IS
    'Retention: deletes sessions created before now() - retention (whole days by dropping partitions) and tombstones older than tombstone_ttl; returns how many sessions.';
COMMENT ON FUNCTION @extschema@.dozor_maintain(integer) IS
    'Makes the day partitions of today and the next days_ahead days; idempotent, for pg_cron every few minutes.';
COMMENT ON FUNCTION @extschema@.dozor_storage() IS
    'Per partition day and project: sessions, batches, events, stored bytes, oldest and newest day held.';

-------------------------------------------------------------------------------
-- 5. Keys and policies a Citus cluster can distribute (dozor_distribute,
-- src/distribute.sql; README "Distributing with Citus")
--
-- Sessions are found by their key in a table of its own; batches and
-- markers carry their session's project; every policy tests a role
-- membership (dozor_may) instead of reading the grants, each grant
-- mirrored into membership of a per-project role; projects lose their
-- trigger. This rewrites every batch and marker row once (the heap only:
-- a blob's TOAST is carried over, not copied).
-------------------------------------------------------------------------------

-- The session of a client's session uuid in a project (src/dozor.sql).
CREATE TABLE dozor.session_keys (
    external_id uuid NOT NULL,
    project_id  bigint NOT NULL REFERENCES dozor.projects (id) ON DELETE CASCADE,
    session_id  bigint NOT NULL,
    PRIMARY KEY (external_id, project_id)
);
CREATE INDEX ON dozor.session_keys (session_id);
SELECT pg_catalog.pg_extension_config_dump('dozor.session_keys', '');
INSERT INTO dozor.session_keys (external_id, project_id, session_id)
SELECT s.external_id, s.project_id, s.id FROM dozor.sessions s;
ALTER TABLE dozor.session_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON dozor.session_keys FOR SELECT
    USING (@extschema@.dozor_may(session_keys.project_id, 'viewer'));
CREATE POLICY admin_delete ON dozor.session_keys FOR DELETE
    USING (@extschema@.dozor_may(session_keys.project_id, 'admin'));
GRANT SELECT ON dozor.session_keys TO dozor_viewer;
GRANT DELETE ON dozor.session_keys TO dozor_admin;

-- The session's project on its batches and markers.
ALTER TABLE dozor.event_batches ADD COLUMN project_id bigint;
UPDATE dozor.event_batches b SET project_id = s.project_id FROM dozor.sessions s WHERE s.id = b.session_id;
ALTER TABLE dozor.event_batches ALTER COLUMN project_id SET NOT NULL;
ALTER TABLE dozor.markers ADD COLUMN project_id bigint;
UPDATE dozor.markers m SET project_id = s.project_id FROM dozor.sessions s WHERE s.id = m.session_id;
ALTER TABLE dozor.markers ALTER COLUMN project_id SET NOT NULL;

-- A project's creator is granted it by dozor_create_project (section 3),
-- not by a trigger: Citus makes no reference table of a table with one.
DROP TRIGGER grant_new_project ON dozor.projects;
DROP FUNCTION @extschema@.dozor_grant_new_project();

-- Every policy, as the install script has it.
DROP POLICY read ON dozor.projects;
DROP POLICY admin_update ON dozor.projects;
CREATE POLICY read ON dozor.projects FOR SELECT
    USING (@extschema@.dozor_may(projects.id, 'viewer'));
CREATE POLICY admin_update ON dozor.projects FOR UPDATE
    USING (@extschema@.dozor_may(projects.id, 'admin'))
    WITH CHECK (@extschema@.dozor_may(projects.id, 'admin'));
DROP POLICY read ON dozor.project_grants;
DROP POLICY admin_insert ON dozor.project_grants;
DROP POLICY admin_update ON dozor.project_grants;
DROP POLICY admin_delete ON dozor.project_grants;
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
DROP POLICY read ON dozor.tracked_users;
DROP POLICY admin_delete ON dozor.tracked_users;
CREATE POLICY read ON dozor.tracked_users FOR SELECT
    USING (@extschema@.dozor_may(tracked_users.project_id, 'viewer'));
CREATE POLICY admin_delete ON dozor.tracked_users FOR DELETE
    USING (@extschema@.dozor_may(tracked_users.project_id, 'admin'));
DROP POLICY read ON dozor.sessions;
DROP POLICY admin_delete ON dozor.sessions;
DROP POLICY admin_lock ON dozor.sessions;
CREATE POLICY read ON dozor.sessions FOR SELECT
    USING (@extschema@.dozor_may(sessions.project_id, 'viewer'));
CREATE POLICY admin_delete ON dozor.sessions FOR DELETE
    USING (@extschema@.dozor_may(sessions.project_id, 'admin'));
CREATE POLICY admin_lock ON dozor.sessions FOR UPDATE
    USING (@extschema@.dozor_may(sessions.project_id, 'admin'))
    WITH CHECK (false);
DROP POLICY read ON dozor.event_batches;
CREATE POLICY read ON dozor.event_batches FOR SELECT
    USING (@extschema@.dozor_may(event_batches.project_id, 'viewer'));
DROP POLICY read ON dozor.markers;
CREATE POLICY read ON dozor.markers FOR SELECT
    USING (@extschema@.dozor_may(markers.project_id, 'viewer'));
DROP POLICY read ON dozor.session_tombstones;
DROP POLICY admin_insert ON dozor.session_tombstones;
DROP POLICY admin_update ON dozor.session_tombstones;
DROP POLICY admin_delete ON dozor.session_tombstones;
CREATE POLICY read ON dozor.session_tombstones FOR SELECT
    USING (@extschema@.dozor_may(session_tombstones.project_id, 'viewer'));
CREATE POLICY admin_insert ON dozor.session_tombstones FOR INSERT
    WITH CHECK (@extschema@.dozor_may(session_tombstones.project_id, 'admin'));
CREATE POLICY admin_update ON dozor.session_tombstones FOR UPDATE
    USING (@extschema@.dozor_may(session_tombstones.project_id, 'admin'))
    WITH CHECK (@extschema@.dozor_may(session_tombstones.project_id, 'admin'));
CREATE POLICY admin_delete ON dozor.session_tombstones FOR DELETE
    USING (@extschema@.dozor_may(session_tombstones.project_id, 'admin'));

-- The memberships the policies now test, one per existing grant (and the
-- roles of every project that has one).
SELECT @extschema@.dozor_sync_grant(g.project_id, g.role)
FROM dozor.project_grants g ORDER BY g.project_id, g.role::oid;

COMMENT ON FUNCTION @extschema@.dozor_may(bigint, text) IS
    'Whether the current role may see (level viewer) or manage (admin) a project: the test of every row-level security policy.';
COMMENT ON FUNCTION @extschema@.dozor_project_role(bigint, text) IS
    'The NOLOGIN role whose members see (viewer) or manage (admin) a project; dozor_grant maintains the memberships.';
COMMENT ON FUNCTION @extschema@.dozor_sync_grant(bigint, regrole) IS
    'Internal: makes a role''s memberships in a project''s roles match its grant (dozor_grant and dozor_revoke call it).';
COMMENT ON FUNCTION @extschema@.dozor_is_distributed() IS
    'Whether dozor''s tables are distributed over a Citus cluster (dozor_distribute); false without Citus.';
COMMENT ON FUNCTION @extschema@.dozor_distribute(integer) IS
    'On a Citus coordinator with workers: distributes dozor (session tables by session, colocated; projects, grants and people as reference tables; per-session functions by session_id). Idempotent.';

-------------------------------------------------------------------------------
-- 6. Grants of every function, as the install script gives them
-- (src/access.sql)
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
