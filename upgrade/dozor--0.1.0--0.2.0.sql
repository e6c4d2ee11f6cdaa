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
-- 1. Stored batches: event indexes bound to their rows
--
-- 0.2.0 seals each batch's event index with the batch's digest (a valid
-- index of another batch no longer passes) and adds the classes full
-- snapshot, meta and other dozor:* marker. Every 0.1.0 index is made again
-- from its blob, exactly as ingest makes it: this reads and inflates every
-- stored batch once (README, "Upgrading", gives the cost per GB).
-------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.dozor_rebuild_event_index(batch_id bigint, data bytea,
                                                     raw_bytes integer, content_hash bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'dozor_rebuild_event_index'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION @extschema@.dozor_rebuild_event_index(bigint, bytea, integer, bytea) FROM PUBLIC;

UPDATE dozor.event_batches b
SET timeline = @extschema@.dozor_rebuild_event_index(b.id, b.data, b.raw_bytes, b.content_hash);

-------------------------------------------------------------------------------
-- 3. Functions that changed (each as in the install script)
-------------------------------------------------------------------------------

-- The activity rule's gap lives in src/limits.h: active_ms is C, and ingest
-- gets each run as its range bounds.
CREATE OR REPLACE FUNCTION @extschema@.dozor_active_ms(ranges int8multirange)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dozor_active_ms'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Runs as the extension owner (the API key is the check): the ingest role
-- reads and writes no table itself.
CREATE OR REPLACE FUNCTION @extschema@.dozor_ingest(api_key text, body bytea, content_encoding text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
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
               COALESCE((SELECT pg_catalog.range_agg(pg_catalog.int8range(r.lo, r.hi))
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
                   (pg_catalog.array_agg(v.url ORDER BY v.timestamp, v.id))[1]
            FROM (SELECT m.id, m.timestamp, m.data->>'url' AS url, m.data->>'pathname' AS pathname,
                         pg_catalog.min(m.timestamp) OVER (PARTITION BY m.data->>'pathname') AS first_seen,
                         pg_catalog.row_number() OVER (PARTITION BY m.data->>'pathname' ORDER BY m.timestamp, m.id) = 1 AS first_visit
                  FROM dozor.markers m
                  WHERE m.session_id = sid AND m.kind = 'url'
                    AND pg_catalog.jsonb_typeof(m.data->'pathname') = 'string' AND m.data->>'pathname' <> '') v)
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


-- Paged batches: new arguments and a next_cursor column.
DROP FUNCTION @extschema@.dozor_session_batches(bigint);
CREATE FUNCTION @extschema@.dozor_session_batches(session_id bigint, cursor text DEFAULT NULL,
                                                 page_limit integer DEFAULT NULL)
RETURNS TABLE (id bigint, first_timestamp bigint, last_timestamp bigint,
               event_count integer, data text, next_cursor text)
LANGUAGE plpgsql STABLE
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

REVOKE ALL ON FUNCTION @extschema@.dozor_session_batches(bigint, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.dozor_session_batches(bigint, text, integer) TO dozor_viewer;

-- Windows of the stream.
DROP FUNCTION @extschema@.dozor_events(bigint, boolean, integer, integer);
CREATE FUNCTION @extschema@.dozor_events(session_id bigint, compress_idle boolean DEFAULT false,
                                        gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000,
                                        from_ms double precision DEFAULT NULL,
                                        to_ms double precision DEFAULT NULL)
RETURNS json
AS 'MODULE_PATHNAME', 'dozor_events'
LANGUAGE C STABLE;

REVOKE ALL ON FUNCTION @extschema@.dozor_events(bigint, boolean, integer, integer, double precision, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.dozor_events(bigint, boolean, integer, integer, double precision, double precision) TO dozor_viewer;

-- Keyframes for the player.
CREATE FUNCTION @extschema@.dozor_keyframes(session_id bigint, compress_idle boolean DEFAULT false,
                                           gap_ms integer DEFAULT 30000, cap_ms integer DEFAULT 5000)
RETURNS TABLE ("timestamp" double precision, type integer)
AS 'MODULE_PATHNAME', 'dozor_keyframes'
LANGUAGE C STABLE;

REVOKE ALL ON FUNCTION @extschema@.dozor_keyframes(bigint, boolean, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.dozor_keyframes(bigint, boolean, integer, integer) TO dozor_viewer;
