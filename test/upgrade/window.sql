-- A session ingested between installing the new files and ALTER EXTENSION
-- (new library, old catalog), and the same session ingested into a fresh
-- install: run.sh compares what each store holds of it. \if :show prints
-- it; otherwise it is ingested (upg_keys must name a 'shop' project).
\set ON_ERROR_STOP on
\if :show
\pset format unaligned
\pset fieldsep '|'
\pset null '<null>'
\pset footer off
SET TimeZone = 'UTC';
SET extra_float_digits = 1;
\i test/upgrade/gen.sql
CREATE TEMP VIEW w AS SELECT id FROM dozor.sessions WHERE external_id = pg_temp.sid(50)::uuid;
-- everything but ids and server times
\echo == session
SELECT s.external_id, s.url, s.referrer, s.user_agent, s.screen_width, s.screen_height, s.language,
       s.started_at, s.ended_at, s.duration, s.event_count, s.active_ms, s.active_ranges, s.click_count,
       s.keypress_count, s.mouse_activity_count, s.console_log_count, s.console_warn_count,
       s.console_error_count, s.page_count, s.pathnames, s.first_url, s.size_bytes, u.external_id, u.traits
FROM dozor.sessions s JOIN w ON w.id = s.id LEFT JOIN dozor.tracked_users u ON u.id = s.tracked_user_id;
\echo == batches
SELECT b.first_timestamp, b.last_timestamp, b.event_count, md5(b.data), b.raw_bytes, md5(b.event_index),
       b.console_count, md5(b.content_hash), b.click_count, b.keypress_count, b.mouse_activity_count,
       b.console_log_count, b.console_warn_count, b.console_error_count, b.active_ranges
FROM dozor.event_batches b JOIN w ON w.id = b.session_id ORDER BY b.first_timestamp, b.id;
\echo == markers
SELECT m.event_index, m.timestamp, m.kind, m.data FROM dozor.markers m JOIN w ON w.id = m.session_id
ORDER BY m.timestamp, m.id;
\echo == feeds
SELECT md5(string_agg(h::text, ' ')) FROM w, dozor_history(w.id) h;
SELECT md5(string_agg(c::text, ' ')) FROM w, dozor_console(w.id) c;
SELECT md5(dozor_events(w.id)::text), md5(dozor_events(w.id, true)::text) FROM w;
\else
\i test/upgrade/gen.sql
\set t0 1741942800000
SELECT pg_temp.send('shop', 50, concat_ws(',', pg_temp.meta(:t0 + 30000000, 'https://shop.example/w'),
           pg_temp.full(:t0 + 30000005, 's50'), pg_temp.activity(:t0 + 30000100, 40, 700),
           pg_temp.every_level(:t0 + 30030000)),
       pg_temp.metadata('https://shop.example/w', 'u-50', '{"plan":"window"}'));
SELECT pg_temp.send('shop', 50, concat_ws(',', pg_temp.url(:t0 + 30100000, '/w/2'),
           pg_temp.activity(:t0 + 30100100, 30, 2000), pg_temp.ident(:t0 + 30160000, 'u-50')));
-- late: before the first batch in time
SELECT pg_temp.send('shop', 50, pg_temp.activity(:t0 + 29990000, 10, 300));
\endif
