/*
 * dozor 0.1.0 -> 0.2.0 (ALTER EXTENSION dozor UPDATE TO '0.2.0').
 *
 * 0.2.0 is in development: this script grows with it until the release, and
 * test/upgrade checks after every change that a 0.1.0 store upgraded by it
 * gives byte-identical feeds and takes new batches.
 *
 * Sections, in the order they must run:
 *   1. stored batches: event indexes bound to their rows
 *   2. cancelled sessions: tombstones
 *   3. functions that changed
 */
\echo Use "ALTER EXTENSION dozor UPDATE TO '0.2.0'" to load this file. \quit

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

-- The transaction-level advisory lock on which ingest, cancel and erasure
-- of a session (or a tracked user) serialize; src/dozor.sql says why.
CREATE FUNCTION @extschema@.dozor_lock(what text, project_id bigint, key text)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF what IS DISTINCT FROM 'session' AND what IS DISTINCT FROM 'user' THEN
        RAISE EXCEPTION 'dozor_lock: what must be session or user (got %)', COALESCE(what, 'NULL')
            USING ERRCODE = '22023';
    ELSIF project_id IS NULL OR key IS NULL THEN
        RAISE EXCEPTION 'dozor_lock: project_id and key must not be NULL' USING ERRCODE = '22023';
    ELSIF pg_catalog.current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION 'ingest, cancel and erasure cannot lock a % under REPEATABLE READ isolation', what
            USING ERRCODE = '0A000',
                  HINT = 'Run ingest, cancel and erasure in READ COMMITTED (the default) or SERIALIZABLE transactions.';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(
        CASE what WHEN 'session' THEN 1685027329 ELSE 1685027330 END,
        pg_catalog.hashtext(project_id::text || '/' || key));
END
$$;

-- Deletes a project's session by uuid, with its batches and markers, and
-- leaves its tombstone (renewed if there was one); true when a session was
-- deleted. The tombstone is left either way: a cancel may overtake the
-- session's first batch.
CREATE FUNCTION @extschema@.dozor_tombstone_session(project_id bigint, session_id uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    PERFORM @extschema@.dozor_lock('session', project_id, session_id::text);
    INSERT INTO dozor.session_tombstones AS t (project_id, external_id)
    VALUES (dozor_tombstone_session.project_id, dozor_tombstone_session.session_id)
    ON CONFLICT ON CONSTRAINT session_tombstones_pkey DO UPDATE SET created_at = pg_catalog.now();
    DELETE FROM dozor.sessions s
    WHERE s.project_id = dozor_tombstone_session.project_id
      AND s.external_id = dozor_tombstone_session.session_id;
    RETURN FOUND;
END
$$;

-- Removes the tombstones older than tombstone_ttl (dozor_cleanup calls
-- it); returns how many. Until then a tombstone discards every batch of
-- its session.
CREATE FUNCTION @extschema@.dozor_expire_tombstones(tombstone_ttl interval DEFAULT '7 days')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
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

-- Erasure of a person (GDPR art. 17): deletes a project's tracked user and
-- every session linked to it, with their batches and markers, in one
-- transaction, leaving a tombstone per session so that batches still in
-- flight cannot bring one back; returns how many sessions it removed (0
-- for an unknown user). Holding the user's lock (see dozor_lock), no batch
-- can link another session to the user meanwhile; a batch that identifies
-- the same user id after the erasure commits starts a new tracked user.
CREATE FUNCTION @extschema@.dozor_erase_user(project_id bigint, external_id text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
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

-- Their grants (src/access.sql classifies every function): all four are
-- the admin's, SECURITY INVOKER, so that row-level security applies.
REVOKE ALL ON FUNCTION @extschema@.dozor_lock(text, bigint, text),
    @extschema@.dozor_tombstone_session(bigint, uuid),
    @extschema@.dozor_expire_tombstones(interval),
    @extschema@.dozor_erase_user(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.dozor_lock(text, bigint, text),
    @extschema@.dozor_tombstone_session(bigint, uuid),
    @extschema@.dozor_expire_tombstones(interval),
    @extschema@.dozor_erase_user(bigint, text) TO dozor_admin;

-------------------------------------------------------------------------------
-- 3. functions that changed
-------------------------------------------------------------------------------

-- Markers of a session (of one kind, or all when kind is NULL) in the
-- stream's order (SPEC §5.2): by timestamp; at one timestamp the session's
-- initial url marker first, then batch order (first_timestamp, id) and
-- position in the batch, exactly as dozor_events and dozor_history order
-- events, whatever order the batches arrived in. Callers keep the order
-- with WITH ORDINALITY (which also keeps this from being inlined).
CREATE FUNCTION @extschema@.dozor_stream_markers(session_id bigint, kind text DEFAULT NULL)
RETURNS TABLE ("timestamp" bigint, kind text, data jsonb)
LANGUAGE sql STABLE
AS $$
    SELECT m.timestamp, m.kind, m.data
    FROM dozor.markers m
    LEFT JOIN dozor.event_batches b ON b.id = m.batch_id
    WHERE m.session_id = $1 AND ($2 IS NULL OR m.kind = $2)
    ORDER BY m.timestamp, m.batch_id IS NOT NULL, b.first_timestamp, m.batch_id, m.event_index, m.id
$$;

REVOKE ALL ON FUNCTION @extschema@.dozor_stream_markers(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.dozor_stream_markers(bigint, text) TO dozor_viewer;

-- POST /api/ingest: one SDK batch, all of SPEC §3 in one transaction.
-- Returns the session's internal id, or NULL when the session was
-- cancelled or erased (it has a tombstone): the batch is acknowledged and
-- discarded, nothing is stored (HTTP 204, so the SDK does not retry).
CREATE OR REPLACE FUNCTION @extschema@.dozor_ingest(api_key text, body bytea, content_encoding text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    project bigint := @extschema@.dozor_project_of_key(api_key);
    b @extschema@.dozor_prepared_batch := @extschema@.dozor_prepare_batch(body, content_encoding);
    first_at timestamptz;
    last_at timestamptz;
    sid bigint;
    bid bigint;
    uid bigint;
    url_at bigint;
    start_moved boolean := false;
    new_start timestamptz;
BEGIN
    IF b.event_count > 0 THEN
        first_at := @extschema@.dozor_ms_to_timestamptz(b.first_timestamp);
        last_at := @extschema@.dozor_ms_to_timestamptz(b.last_timestamp);
    ELSE
        first_at := pg_catalog.now();
        last_at := first_at;
    END IF;

    -- A cancelled or erased session stays so (see dozor_lock for the race);
    -- a batch that identifies a user locks the user first, as erasure does.
    IF b.user_id IS NOT NULL THEN
        PERFORM @extschema@.dozor_lock('user', project, b.user_id);
    END IF;
    PERFORM @extschema@.dozor_lock('session', project, b.session_id::text);
    IF EXISTS (SELECT FROM dozor.session_tombstones t
               WHERE t.project_id = project AND t.external_id = b.session_id) THEN
        RETURN NULL;
    END IF;

    -- Create the session (metadata and counts are filled in below), or
    -- lock the existing row with a no-op update so that concurrent batches
    -- of one session serialize here.
    INSERT INTO dozor.sessions AS s (project_id, external_id, started_at, ended_at)
    VALUES (project, b.session_id, first_at, last_at)
    ON CONFLICT (project_id, external_id) DO UPDATE SET project_id = s.project_id
    RETURNING s.id INTO sid;

    IF b.event_count > 0 THEN
        INSERT INTO dozor.event_batches
            (session_id, first_timestamp, last_timestamp, event_count, data,
             raw_bytes, timeline, console_count, content_hash, click_count,
             keypress_count, mouse_activity_count, console_log_count,
             console_warn_count, console_error_count, active_ranges)
        SELECT sid, b.first_timestamp, b.last_timestamp, b.event_count, b.data,
               b.raw_bytes, b.timeline, b.console_count, b.content_hash, b.click_count,
               b.keypress_count, b.mouse_activity_count, b.console_log_count,
               b.console_warn_count, b.console_error_count,
               COALESCE((SELECT pg_catalog.range_agg(pg_catalog.int8range(r.lo, r.hi + 4999))
                         FROM ROWS FROM (pg_catalog.unnest(b.active_starts), pg_catalog.unnest(b.active_ends)) AS r(lo, hi)),
                        '{}')
        ON CONFLICT (session_id, content_hash) DO NOTHING
        RETURNING id INTO bid;
        IF bid IS NULL THEN
            RETURN sid;         -- a retry of a stored batch changes nothing
        END IF;

        -- Fold the batch into the session: widen the window (a session that
        -- had no events yet takes this batch's window instead of the time of
        -- its first ping), add the counts, merge the activity.
        UPDATE dozor.sessions s SET
            started_at = w.started_at,
            ended_at = w.ended_at,
            -- capped: a hostile window of centuries must not fail the batch
            duration = LEAST(pg_catalog.round(EXTRACT(epoch FROM w.ended_at - w.started_at)), 2147483647),
            event_count = s.event_count + b.event_count,
            click_count = s.click_count + b.click_count,
            keypress_count = s.keypress_count + b.keypress_count,
            mouse_activity_count = s.mouse_activity_count + b.mouse_activity_count,
            console_log_count = s.console_log_count + b.console_log_count,
            console_warn_count = s.console_warn_count + b.console_warn_count,
            console_error_count = s.console_error_count + b.console_error_count,
            active_ranges = w.active_ranges,
            active_ms = @extschema@.dozor_active_ms(w.active_ranges),
            size_bytes = s.size_bytes + pg_catalog.length(b.data)
        FROM dozor.sessions cur
        JOIN dozor.event_batches eb ON eb.id = bid
        CROSS JOIN LATERAL (SELECT
            CASE WHEN cur.event_count = 0 THEN first_at ELSE LEAST(cur.started_at, first_at) END AS started_at,
            CASE WHEN cur.event_count = 0 THEN last_at ELSE GREATEST(cur.ended_at, last_at) END AS ended_at,
            cur.active_ranges + eb.active_ranges AS active_ranges) w
        WHERE s.id = sid AND cur.id = sid
        RETURNING w.started_at <> cur.started_at, w.started_at INTO start_moved, new_start;

        -- The session's url marker stays at the session's start when a late
        -- batch moves the start earlier, whatever order batches arrive in.
        IF start_moved THEN
            UPDATE dozor.markers m SET timestamp = (EXTRACT(epoch FROM new_start) * 1000)::bigint
            WHERE m.session_id = sid AND m.batch_id IS NULL AND m.kind = 'url';
        END IF;
    END IF;

    -- The first metadata a session receives fills it in (normally with its
    -- first batch; later when that batch was lost or overtaken), with the
    -- session's url as a marker at its start (kept there above), ahead of
    -- event markers of the same millisecond.
    IF b.has_metadata THEN
        UPDATE dozor.sessions s SET url = b.url, referrer = b.referrer, user_agent = b.user_agent,
            screen_width = b.screen_width, screen_height = b.screen_height, language = b.language
        WHERE s.id = sid AND s.url IS NULL
        RETURNING (EXTRACT(epoch FROM s.started_at) * 1000)::bigint INTO url_at;
        IF FOUND THEN
            INSERT INTO dozor.markers (session_id, timestamp, kind, data)
            VALUES (sid, url_at, 'url', pg_catalog.jsonb_build_object('url', b.url, 'pathname', b.url_pathname));
        END IF;
    END IF;

    IF bid IS NOT NULL THEN
        INSERT INTO dozor.markers (session_id, batch_id, event_index, timestamp, kind, data)
        SELECT sid, bid, m.i, m.t, m.k, m.d::jsonb
        FROM ROWS FROM (pg_catalog.unnest(b.marker_index), pg_catalog.unnest(b.marker_timestamp),
                        pg_catalog.unnest(b.marker_kind), pg_catalog.unnest(b.marker_data)) AS m(i, t, k, d);
    END IF;

    -- Pages visited, from the url markers (only when this call added one).
    IF url_at IS NOT NULL OR start_moved OR 'url' = ANY (b.marker_kind) THEN
        UPDATE dozor.sessions s SET (page_count, pathnames, first_url) = (
            SELECT pg_catalog.count(*)::integer,
                   COALESCE(pg_catalog.array_agg(v.pathname ORDER BY v.first_seen) FILTER (WHERE v.first_visit), '{}'),
                   (pg_catalog.array_agg(v.url ORDER BY v.ord))[1]
            FROM (SELECT m.ord, m.data->>'url' AS url, m.data->>'pathname' AS pathname,
                         pg_catalog.min(m.ord) OVER (PARTITION BY m.data->>'pathname') AS first_seen,
                         pg_catalog.row_number() OVER (PARTITION BY m.data->>'pathname' ORDER BY m.ord) = 1 AS first_visit
                  FROM @extschema@.dozor_stream_markers(sid, 'url') WITH ORDINALITY AS m ("timestamp", kind, data, ord)
                  WHERE pg_catalog.jsonb_typeof(m.data->'pathname') = 'string' AND m.data->>'pathname' <> '') v)
        WHERE s.id = sid;
    END IF;

    IF b.user_id IS NOT NULL THEN
        INSERT INTO dozor.tracked_users AS u (project_id, external_id, traits)
        VALUES (project, b.user_id, b.traits::jsonb)
        ON CONFLICT (project_id, external_id) DO UPDATE
            SET traits = COALESCE(EXCLUDED.traits, u.traits), updated_at = pg_catalog.now()
        RETURNING u.id INTO uid;
        UPDATE dozor.sessions SET tracked_user_id = uid WHERE id = sid;
    END IF;

    UPDATE dozor.projects SET last_used_at = pg_catalog.now() WHERE id = project;
    RETURN sid;
END
$$;

-- POST /api/sessions/cancel: hard delete, scoped to the key's project,
-- leaving a tombstone: batches of the session that arrive later (already
-- in flight when the SDK cancelled) are discarded.
CREATE OR REPLACE FUNCTION @extschema@.dozor_cancel_session(api_key text, session_id uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE
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

-- Markers of a session by timestamp; kind filter: NULL or '' (all), url, identity.
CREATE OR REPLACE FUNCTION @extschema@.dozor_markers(session_id bigint, kind text DEFAULT NULL)
RETURNS SETOF @extschema@.dozor_marker
LANGUAGE plpgsql STABLE
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
LANGUAGE sql STABLE STRICT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
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
            'id', u.id, 'userId', u.external_id, 'traits', u.traits) END,
        'markers', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'timestamp', m.timestamp, 'kind', m.kind, 'data', m.data) ORDER BY m.ord)
            FROM @extschema@.dozor_stream_markers(s.id) WITH ORDINALITY AS m ("timestamp", kind, data, ord)), '[]'::jsonb))
    FROM dozor.sessions s LEFT JOIN dozor.tracked_users u ON u.id = s.tracked_user_id
    WHERE s.id = dozor_session.session_id
$$;

-- CREATE OR REPLACE resets what src/access.sql set: the SDK's two
-- functions run as the owner again, with their search_path pinned.
ALTER FUNCTION @extschema@.dozor_ingest(text, bytea, text)
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.dozor_cancel_session(text, uuid)
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- dozor_cleanup takes tombstone_ttl: a new signature, so drop and create
-- (a pg_cron job calling dozor_cleanup('90 days') resolves to it as before).
DROP FUNCTION @extschema@.dozor_cleanup(interval);
-- Deletes the sessions created before now() - retention, with their
-- batches and markers (foreign key cascades); returns how many. Tracked
-- users stay (they may come back). Works project by project in chunks of
-- 1000 along (project_id, created_at, id), each chunk one DELETE whose
-- cascades run at its end, so memory stays bounded however much is due;
-- rows locked by a concurrent ingest are skipped (SKIP LOCKED), never
-- waited for, and go at the next run. Everything is one transaction (a
-- function cannot commit): the deleted rows stay locked until it commits,
-- which only matters to a write to one of those old sessions. Running it
-- twice deletes nothing the second time. It also removes the tombstones
-- of cancelled sessions older than tombstone_ttl (dozor_expire_tombstones).
--
-- Daily at 03:00 with pg_cron (in the database where pg_cron runs jobs):
--   SELECT cron.schedule('dozor-retention', '0 3 * * *', $$SELECT dozor_cleanup('90 days')$$);
CREATE FUNCTION @extschema@.dozor_cleanup(retention interval DEFAULT '90 days',
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
BEGIN
    IF retention IS NULL THEN
        RAISE EXCEPTION 'retention must not be NULL' USING ERRCODE = '22023';
    ELSIF retention < interval '0' THEN
        RAISE EXCEPTION 'retention must not be negative (got %)', retention
            USING ERRCODE = '22023', HINT = 'Sessions created more than this long ago are deleted, e.g. ''90 days''.';
    END IF;
    cutoff := pg_catalog.now() - retention;
    PERFORM @extschema@.dozor_expire_tombstones(tombstone_ttl);
    FOR project IN SELECT p.id FROM dozor.projects p ORDER BY p.id LOOP
        -- keyset through the project's old sessions: each chunk starts
        -- after the last one, never rescanning what this call deleted
        last_at := '-infinity';
        last_id := 0;
        LOOP
            n := NULL;
            WITH gone AS (
                DELETE FROM dozor.sessions s
                WHERE s.id IN (
                    SELECT c.id FROM dozor.sessions c
                    WHERE c.project_id = project AND c.created_at < cutoff
                      AND (c.created_at, c.id) > (last_at, last_id)
                    ORDER BY c.created_at, c.id
                    LIMIT chunk
                    FOR UPDATE SKIP LOCKED)
                RETURNING s.created_at, s.id)
            SELECT pg_catalog.count(*) OVER (), g.created_at, g.id INTO n, last_at, last_id
            FROM gone g ORDER BY g.created_at DESC, g.id DESC LIMIT 1;
            EXIT WHEN n IS NULL;
            total := total + n;
        END LOOP;
    END LOOP;
    RETURN total;
END
$$;

REVOKE ALL ON FUNCTION @extschema@.dozor_cleanup(interval, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.dozor_cleanup(interval, interval) TO dozor_admin;
