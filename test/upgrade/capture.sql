-- Every read and dashboard function's output for every session, as text, to
-- be compared byte for byte before and after the upgrade. Run by run.sh as
-- the superuser and again as upg_viewer (row-level security). :ids holds
-- every session id that ever existed plus ids that never did; :users every
-- tracked user id. Feeds come in their own order (WITH ORDINALITY); calls
-- use named arguments, as an application would.
\set ON_ERROR_STOP on
\pset format unaligned
\pset fieldsep '|'
\pset null '<null>'
\pset footer off
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 1;

-- Every page of a list, following next_cursor to the end: call is the
-- list function's call with %s for page_limit and %L for the cursor.
CREATE FUNCTION pg_temp.pages(call text, page_limit integer)
RETURNS TABLE (page integer, line text) LANGUAGE plpgsql AS $$
DECLARE
    cur text;
    got integer;
    r record;
BEGIN
    page := 0;
    LOOP
        page := page + 1;
        got := 0;
        FOR r IN EXECUTE 'SELECT * FROM ' || format(call, page_limit, cur) LOOP
            line := r::text;
            RETURN NEXT;
            got := got + 1;
            cur := r.next_cursor;
        END LOOP;
        EXIT WHEN got < page_limit OR page > 100;
    END LOOP;
END $$;

-- The sessions list with the given arguments, without the default time
-- window, and without the default floors unless args sets them.
CREATE FUNCTION pg_temp.session_pages(args text, page_limit integer DEFAULT 4)
RETURNS TABLE (page integer, line text) LANGUAGE sql AS $$
    SELECT * FROM pg_temp.pages('dozor_sessions(since => NULL, '
                                || CASE WHEN args ~ 'min_events' THEN '' ELSE 'min_events => NULL, min_duration => NULL, ' END
                                || args || ', page_limit => %s, cursor => %L)', page_limit)
$$;

CREATE TEMP VIEW ids AS SELECT unnest(:'ids'::bigint[]) AS id;

\echo == dozor_session
SELECT i.id, dozor_session(session_id => i.id) FROM ids i ORDER BY i.id;
\echo == dozor_session_batches
SELECT i.id, b.ordinality, b.id, b.first_timestamp, b.last_timestamp, b.event_count,
       length(b.data), md5(b.data)
FROM ids i, LATERAL dozor_session_batches(session_id => i.id) WITH ORDINALITY b ORDER BY 1, 2;
\echo == dozor_history (compressed, default)
SELECT i.id, h.* FROM ids i, LATERAL dozor_history(session_id => i.id) WITH ORDINALITY h ORDER BY 1, h.ordinality;
\echo == dozor_history (real time)
SELECT i.id, h.* FROM ids i, LATERAL dozor_history(session_id => i.id, compress_idle => false) WITH ORDINALITY h
ORDER BY 1, h.ordinality;
\echo == dozor_history (gap 10 s, cap 2 s)
SELECT i.id, h.* FROM ids i, LATERAL dozor_history(session_id => i.id, compress_idle => true, idle_gap_ms => 10000,
                                                   cap_ms => 2000) WITH ORDINALITY h ORDER BY 1, h.ordinality;
\echo == dozor_history (no idle items)
SELECT i.id, h.* FROM ids i, LATERAL dozor_history(session_id => i.id, idle_gap_ms => NULL) WITH ORDINALITY h
ORDER BY 1, h.ordinality;
\echo == dozor_console (compressed, default)
SELECT i.id, c.* FROM ids i, LATERAL dozor_console(session_id => i.id) WITH ORDINALITY c ORDER BY 1, c.ordinality;
\echo == dozor_console (real time)
SELECT i.id, c.* FROM ids i, LATERAL dozor_console(session_id => i.id, compress_idle => false) WITH ORDINALITY c
ORDER BY 1, c.ordinality;
\echo == dozor_markers (all, url, identity)
SELECT i.id, k.kind, m.* FROM ids i, unnest(ARRAY[NULL, '', 'url', 'identity']) WITH ORDINALITY k(kind, n),
     LATERAL dozor_markers(session_id => i.id, kind => k.kind) WITH ORDINALITY m ORDER BY i.id, k.n, m.ordinality;
-- the whole stream as one value (exact bytes) and event by event (so that
-- a difference names the event)
\echo == dozor_events (whole, real and compressed, gap 5 s cap 1 s)
SELECT i.id, length(e.r::text), md5(e.r::text), length(e.c::text), md5(e.c::text), md5(e.g::text)
FROM ids i, LATERAL (SELECT dozor_events(session_id => i.id) AS r,
                            dozor_events(session_id => i.id, compress_idle => true) AS c,
                            dozor_events(session_id => i.id, compress_idle => true, gap_ms => 5000, cap_ms => 1000) AS g) e
ORDER BY 1;
\echo == dozor_events (real time, by event)
SELECT i.id, e.n, e.v FROM ids i, LATERAL json_array_elements(dozor_events(session_id => i.id)) WITH ORDINALITY e(v, n)
ORDER BY 1, 2;
\echo == dozor_events (compressed, by event)
SELECT i.id, e.n, e.v FROM ids i,
     LATERAL json_array_elements(dozor_events(session_id => i.id, compress_idle => true)) WITH ORDINALITY e(v, n)
ORDER BY 1, 2;
-- mapping at fixed times around every session and at the session's own
-- start, thirds, end and past it
\echo == dozor_to_compressed
SELECT i.id, p.ms, dozor_to_compressed(session_id => i.id, real_ms => p.ms),
       dozor_to_compressed(session_id => i.id, real_ms => p.ms, gap_ms => 10000, cap_ms => 2000)
FROM ids i LEFT JOIN dozor.sessions s ON s.id = i.id,
     LATERAL (SELECT x FROM unnest(ARRAY[1741942799000, 1741942800000, 1741942830000, 1741942861000,
                                         1741942925000, 1741946500000, 1741950031000, 1741953600500]::float8[]) x
              UNION SELECT extract(epoch FROM s.started_at) * 1000 + d
              FROM unnest(ARRAY[-1000, 0, 0.5]::float8[]) d WHERE s.id IS NOT NULL
              UNION SELECT extract(epoch FROM s.started_at) * 1000
                           + extract(epoch FROM s.ended_at - s.started_at) * 1000 * f
              FROM unnest(ARRAY[1 / 3.0, 0.5, 1, 1.25]::float8[]) f WHERE s.id IS NOT NULL) p(ms)
ORDER BY 1, 2;
\echo == dozor_to_real
SELECT i.id, p.ms, dozor_to_real(session_id => i.id, compressed_ms => p.ms),
       dozor_to_real(session_id => i.id, compressed_ms => p.ms, gap_ms => 10000, cap_ms => 2000)
FROM ids i, unnest(ARRAY[-5, 0, 1000, 4999.5, 29999.5, 45000, 61000, 125000, 1e6, 1e9]::float8[]) p(ms)
ORDER BY 1, 2;

-- the pure counterparts over each session's stream (as the stored
-- functions see it)
\echo == pure functions over the stream
SELECT i.id, x.n, x.line FROM ids i,
     LATERAL (SELECT dozor_events(session_id => i.id) AS ev) e,
     LATERAL (SELECT 1 AS n, md5(dozor_compress_events(e.ev)::text) AS line
              UNION ALL SELECT 2, string_agg(h::text, ' ' ORDER BY h.ordinality) FROM dozor_build_history(e.ev,
                   initial_url => 'https://shop.example/', compress_idle => true) WITH ORDINALITY h
              UNION ALL SELECT 3, string_agg(c::text, ' ' ORDER BY c.ordinality) FROM dozor_console_logs(e.ev, true)
                   WITH ORDINALITY c
              UNION ALL SELECT 4, string_agg(m::text, ' ' ORDER BY m.ordinality) FROM dozor_extract_markers(e.ev) WITH ORDINALITY m
              UNION ALL SELECT 5, dozor_map_to_compressed(e.ev, 1741942861000)::text || ' '
                                  || dozor_map_to_real(e.ev, 45000)::text) x
WHERE e.ev IS NOT NULL
ORDER BY 1, 2;

\echo == dozor_sessions (defaults)
SELECT s.* FROM dozor_sessions() s;
\echo == dozor_sessions (every sort and direction, every page)
SELECT k.sort, d.dir, p.* FROM unnest(ARRAY['date', 'duration', 'active']) WITH ORDINALITY k(sort, i),
     unnest(ARRAY['desc', 'asc']) WITH ORDINALITY d(dir, j),
     LATERAL pg_temp.session_pages(format('sort => %L, sort_dir => %L', k.sort, d.dir)) WITH ORDINALITY p
ORDER BY k.i, d.j, p.ordinality;
\echo == dozor_sessions (filters)
SELECT f.args, p.* FROM unnest(ARRAY[
    format('project_ids => %L', ARRAY(SELECT id FROM dozor.projects WHERE name = 'blog')),
    'sort => ''duration'', visited => ''/checkout''',
    'sort => ''active'', has_console_errors => true',
    'sort_dir => ''asc'', has_console_errors => false',
    'sort => ''active'', sort_dir => ''asc'', min_active_ms => 5000',
    'search => ''5e55-40''',
    'sort => ''duration'', sort_dir => ''asc'', min_events => 2, min_duration => 1']) WITH ORDINALITY f(args, n),
     LATERAL pg_temp.session_pages(f.args, 2 + f.n::integer % 3) WITH ORDINALITY p
ORDER BY f.n, p.ordinality;
\echo == dozor_sessions_summary
SELECT 'all' AS scope, s.* FROM dozor_sessions_summary() s
UNION ALL SELECT p.name, s.* FROM dozor.projects p, LATERAL dozor_sessions_summary(project_ids => ARRAY[p.id]) s;
\echo == dozor_tracked_users
SELECT f.args, p.* FROM unnest(ARRAY['', 'trait_key => ''plan'', ', 'trait_key => ''plan'', trait_value => ''pro'', ',
                                   'trait_key => ''seats'', trait_value => ''3'', ', 'search => ''U-'', '])
                     WITH ORDINALITY f(args, n),
     LATERAL pg_temp.pages('dozor_tracked_users(' || f.args || 'page_limit => %s, cursor => %L)', f.n::integer % 2 + 1) WITH ORDINALITY p
ORDER BY f.n, p.ordinality;
\echo == dozor_tracked_user_sessions
SELECT u.id, p.* FROM unnest(:'users'::bigint[]) u(id),
     LATERAL pg_temp.pages(format('dozor_tracked_user_sessions(user_id => %s, page_limit => %%s, cursor => %%L)', u.id), 1) WITH ORDINALITY p
ORDER BY u.id, p.ordinality;
\echo == rows visible in the tables
SELECT (SELECT count(*) FROM dozor.sessions) AS sessions, (SELECT count(*) FROM dozor.event_batches) AS batches,
       (SELECT count(*) FROM dozor.markers) AS markers, (SELECT count(*) FROM dozor.tracked_users) AS users,
       (SELECT count(*) FROM dozor.project_grants) AS grants;
