-- dozor install script, part 2: what the dashboard's pages query
-- (sessions list, session detail, tracked users, summaries, retention).
-- Appended to src/dozor.sql by the Makefile.
--
-- Every function here is SECURITY INVOKER (row-level security of the
-- caller applies) and pins search_path to pg_catalog, so that operators
-- and types in the queries, including the dynamic ones, cannot be
-- redirected by a hostile search_path.
--
-- Pagination (sessions, tracked users, one user's sessions) is keyset
-- pagination with an opaque cursor:
--   * every row carries next_cursor, the cursor that resumes right after
--     that row; to get the next page pass the last row's next_cursor;
--     fewer rows than page_limit means there are no more (a full page may
--     be followed by an empty one);
--   * the cursor is base64url (no padding) of 'v1|<list>|...|<key>|<id>':
--     the list and sort it was made for, then the last row's sort key
--     (timestamps as microseconds since the epoch, exact) and id. It is
--     only checked, never trusted: a malformed cursor, or one made for
--     another list, sort or direction, is SQLSTATE 22023;
--   * the next page is "rows strictly after (key, id) in the order", so
--     rows inserted between two pages never make an existing row repeat or
--     go missing (a new row shows up if it sorts after the cursor). Only a
--     row whose own sort key changes between pages can move across the
--     cursor: a live session's duration / active time, a user's last seen.

-------------------------------------------------------------------------------
-- Cursors
-------------------------------------------------------------------------------

-- A timestamp as a cursor key: microseconds since the epoch (exact, and
-- independent of DateStyle and TimeZone), or 'infinity' / '-infinity'.
-- (No SET search_path on these two, so that they inline into the list
-- queries; everything in them is qualified.)
CREATE FUNCTION @extschema@.dozor_cursor_ts_key(t timestamptz)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
AS $$
    SELECT CASE WHEN pg_catalog.isfinite(t)
                THEN (EXTRACT(epoch FROM t) * 1000000)::bigint::pg_catalog.text
                ELSE t::pg_catalog.text END
$$;

-- An opaque cursor from its parts (see the top of this file).
CREATE FUNCTION @extschema@.dozor_cursor_encode(VARIADIC parts text[])
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
AS $$
    SELECT pg_catalog.rtrim(pg_catalog.translate(pg_catalog.encode(pg_catalog.convert_to(
        'v1|' || pg_catalog.array_to_string(parts, '|'), 'UTF8'), 'base64'), E'+/\n', '-_'), '=')
$$;

-- Checks a cursor against the list it is used for and returns its key and
-- id: key_ts when the list sorts on a timestamp, key_num otherwise. Any
-- defect is 22023 with a message saying what is wrong.
CREATE FUNCTION @extschema@.dozor_cursor_decode(cursor text, made_for text[], ts_key boolean,
                                               OUT key_ts timestamptz, OUT key_num bigint,
                                               OUT last_id bigint)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b64 text := pg_catalog.translate(cursor, '-_', '+/');
    plain text;
    parts text[];
    n integer := pg_catalog.cardinality(made_for);
BEGIN
    BEGIN
        b64 := b64 || pg_catalog.repeat('=', (4 - pg_catalog.length(b64) % 4) % 4);
        plain := pg_catalog.convert_from(pg_catalog.decode(b64, 'base64'), 'UTF8');
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR character_not_in_repertoire THEN
        plain := NULL;
    END;
    IF plain IS NULL OR cursor = '' THEN
        RAISE EXCEPTION 'invalid cursor: not a cursor returned by this function'
            USING ERRCODE = '22023', HINT = 'Pass the next_cursor of the last row of the previous page, or NULL for the first page.';
    END IF;
    parts := pg_catalog.string_to_array(plain, '|');
    IF parts[1] IS DISTINCT FROM 'v1' OR pg_catalog.cardinality(parts) <> n + 3 THEN
        RAISE EXCEPTION 'invalid cursor: not a cursor returned by this function'
            USING ERRCODE = '22023', HINT = 'Pass the next_cursor of the last row of the previous page, or NULL for the first page.';
    END IF;
    IF parts[2:n + 1] IS DISTINCT FROM made_for THEN
        RAISE EXCEPTION 'invalid cursor: it was made for %, not for %',
            pg_catalog.array_to_string(parts[2:n + 1], ' '), pg_catalog.array_to_string(made_for, ' ')
            USING ERRCODE = '22023', HINT = 'A cursor only continues the list, sort and direction it came from.';
    END IF;
    BEGIN
        IF parts[n + 3] !~ '^[0-9]{1,19}$' THEN
            RAISE EXCEPTION USING ERRCODE = '22P02';
        END IF;
        last_id := parts[n + 3]::bigint;
        IF ts_key THEN
            IF parts[n + 2] IN ('infinity', '-infinity') THEN
                key_ts := parts[n + 2]::timestamptz;
            ELSIF parts[n + 2] ~ '^-?[0-9]{1,19}$' THEN
                key_num := parts[n + 2]::bigint;
                -- whole seconds and the rest apart: exact for any timestamp
                key_ts := 'epoch'::timestamptz + (key_num / 1000000) * '1 second'::interval
                          + (key_num % 1000000) * '1 microsecond'::interval;
                key_num := NULL;
            ELSE
                RAISE EXCEPTION USING ERRCODE = '22P02';
            END IF;
        ELSIF parts[n + 2] ~ '^-?[0-9]{1,19}$' THEN
            key_num := parts[n + 2]::bigint;
        ELSE
            RAISE EXCEPTION USING ERRCODE = '22P02';
        END IF;
    EXCEPTION WHEN data_exception THEN
        RAISE EXCEPTION 'invalid cursor: its position is damaged'
            USING ERRCODE = '22023', HINT = 'Pass the next_cursor of the last row of the previous page, or NULL for the first page.';
    END;
END
$$;

-- page_limit is 1..1000 in every list.
CREATE FUNCTION @extschema@.dozor_check_page_limit(page_limit integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF page_limit IS NULL OR page_limit NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'page_limit must be between 1 and 1000, not %', COALESCE(page_limit::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
END
$$;

-------------------------------------------------------------------------------
-- Sessions
-------------------------------------------------------------------------------

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
CREATE FUNCTION @extschema@.dozor_sessions(
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
COMMENT ON FUNCTION @extschema@.dozor_sessions(bigint[], timestamptz, text, text, text, integer, text, integer, integer, text, boolean, bigint) IS
    'The session list of the caller''s projects: filters, sorts and keyset pages (next_cursor).';

-- GET /api/sessions/{id}: the session row, its activity summary, tracked
-- user and markers, as one object; NULL when there is no such session.
CREATE FUNCTION @extschema@.dozor_session(session_id bigint)
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
COMMENT ON FUNCTION @extschema@.dozor_session(bigint) IS
    'GET /api/sessions/{id}: the session row, its activity summary, tracked user and markers as one JSON object; NULL when not visible.';

-- The dashboard's header figures, in one pass over the sessions of the
-- projects (NULL: every project the caller can see): every session counts,
-- whatever its size; durations in seconds; "last 24 h" by created_at.
CREATE FUNCTION @extschema@.dozor_sessions_summary(project_ids bigint[] DEFAULT NULL)
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
COMMENT ON FUNCTION @extschema@.dozor_sessions_summary(bigint[]) IS
    'Counts and totals over the caller''s sessions, per project.';

-------------------------------------------------------------------------------
-- Tracked users
-------------------------------------------------------------------------------

-- GET /api/users: one page of tracked users, last seen first (the latest
-- ended_at of their sessions; users with no session left come last), ties
-- by id. Filters: projects (NULL: all the caller can see), a trait key
-- (users that have it) and value (traits->>key = value, so 3 and "3" both
-- match '3'), search (case-insensitive substring of the user id). Last seen
-- is computed, not stored: a page costs one index probe per matching user.
CREATE FUNCTION @extschema@.dozor_tracked_users(
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
COMMENT ON FUNCTION @extschema@.dozor_tracked_users(bigint[], text, text, text, integer, text) IS
    'Tracked users of the caller''s projects, with filters and keyset pages.';

-- GET /api/users/{id}/sessions: one tracked user's sessions, newest first
-- (created_at, then id), as rows of the sessions list. The cursor is the
-- sessions list's "date desc" cursor, so either list can continue the other.
CREATE FUNCTION @extschema@.dozor_tracked_user_sessions(
    user_id bigint,
    page_limit integer DEFAULT 50,
    cursor text DEFAULT NULL)
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
    -- the first page starts after the last possible position
    after_ts timestamptz := 'infinity';
    after_id bigint := 9223372036854775807;
BEGIN
    PERFORM @extschema@.dozor_check_page_limit(dozor_tracked_user_sessions.page_limit);
    IF dozor_tracked_user_sessions.cursor IS NOT NULL THEN
        SELECT d.key_ts, d.last_id INTO after_ts, after_id
        FROM @extschema@.dozor_cursor_decode(dozor_tracked_user_sessions.cursor,
                                             ARRAY['sessions', 'date', 'desc'], true) d;
    END IF;
    RETURN QUERY
        SELECT s.id, s.external_id, s.project_id, s.url, s.started_at, s.ended_at, s.duration,
               s.event_count, s.active_ms, s.click_count, s.console_error_count, s.page_count,
               s.created_at, s.tracked_user_id, u.external_id, u.traits,
               @extschema@.dozor_cursor_encode('sessions', 'date', 'desc',
                   @extschema@.dozor_cursor_ts_key(s.created_at), s.id::text)
        FROM dozor.sessions s
        JOIN dozor.tracked_users u ON u.id = s.tracked_user_id
        WHERE s.tracked_user_id = dozor_tracked_user_sessions.user_id
          AND (s.created_at, s.id) < (after_ts, after_id)
        ORDER BY s.created_at DESC, s.id DESC
        LIMIT dozor_tracked_user_sessions.page_limit;
END
$$;
COMMENT ON FUNCTION @extschema@.dozor_tracked_user_sessions(bigint, integer, text) IS
    'The sessions of one tracked user, newest first, in keyset pages.';

-------------------------------------------------------------------------------
-- Retention
-------------------------------------------------------------------------------

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
COMMENT ON FUNCTION @extschema@.dozor_cleanup(interval, interval) IS
    'Retention: deletes sessions created before now() - retention (whole days by dropping partitions) and tombstones older than tombstone_ttl; returns how many sessions.';
