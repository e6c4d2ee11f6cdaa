-- dozor install script, part 2: what the dashboard's pages query
-- (sessions list, session detail, tracked users, summaries, retention).
-- Appended to src/dozor.sql by the Makefile.

-- GET /api/sessions/{id}: the session row, its tracked user and markers,
-- as one object; NULL when there is no such session.
CREATE FUNCTION @extschema@.dozor_session(session_id bigint)
RETURNS jsonb
LANGUAGE sql STABLE STRICT
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'id', s.id, 'projectId', s.project_id, 'sessionId', s.external_id,
        'url', s.url, 'referrer', s.referrer, 'userAgent', s.user_agent,
        'screenWidth', s.screen_width, 'screenHeight', s.screen_height,
        'language', s.language, 'startedAt', s.started_at, 'endedAt', s.ended_at,
        'duration', s.duration, 'eventCount', s.event_count, 'createdAt', s.created_at,
        'trackedUser', CASE WHEN u.id IS NULL THEN NULL ELSE pg_catalog.jsonb_build_object(
            'id', u.id, 'userId', u.external_id, 'traits', u.traits) END,
        'markers', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'timestamp', m.timestamp, 'kind', m.kind, 'data', m.data) ORDER BY m.timestamp, m.id)
            FROM dozor.markers m WHERE m.session_id = s.id), '[]'::jsonb))
    FROM dozor.sessions s LEFT JOIN dozor.tracked_users u ON u.id = s.tracked_user_id
    WHERE s.id = dozor_session.session_id
$$;
