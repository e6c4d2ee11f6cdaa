-- The dashboard's queries: the sessions list (keyset pagination under
-- inserts, every sort, floors, filters, search, errors), the session
-- detail, the summary, tracked users, one user's sessions, and retention.
-- Nothing printed depends on the clock or on ids from other test files:
-- times are set from :base (the hour that has begun), sessions are shown
-- by their label (the number at the end of their uuid).

SELECT date_trunc('hour', now()) AS base \gset
SELECT project_id AS p1 FROM dozor_create_project('dash one') \gset
SELECT project_id AS p2 FROM dozor_create_project('dash two') \gset

CREATE FUNCTION dash_uuid(n integer) RETURNS uuid LANGUAGE sql AS
$$ SELECT format('00000000-0000-4000-8000-%s', lpad(n::text, 12, '0'))::uuid $$;
CREATE FUNCTION dash_label(u uuid) RETURNS text LANGUAGE sql AS
$$ SELECT CASE WHEN u::text LIKE '00000000-0000-4000-8000-%' THEN ltrim(right(u::text, 12), '0') ELSE u::text END $$;

-- 27 sessions in p1 with known figures and many ties:
--   created_at = base - (n % 6) h, duration = n % 5 + 2 s,
--   active_ms = (n % 4 + 1) s, console errors on every 5th, three kinds of
--   page lists; 25 has one event, 26 lasts 0 s, 27 is 95 days old.
INSERT INTO dozor.sessions (project_id, external_id, url, started_at, ended_at, created_at,
                            duration, event_count, active_ms, click_count, console_error_count,
                            pathnames, page_count)
SELECT :p1, dash_uuid(n), 'https://shop.example/', :'base'::timestamptz - interval '1 day',
       :'base'::timestamptz - interval '1 day',
       CASE WHEN n = 27 THEN :'base'::timestamptz - interval '95 days'
            ELSE :'base'::timestamptz - (n % 6) * interval '1 hour' END,
       CASE WHEN n = 26 THEN 0 ELSE n % 5 + 2 END,
       CASE WHEN n = 25 THEN 1 ELSE 10 END,
       (n % 4 + 1) * 1000, n % 3,
       CASE WHEN n % 5 = 0 THEN 2 ELSE 0 END,
       pn, cardinality(pn)
FROM generate_series(1, 27) n,
     LATERAL (SELECT CASE n % 3 WHEN 0 THEN '{/,/checkout}'::text[] WHEN 1 THEN '{/}'
                                ELSE '{/pricing,/checkout/done}' END AS pn) x
ORDER BY n;

-- One page per sort and direction: ties are broken by id, in the same
-- direction as the key.
SELECT dash_label(external_id) AS s, extract(epoch FROM :'base'::timestamptz - created_at) / 3600 AS hours_ago
FROM dozor_sessions(ARRAY[:p1]::bigint[], page_limit => 8);
SELECT dash_label(external_id) AS s, extract(epoch FROM :'base'::timestamptz - created_at) / 3600 AS hours_ago
FROM dozor_sessions(ARRAY[:p1]::bigint[], sort_dir => 'asc', page_limit => 8);
SELECT dash_label(external_id) AS s, duration FROM dozor_sessions(ARRAY[:p1]::bigint[], sort => 'duration', page_limit => 6);
SELECT dash_label(external_id) AS s, duration FROM dozor_sessions(ARRAY[:p1]::bigint[], sort => 'duration', sort_dir => 'asc', page_limit => 6);
SELECT dash_label(external_id) AS s, active_ms FROM dozor_sessions(ARRAY[:p1]::bigint[], sort => 'active', page_limit => 6);
SELECT dash_label(external_id) AS s, active_ms FROM dozor_sessions(ARRAY[:p1]::bigint[], sort => 'ACTIVE', sort_dir => 'ASC', page_limit => 6);
-- NULL sort and direction mean the defaults.
SELECT array_agg(dash_label(external_id)) = (SELECT array_agg(dash_label(external_id)) FROM dozor_sessions(ARRAY[:p1]::bigint[]))
       AS null_is_default
FROM dozor_sessions(ARRAY[:p1]::bigint[], sort => NULL, sort_dir => NULL);

-- The row: list columns, no user yet; next_cursor on every row.
SELECT dash_label(external_id) AS s, project_id = :p1 AS p1, url, duration, event_count, active_ms,
       click_count, console_error_count, page_count, tracked_user_id, user_external_id, user_traits,
       next_cursor IS NOT NULL AS has_cursor
FROM dozor_sessions(ARRAY[:p1]::bigint[], page_limit => 2);

-- Floors: the default hides 25 (one event), 26 (0 s) and 27 (older than
-- 90 days); each parameter lets its own back in.
SELECT count(*) AS default_list FROM dozor_sessions(ARRAY[:p1]::bigint[], page_limit => 1000);
SELECT string_agg(dash_label(external_id), ' ' ORDER BY dash_label(external_id)) AS no_event_floor
FROM dozor_sessions(ARRAY[:p1]::bigint[], min_events => NULL, page_limit => 1000) WHERE event_count < 2;
SELECT string_agg(dash_label(external_id), ' ') AS min_duration_0
FROM dozor_sessions(ARRAY[:p1]::bigint[], min_duration => 0, page_limit => 1000) WHERE duration < 1;
SELECT string_agg(dash_label(external_id), ' ') AS since_null
FROM dozor_sessions(ARRAY[:p1]::bigint[], since => NULL, page_limit => 1000) WHERE created_at < now() - interval '90 days';
SELECT count(*) AS all_floors_off
FROM dozor_sessions(ARRAY[:p1]::bigint[], since => NULL, min_events => NULL, min_duration => NULL, page_limit => 1000);
SELECT count(*) AS min_events_11 FROM dozor_sessions(ARRAY[:p1]::bigint[], min_events => 11);
SELECT count(*) AS min_duration_6 FROM dozor_sessions(ARRAY[:p1]::bigint[], min_duration => 6, page_limit => 1000);
SELECT string_agg(dash_label(external_id), ' ' ORDER BY created_at DESC, id DESC) AS since_2h
FROM dozor_sessions(ARRAY[:p1]::bigint[], since => :'base'::timestamptz - interval '2 hours', page_limit => 1000);

-- Filters: visited (GIN on pathnames), console errors, active time, and
-- all together.
SELECT string_agg(dash_label(external_id), ' ' ORDER BY created_at DESC, id DESC) AS visited_checkout
FROM dozor_sessions(ARRAY[:p1]::bigint[], visited => '/checkout', page_limit => 1000);
SELECT count(*) AS visited_nowhere FROM dozor_sessions(ARRAY[:p1]::bigint[], visited => '/nowhere');
SELECT string_agg(dash_label(external_id), ' ' ORDER BY created_at DESC, id DESC) AS with_errors
FROM dozor_sessions(ARRAY[:p1]::bigint[], has_console_errors => true, page_limit => 1000);
SELECT count(*) AS without_errors, bool_and(console_error_count = 0) AS none_has_errors
FROM dozor_sessions(ARRAY[:p1]::bigint[], has_console_errors => false, page_limit => 1000);
SELECT count(*) AS active_4s, min(active_ms) FROM dozor_sessions(ARRAY[:p1]::bigint[], min_active_ms => 4000, page_limit => 1000);
SELECT string_agg(dash_label(external_id), ' ' ORDER BY active_ms DESC, id DESC) AS checkout_errors_active
FROM dozor_sessions(ARRAY[:p1]::bigint[], visited => '/checkout', has_console_errors => true,
                    min_active_ms => 2000, sort => 'active', page_limit => 1000);

-- Search over the session id: substring, case-insensitive; a whole uuid
-- in any case; LIKE wildcards are plain characters.
SELECT string_agg(dash_label(external_id), ' ' ORDER BY dash_label(external_id)) AS search_12
FROM dozor_sessions(ARRAY[:p1]::bigint[], search => '12', page_limit => 1000);
SELECT string_agg(dash_label(external_id), ' ') AS search_whole
FROM dozor_sessions(ARRAY[:p1]::bigint[], search => upper(dash_uuid(7)::text));
SELECT string_agg(dash_label(external_id), ' ') AS search_no_hyphens
FROM dozor_sessions(ARRAY[:p1]::bigint[], search => replace(dash_uuid(8)::text, '-', ''));
SELECT count(*) AS search_part FROM dozor_sessions(ARRAY[:p1]::bigint[], search => '4000-8000', page_limit => 1000);
SELECT count(*) AS search_wildcard FROM dozor_sessions(ARRAY[:p1]::bigint[], search => '%');
SELECT count(*) AS search_empty FROM dozor_sessions(ARRAY[:p1]::bigint[], search => '', page_limit => 1000);
INSERT INTO dozor.sessions (project_id, external_id, started_at, ended_at, created_at, duration, event_count)
VALUES (:p2, 'ABCDEF01-2345-4678-9ABC-DEF012345678', :'base', :'base', :'base', 5, 5);
SELECT dash_label(external_id) AS search_hex_upper FROM dozor_sessions(ARRAY[:p2]::bigint[], search => 'CDEF01');

-- Projects: NULL is every project, [] none, duplicates count once.
SELECT count(*) FILTER (WHERE project_id = :p1) AS p1_rows, count(*) FILTER (WHERE project_id = :p2) AS p2_rows
FROM dozor_sessions(page_limit => 1000);
SELECT count(*) AS empty_list FROM dozor_sessions(ARRAY[]::bigint[]);
SELECT count(*) AS duplicated FROM dozor_sessions(ARRAY[:p2, :p2, :p2]::bigint[]);
SELECT string_agg(dash_label(external_id), ' ') AS two_projects
FROM dozor_sessions(ARRAY[:p1, :p2]::bigint[], page_limit => 4);

-- Bad arguments: 22023 with a message that says what.
SELECT expect_error('SELECT * FROM dozor_sessions(sort => ''name'')');
SELECT expect_error('SELECT * FROM dozor_sessions(sort => '''')');
SELECT expect_error('SELECT * FROM dozor_sessions(sort_dir => ''up'')');
SELECT expect_error('SELECT * FROM dozor_sessions(page_limit => 0)');
SELECT expect_error('SELECT * FROM dozor_sessions(page_limit => 1001)');
SELECT expect_error('SELECT * FROM dozor_sessions(page_limit => NULL)');
SELECT count(*) AS limit_1000 FROM dozor_sessions(ARRAY[:p1]::bigint[], page_limit => 1000);
SELECT expect_error('SELECT * FROM dozor_sessions(cursor => ''garbage!'')');
SELECT expect_error('SELECT * FROM dozor_sessions(cursor => '''')');
SELECT expect_error('SELECT * FROM dozor_sessions(cursor => ''bm90IGEgY3Vyc29y'')');  -- base64 of "not a cursor"
SELECT expect_error('SELECT * FROM dozor_sessions(cursor => ''_w'')');                -- a lone 0xff byte
SELECT expect_error(format('SELECT * FROM dozor_sessions(cursor => %L)', dozor_cursor_encode('sessions', 'date', 'desc', 'soon', '1')));
SELECT expect_error(format('SELECT * FROM dozor_sessions(cursor => %L)', dozor_cursor_encode('sessions', 'date', 'desc', '99999999999999999999', '1')));
SELECT expect_error(format('SELECT * FROM dozor_sessions(cursor => %L)', dozor_cursor_encode('sessions', 'date', 'desc', '-9223372036854775808', '1')));
SELECT expect_error(format('SELECT * FROM dozor_sessions(cursor => %L)', dozor_cursor_encode('sessions', 'duration', 'desc', '1.5', '1')));
SELECT expect_error(format('SELECT * FROM dozor_sessions(cursor => %L)', dozor_cursor_encode('sessions', 'date', 'desc', 'infinity', '1')));
SELECT expect_error(format('SELECT * FROM dozor_sessions(cursor => %L)', dozor_cursor_encode('sessions', 'date', 'desc', '1', '-1')));
SELECT expect_error(format('SELECT * FROM dozor_sessions(cursor => %L)', dozor_cursor_encode('sessions', 'date', 'desc', '1')));
-- A cursor only continues the list, sort and direction it came from.
SELECT next_cursor AS date_cursor FROM dozor_sessions(ARRAY[:p1]::bigint[], page_limit => 1) \gset
SELECT expect_error(format('SELECT * FROM dozor_sessions(sort => %L, cursor => %L)', 'duration', :'date_cursor'));
SELECT expect_error(format('SELECT * FROM dozor_sessions(sort_dir => %L, cursor => %L)', 'asc', :'date_cursor'));
SELECT expect_error(format('SELECT * FROM dozor_tracked_users(cursor => %L)', :'date_cursor'));
-- The cursor is URL-safe text: base64url without padding.
SELECT bool_and(next_cursor ~ '^[A-Za-z0-9_-]+$') AS url_safe
FROM dozor_sessions(ARRAY[:p1]::bigint[], since => NULL, min_events => NULL, min_duration => NULL, page_limit => 1000);

-- Summary (one pass): p1 has 27 sessions, 26 of them in the last 24 h.
SELECT * FROM dozor_sessions_summary(ARRAY[:p1]::bigint[]);
SELECT * FROM dozor_sessions_summary(ARRAY[:p1, :p2]::bigint[]);
SELECT * FROM dozor_sessions_summary(ARRAY[]::bigint[]);
SELECT total_sessions >= 28 AS all_projects FROM dozor_sessions_summary();

-- Pagination while sessions are inserted between pages. After every page
-- (the first 8) three sessions arrive: one with the last row's key (a tie; it sorts
-- before or after that row by its larger id), one with a key the walk
-- has not reached yet, one with a key it has passed. Every session that
-- was there at the start is seen exactly once, in order; of the newcomers
-- exactly those that sort after the cursor when they arrive are seen.
CREATE FUNCTION dash_key(s dozor.sessions, sort text) RETURNS numeric LANGUAGE sql AS $$
    SELECT CASE sort WHEN 'date' THEN extract(epoch FROM s.created_at)
                     WHEN 'duration' THEN s.duration ELSE s.active_ms END
$$;
CREATE FUNCTION dash_insert(project bigint, sort text, k numeric) RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO dozor.sessions (project_id, external_id, started_at, ended_at, created_at, duration, event_count, active_ms)
    VALUES (project, gen_random_uuid(), now(), now(),
            CASE WHEN sort = 'date' THEN to_timestamp(k) ELSE now() - interval '1 minute' END,
            CASE WHEN sort = 'duration' THEN k ELSE 3 END, 10,
            CASE WHEN sort = 'active' THEN k ELSE 1000 END)
    RETURNING id
$$;
-- Each walk gets projects of its own (nproj of them, dropped afterwards),
-- holding copies of p1's sessions 1..26.
CREATE FUNCTION dash_walk(sort text, dir text, page integer, nproj integer DEFAULT 1) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    projects bigint[] := '{}';
    originals bigint[];
    expected bigint[] := '{}';
    new_id bigint;
    new_key numeric;
    seen bigint[] := '{}';
    keys numeric[] := '{}';
    cur text;
    n integer;
    pages integer := 0;
    r record;
    k numeric;
    lo numeric;
    hi numeric;
    out_of_order integer := 0;
    sgn integer := CASE dir WHEN 'asc' THEN 1 ELSE -1 END;
BEGIN
    FOR i IN 1..nproj LOOP
        projects := projects || (SELECT project_id FROM dozor_create_project('walk'));
    END LOOP;
    INSERT INTO dozor.sessions (project_id, external_id, started_at, ended_at, created_at, duration,
                                event_count, active_ms)
    SELECT projects[1 + s.id % nproj], gen_random_uuid(), s.started_at, s.ended_at, s.created_at,
           s.duration, s.event_count, s.active_ms
    FROM dozor.sessions s
    WHERE s.project_id = current_setting('dash.p1')::bigint
      AND s.external_id IN (SELECT dash_uuid(g) FROM generate_series(1, 26) g);
    SELECT array_agg(l.id) INTO originals
    FROM dozor_sessions(projects, sort => sort, sort_dir => dir, page_limit => 1000) l;
    LOOP
        n := 0;
        FOR r IN SELECT l.id, l.next_cursor, dash_key(s, sort) AS k
                 FROM dozor_sessions(projects, sort => sort, sort_dir => dir, page_limit => page, cursor => cur) l
                 JOIN dozor.sessions s ON s.id = l.id LOOP
            n := n + 1;
            IF cardinality(seen) > 0
               AND (sgn * (r.k - keys[cardinality(keys)]) < 0
                    OR (r.k = keys[cardinality(keys)] AND sgn * (r.id - seen[cardinality(seen)]) <= 0)) THEN
                out_of_order := out_of_order + 1;
            END IF;
            seen := seen || r.id;
            keys := keys || r.k;
            cur := r.next_cursor;
            k := r.k;
        END LOOP;
        pages := pages + 1;
        EXIT WHEN n < page;
        CONTINUE WHEN pages > 8;    -- (so that a walk by one row ends)
        -- the keys of the list now; below its minimum / above its maximum
        -- (never under the default floors: durations stay >= 1)
        SELECT min(dash_key(s, sort)), max(dash_key(s, sort)) INTO lo, hi
        FROM dozor_sessions(projects, sort => sort, sort_dir => dir, page_limit => 1000) l
        JOIN dozor.sessions s ON s.id = l.id;
        lo := greatest(lo - 1, CASE sort WHEN 'duration' THEN 1 WHEN 'active' THEN 0 ELSE lo - 1 END);
        FOREACH new_key IN ARRAY ARRAY[k, lo, hi + 1] LOOP
            new_id := dash_insert(projects[1 + pages % nproj], sort, new_key);
            -- it will be seen when it sorts after the last row seen
            IF sgn * (new_key - k) > 0 OR (new_key = k AND sgn * (new_id - seen[cardinality(seen)]) > 0) THEN
                expected := expected || new_id;
            END IF;
        END LOOP;
    END LOOP;
    RETURN format('pages=%s originals=%s seen=%s repeated=%s missing=%s out_of_order=%s newcomers=%s/%s unexpected=%s',
        pages, cardinality(originals), cardinality(seen),
        cardinality(seen) - (SELECT count(DISTINCT x) FROM unnest(seen) x),
        (SELECT count(*) FROM unnest(originals || expected) o WHERE o <> ALL (seen)),
        out_of_order,
        (SELECT count(*) FROM unnest(seen) x WHERE x <> ALL (originals)), cardinality(expected),
        (SELECT count(*) FROM unnest(seen) x WHERE x <> ALL (originals || expected)));
    DELETE FROM dozor.projects p WHERE p.id = ANY (projects);
END
$$;
SELECT set_config('dash.p1', :'p1', false) IS NOT NULL AS set;
SELECT sort, dir, dash_walk(sort, dir, 5)
FROM (VALUES ('date'), ('duration'), ('active')) s(sort), (VALUES ('desc'), ('asc')) d(dir)
ORDER BY 1, 2 DESC;
-- One row per page, across three projects; a single page.
SELECT sort, dir, dash_walk(sort, dir, 1, 3)
FROM (VALUES ('date'), ('duration'), ('active')) s(sort), (VALUES ('desc'), ('asc')) d(dir)
ORDER BY 1, 2 DESC;
SELECT dash_walk('date', 'desc', 1000) AS one_page;
SELECT count(*) AS walks_gone FROM dozor.projects WHERE name = 'walk';

-- The detail object of a session ingested for real: activity summary,
-- markers; NULL for no session.
CREATE FUNCTION dash_click(ts bigint) RETURNS text LANGUAGE sql AS
$$ SELECT format('{"type":3,"data":{"source":2,"type":2,"id":5,"x":1,"y":2},"timestamp":%s}', ts) $$;
SELECT ingest_events(dash_uuid(901)::text,
  evs(o(1000000), dash_click(1001000), u(1002000, '/checkout'), c(1003000, 'error'), o(1004000), o(1009000)),
  'https://shop.example/cart') AS d1 \gset
SELECT jsonb_pretty(dozor_session(:d1) - 'id' - 'projectId' - 'createdAt' #- '{activity,sizeBytes}');
SELECT (dozor_session(:d1)->'activity'->>'sizeBytes')::bigint = (SELECT sum(length(data)) FROM dozor.event_batches WHERE session_id = :d1) AS size_is_stored_bytes;
SELECT dozor_session(-1) IS NULL AS no_session;
SELECT project_id AS p3 FROM dozor.sessions WHERE id = :d1 \gset
SELECT dash_label(external_id) AS s, url, duration, event_count, active_ms, click_count,
       console_error_count, page_count
FROM dozor_sessions(ARRAY[:p3]::bigint[], since => NULL, visited => '/checkout', has_console_errors => true);

-- Tracked users of p2: last seen is the latest ended_at of their
-- sessions; users without sessions come last.
INSERT INTO dozor.tracked_users (project_id, external_id, traits) VALUES
  (:p2, 'alice', '{"plan":"pro","experiment":"checkout-v2","seats":3}'),
  (:p2, 'bob', '{"plan":"free","experiment":"checkout-v1"}'),
  (:p2, 'Carol', '{"plan":"pro","seats":"3"}'),
  (:p2, 'dave', NULL),
  (:p1, 'erin', '{"plan":"pro"}');
INSERT INTO dozor.sessions (project_id, external_id, tracked_user_id, started_at, ended_at, created_at, duration, event_count)
SELECT :p2, dash_uuid(n), (SELECT id FROM dozor.tracked_users WHERE project_id = :p2 AND external_id = who),
       :'base'::timestamptz - h * interval '1 hour', :'base'::timestamptz - h * interval '1 hour' + interval '10 minutes',
       :'base'::timestamptz - h * interval '1 hour', 600, 50
FROM (VALUES (101, 'alice', 5), (102, 'alice', 1), (103, 'alice', 9), (104, 'bob', 3), (105, 'Carol', 2), (106, 'bob', 7)) v(n, who, h)
ORDER BY n;
SELECT external_id, traits, extract(epoch FROM :'base'::timestamptz - last_seen) / 60 AS last_seen_min_ago, session_count
FROM dozor_tracked_users(ARRAY[:p2]::bigint[]);
SELECT string_agg(external_id, ' ') AS pro FROM dozor_tracked_users(ARRAY[:p2]::bigint[], 'plan', 'pro');
SELECT string_agg(external_id, ' ') AS seats_3 FROM dozor_tracked_users(ARRAY[:p2]::bigint[], 'seats', '3');
SELECT string_agg(external_id, ' ') AS in_experiment FROM dozor_tracked_users(ARRAY[:p2]::bigint[], trait_key => 'experiment');
SELECT string_agg(external_id, ' ') AS variant_v1 FROM dozor_tracked_users(ARRAY[:p2]::bigint[], 'experiment', 'checkout-v1');
SELECT count(*) AS no_match FROM dozor_tracked_users(ARRAY[:p2]::bigint[], 'plan', 'enterprise');
SELECT string_agg(external_id, ' ') AS search_ar FROM dozor_tracked_users(ARRAY[:p2]::bigint[], search => 'AR');
SELECT string_agg(external_id, ' ' ORDER BY external_id) AS pro_everywhere
FROM dozor_tracked_users(ARRAY[:p1, :p2]::bigint[], 'plan', 'pro');
SELECT expect_error('SELECT * FROM dozor_tracked_users(trait_value => ''pro'')');
SELECT expect_error('SELECT * FROM dozor_tracked_users(page_limit => 0)');
SELECT expect_error('SELECT * FROM dozor_tracked_users(cursor => ''x'')');
-- Users page by page, a new user (never seen, so sorted with dave at the
-- end, newest first) arriving after every page: each user is seen once;
-- a newcomer is seen when it arrives before the walk reaches its place.
CREATE FUNCTION dash_user_walk() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    cur text;
    r record;
    names text[] := '{}';
    n integer;
BEGIN
    LOOP
        n := 0;
        FOR r IN SELECT * FROM dozor_tracked_users(ARRAY[current_setting('dash.p2')::bigint], page_limit => 1, cursor => cur) LOOP
            names := names || r.external_id;
            cur := r.next_cursor;
            n := n + 1;
        END LOOP;
        EXIT WHEN n = 0;
        INSERT INTO dozor.tracked_users (project_id, external_id) VALUES
            (current_setting('dash.p2')::bigint, 'new-' || cardinality(names));
    END LOOP;
    RETURN array_to_string(names, ' ');
END
$$;
SELECT set_config('dash.p2', :'p2', false) IS NOT NULL AS set;
SELECT dash_user_walk() AS walk;
DELETE FROM dozor.tracked_users WHERE external_id LIKE 'new-%';

-- One user's sessions, newest first, two at a time; the cursor is the
-- sessions list's date cursor.
SELECT id AS alice FROM dozor.tracked_users WHERE project_id = :p2 AND external_id = 'alice' \gset
SELECT dash_label(external_id) AS s, user_external_id, user_traits->>'plan' AS plan
FROM dozor_tracked_user_sessions(:alice, 2);
SELECT next_cursor AS c FROM dozor_tracked_user_sessions(:alice, 2) ORDER BY created_at LIMIT 1 \gset
SELECT dash_label(external_id) AS s FROM dozor_tracked_user_sessions(:alice, 2, :'c');
SELECT string_agg(dash_label(external_id), ' ') AS all_of_alice FROM dozor_tracked_user_sessions(:alice);
SELECT count(*) AS nobody FROM dozor_tracked_user_sessions(-1);
SELECT expect_error(format('SELECT * FROM dozor_tracked_user_sessions(%s, 2001)', :alice));
SELECT expect_error(format('SELECT * FROM dozor_tracked_user_sessions(%s, 2, %L)', :alice,
    (SELECT next_cursor FROM dozor_sessions(sort => 'active', page_limit => 1))));
-- ... and the sessions list shows the user.
SELECT dash_label(external_id) AS s, user_external_id, user_traits
FROM dozor_sessions(ARRAY[:p2]::bigint[], search => dash_uuid(103)::text);

-- Retention: p3 gets sessions with batches and markers, some of them made
-- old, plus 2500 old bare sessions (more than one chunk of 1000).
SELECT count(ingest_events(dash_uuid(900 + n)::text, evs(o(2000000 + n), u(2000100 + n, '/old'), c(2000200 + n, 'error')),
                           'https://shop.example/old')) AS ingested
FROM generate_series(2, 7) n;
UPDATE dozor.sessions SET created_at = :'base'::timestamptz - interval '120 days'
WHERE external_id IN (dash_uuid(902), dash_uuid(903), dash_uuid(904));
INSERT INTO dozor.sessions (project_id, external_id, started_at, ended_at, created_at)
SELECT :p3, gen_random_uuid(), now(), now(), :'base'::timestamptz - interval '100 days' - n * interval '1 second'
FROM generate_series(1, 2500) n;
CREATE TEMP TABLE dash_old AS
SELECT id FROM dozor.sessions WHERE external_id IN (dash_uuid(902), dash_uuid(903), dash_uuid(904), dash_uuid(27));
SELECT (SELECT count(*) FROM dozor.event_batches WHERE session_id IN (SELECT id FROM dash_old)) AS old_batches,
       (SELECT count(*) FROM dozor.markers WHERE session_id IN (SELECT id FROM dash_old)) AS old_markers;
SELECT expect_error('SELECT dozor_cleanup(''-1 day'')');
SELECT expect_error('SELECT dozor_cleanup(NULL)');
-- 3 ingested + 2500 bare in p3, and 27 (95 days old) in p1.
SELECT dozor_cleanup() AS deleted;
SELECT (SELECT count(*) FROM dozor.sessions WHERE id IN (SELECT id FROM dash_old)) AS old_sessions,
       (SELECT count(*) FROM dozor.event_batches WHERE session_id IN (SELECT id FROM dash_old)) AS old_batches,
       (SELECT count(*) FROM dozor.markers WHERE session_id IN (SELECT id FROM dash_old)) AS old_markers,
       (SELECT count(*) FROM dozor.sessions WHERE project_id = :p3) AS p3_left,
       (SELECT count(*) FROM dozor.event_batches b JOIN dozor.sessions s ON s.id = b.session_id WHERE s.project_id = :p3) AS p3_batches,
       (SELECT count(*) FROM dozor.markers m JOIN dozor.sessions s ON s.id = m.session_id WHERE s.project_id = :p3) AS p3_markers;
SELECT dozor_cleanup() AS deleted_again;
SELECT dozor_cleanup('90 days'::interval) AS and_again;
-- Tracked users stay; the summary follows.
SELECT * FROM dozor_sessions_summary(ARRAY[:p1]::bigint[]);
SELECT count(*) AS users_left FROM dozor.tracked_users WHERE project_id IN (:p1, :p2);
