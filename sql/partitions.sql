-- Partitioned storage: the layout, dozor_maintain, retention by whole days
-- (and its fallbacks), dozor_storage. Dates are relative to today, so the
-- output does not depend on the day it runs.

-- The layout: both tables partitioned by session id, every unique key
-- includes it, no default partition.
SELECT c.relname, pg_get_partkeydef(c.oid) AS key
FROM pg_class c WHERE c.relnamespace = 'dozor'::regnamespace AND c.relkind = 'p' ORDER BY 1;
SELECT conrelid::regclass AS rel, contype, pg_get_constraintdef(oid) AS def
FROM pg_constraint WHERE conrelid IN ('dozor.event_batches'::regclass, 'dozor.markers'::regclass)
ORDER BY 1, 2, 3;
SELECT count(*) AS default_partitions FROM pg_partitioned_table
WHERE partrelid IN ('dozor.event_batches'::regclass, 'dozor.markers'::regclass) AND partdefid <> 0;

-- A new session's id carries today's day above 2^37.
SELECT dozor_next_session_id() / 137438953472 = dozor_day(now()) AS id_day_is_today;
SELECT dozor_day('1970-01-02 00:00:00+00'), dozor_day('1970-01-01 23:59:59.999+00'),
       dozor_partition_name('markers', 20428);

-- dozor_maintain makes today's and the next days' partitions, then nothing.
CREATE FUNCTION day_parts(first integer, last integer) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM generate_series(first, last) d, unnest(ARRAY['event_batches', 'markers']) t
    WHERE to_regclass('dozor.' || dozor_partition_name(t, d)) IS NOT NULL
$$;
SELECT dozor_maintain(3) >= 6 AS made, day_parts(dozor_day(now()), dozor_day(now()) + 3) AS parts;
SELECT dozor_maintain(3) AS made_again, dozor_maintain(0) AS today_again;
SELECT dozor_maintain() <= 8 AS default_week, day_parts(dozor_day(now()), dozor_day(now()) + 7) AS parts;
SELECT expect_error('SELECT dozor_maintain(-1)');
SELECT expect_error('SELECT dozor_maintain(367)');
SELECT expect_error('SELECT dozor_maintain(NULL)');
SELECT expect_error('SELECT dozor_add_day(0)');
SELECT expect_error('SELECT dozor_add_day(65536)');
-- A partition is a plain table of the parent's shape, storage included.
SELECT a.attname, a.attstorage FROM pg_attribute a
WHERE a.attrelid = ('dozor.' || dozor_partition_name('event_batches', dozor_day(now()) + 1))::regclass
  AND a.attname = 'data';
-- A batch partition toasts rows only past 8160 bytes (the markers' keep
-- the default), so a 500-event batch keeps its event index in the row,
-- uncompressed, while its blob goes out of line.
SELECT c.relname ~ '^event_batches_p' AS batches, c.reloptions FROM pg_class c
WHERE c.oid IN (('dozor.' || dozor_partition_name('event_batches', dozor_day(now()) + 1))::regclass,
                ('dozor.' || dozor_partition_name('markers', dozor_day(now()) + 1))::regclass)
ORDER BY 1;
SELECT ingest_events('5a0e0000-0000-4000-8000-0000000000b5',
    (SELECT '[' || string_agg(format('{"type":3,"timestamp":%s,"data":{"source":5,"text":"%s","id":%s}}',
                                      1700000000000 + g * 1000 + g % 500, repeat(md5(g::text), 3 + g % 4), g), ',') || ']'
     FROM generate_series(1, 500) g)::json,
    'https://shop.example/b') AS index_session \gset
SELECT length(b.event_index) > 2032 AS index_over_2k, length(b.data) > 8160 AS blob_over_8k,
       pg_column_compression(b.event_index) AS index_compression
FROM dozor.event_batches b WHERE b.session_id = :index_session;

-- Stored sessions of other days: one session is ingested, then cloned into
-- sessions of the days below, created at the given time (batches and
-- markers copied with every column, whatever the columns are; batch ids
-- are kept, as markers point at them and keys are per session).
SELECT ingest_events('5a0e0000-0000-4000-8000-000000000001',
    evs(u(1700000000000, '/a'), c(1700000000500, 'error'), o(1700000001000), i(1700000001500, 'part-user')),
    'https://shop.example/a') AS template \gset
SELECT project_id AS proj FROM dozor.sessions WHERE id = :template \gset
CREATE FUNCTION clone_session(src bigint, created timestamptz, new_id bigint DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    cols text;
BEGIN
    IF new_id IS NULL THEN
        new_id := dozor_day(created)::bigint * 137438953472 + nextval('dozor.sessions_id_seq');
        PERFORM dozor_add_day(dozor_day(created));
    END IF;
    SELECT string_agg(quote_ident(attname), ', ') INTO cols FROM pg_attribute
    WHERE attrelid = 'dozor.sessions'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname NOT IN ('id', 'external_id', 'created_at');
    EXECUTE format('INSERT INTO dozor.sessions (id, external_id, created_at, %1$s)
                    SELECT $1, gen_random_uuid(), $2, %1$s FROM dozor.sessions WHERE id = $3', cols)
        USING new_id, created, src;
    FOREACH cols IN ARRAY ARRAY['event_batches', 'markers'] LOOP
        EXECUTE format('INSERT INTO dozor.%1$I (session_id, %2$s) SELECT $1, %2$s FROM dozor.%1$I WHERE session_id = $2',
            cols, (SELECT string_agg(quote_ident(attname), ', ') FROM pg_attribute
                   WHERE attrelid = ('dozor.' || cols)::regclass AND attnum > 0 AND NOT attisdropped
                     AND attname <> 'session_id' AND (attname <> 'id' OR cols = 'event_batches')))
            USING new_id, src;
    END LOOP;
    RETURN new_id;
END
$$;
-- 2 sessions 100 days ago, 1 99 days ago, 1 91 days ago, 1 50 days ago;
-- in the day that will hold the cutoff (90 days ago), one just after the
-- cutoff (not due) and one at its start (due).
CREATE TABLE part_old AS
SELECT g AS n, clone_session(:template, t) AS id, t
FROM (VALUES (1, date_trunc('day', now() - interval '100 days') + interval '1 hour'),
             (2, date_trunc('day', now() - interval '100 days') + interval '2 hours'),
             (3, date_trunc('day', now() - interval '99 days') + interval '5 hours'),
             (4, date_trunc('day', now() - interval '50 days')),
             (5, date_trunc('day', now() - interval '91 days') + interval '1 minute'),
             (6, now() - interval '90 days' + interval '10 minutes'),
             (7, date_trunc('day', now() - interval '90 days'))) AS v(g, t);
SELECT n, id / 137438953472 - dozor_day(now()) AS day, dozor_day(t) - dozor_day(now()) AS created_day,
       (SELECT count(*) FROM dozor.event_batches b WHERE b.session_id = p.id) AS batches,
       (SELECT count(*) FROM dozor.markers m WHERE m.session_id = p.id) AS markers
FROM part_old p ORDER BY n;

-- Exactly-once across days: a session created yesterday takes today's
-- batches (and their retries, stored once) in yesterday's partition.
SELECT dozor_add_day(dozor_day(now()) - 1) AS made_yesterday;
INSERT INTO dozor.sessions (id, project_id, external_id, started_at, ended_at, created_at)
VALUES ((dozor_day(now()) - 1)::bigint * 137438953472 + nextval('dozor.sessions_id_seq'), :proj,
        '5a0e0000-0000-4000-8000-0000000000aa', now() - interval '1 day', now() - interval '1 day',
        now() - interval '1 day')
RETURNING id AS yesterday \gset
SELECT count(DISTINCT ingest_events('5a0e0000-0000-4000-8000-0000000000aa', evs(o(1700000000000), o(1700000000100))))
       AS sessions, count(*) AS calls
FROM generate_series(1, 3);
SELECT count(*) AS batches, min(tableoid::regclass::text) = 'dozor.' || dozor_partition_name('event_batches', dozor_day(now()) - 1) AS in_yesterdays
FROM dozor.event_batches WHERE session_id = :yesterday;
DELETE FROM dozor.sessions WHERE id = :yesterday;

-- The storage report: per day and project, and the day's total.
SELECT s.day - current_date AS day, s.project_id = :proj AS this_project, s.sessions, s.batches, s.events,
       s.stored_bytes = (SELECT size_bytes FROM dozor.sessions WHERE id = :template) * s.sessions AS bytes_ok,
       s.disk_bytes > 0 AS on_disk, s.oldest_day - current_date AS oldest, s.newest_day - current_date AS newest
FROM dozor_storage() s
WHERE s.day < current_date AND (s.project_id = :proj OR s.project_id IS NULL)
ORDER BY s.day, s.project_id NULLS LAST;

-- A project admin's cleanup is row by row in its own projects and drops
-- no partition (dropping a day is global).
CREATE ROLE regress_part_admin;
GRANT dozor_admin TO regress_part_admin;
SELECT dozor_grant(:proj, 'regress_part_admin', 'admin');
SET ROLE regress_part_admin;
SELECT dozor_cleanup('99 days 12 hours') AS admin_deleted;
RESET ROLE;
SELECT n, EXISTS (SELECT FROM dozor.sessions s WHERE s.id = p.id) AS session,
       to_regclass('dozor.' || dozor_partition_name('event_batches', dozor_day(p.t))) IS NOT NULL AS partition
FROM part_old p ORDER BY n;

-- The owner's cleanup: whole days older than the cutoff are dropped with
-- their sessions, the day holding the cutoff goes row by row (only its due
-- session), newer days stay. No batch or marker is left without its
-- session, and a second run deletes nothing.
SELECT dozor_cleanup('90 days') AS deleted;
SELECT n, EXISTS (SELECT FROM dozor.sessions s WHERE s.id = p.id) AS session,
       (SELECT count(*) FROM dozor.event_batches b WHERE b.session_id = p.id) AS batches,
       to_regclass('dozor.' || dozor_partition_name('event_batches', dozor_day(p.t))) IS NOT NULL AS batches_part,
       to_regclass('dozor.' || dozor_partition_name('markers', dozor_day(p.t))) IS NOT NULL AS markers_part
FROM part_old p ORDER BY n;
SELECT (SELECT count(*) FROM dozor.event_batches b WHERE NOT EXISTS (SELECT FROM dozor.sessions s WHERE s.id = b.session_id)) AS orphan_batches,
       (SELECT count(*) FROM dozor.markers m WHERE NOT EXISTS (SELECT FROM dozor.sessions s WHERE s.id = m.session_id)) AS orphan_markers;
SELECT dozor_cleanup('90 days') AS deleted_again;
SELECT EXISTS (SELECT FROM dozor.sessions WHERE id = :template) AS today_kept;

-- A day far back whose partitions were made but never used goes too.
SELECT clone_session(:template, now() - interval '200 days') AS s200 \gset
SELECT dozor_add_day(dozor_day(now() - interval '300 days')) AS made_300;
SELECT dozor_cleanup('150 days') AS deleted_200;
SELECT to_regclass('dozor.' || dozor_partition_name('markers', dozor_day(now() - interval '300 days'))) IS NULL AS day_300_dropped;
SELECT EXISTS (SELECT FROM dozor.sessions WHERE id = :s200) AS s200_left,
       to_regclass('dozor.' || dozor_partition_name('event_batches', dozor_day(now() - interval '200 days'))) IS NOT NULL AS s200_part;

-- 0.1.0's rows (ids below 2^37) live in the legacy partitions the upgrade
-- attaches: cleanup deletes them session by session, then drops the empty
-- partitions.
CREATE TABLE dozor.event_batches_legacy (LIKE dozor.event_batches INCLUDING DEFAULTS INCLUDING STORAGE);
ALTER TABLE dozor.event_batches ATTACH PARTITION dozor.event_batches_legacy FOR VALUES FROM (0) TO (137438953472);
CREATE TABLE dozor.markers_legacy (LIKE dozor.markers INCLUDING DEFAULTS INCLUDING STORAGE);
ALTER TABLE dozor.markers ATTACH PARTITION dozor.markers_legacy FOR VALUES FROM (0) TO (137438953472);
SELECT clone_session(:template, now() - interval '120 days', 7) AS legacy_old,
       clone_session(:template, now() - interval '10 days', 8) AS legacy_young;
SELECT s.project_id = :proj AS this_project, s.sessions, s.batches, s.events, s.disk_bytes > 0 AS on_disk
FROM dozor_storage() s WHERE s.day IS NULL ORDER BY s.project_id NULLS LAST;
SELECT dozor_cleanup('90 days') AS legacy_deleted;
SELECT (SELECT count(*) FROM dozor.event_batches_legacy) AS legacy_batches_left,
       to_regclass('dozor.event_batches_legacy') IS NOT NULL AS legacy_part;
DELETE FROM dozor.sessions WHERE id = 8;
SELECT dozor_cleanup('90 days') AS deleted_none;
SELECT to_regclass('dozor.event_batches_legacy') IS NULL AS legacy_batches_dropped,
       to_regclass('dozor.markers_legacy') IS NULL AS legacy_markers_dropped;

REVOKE dozor_admin FROM regress_part_admin;
SELECT dozor_revoke(:proj, 'regress_part_admin');
DROP ROLE regress_part_admin;
