#!/usr/bin/env bash
# Activity summary on a session recorded in a real browser: the
# figures ingest folded into the session row must equal the documented
# rules applied to the merged stream of the real recording.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=dozor_sample_activity
PGOPTIONS="-c client_min_messages=warning" psql -qX -v ON_ERROR_STOP=1 -d postgres \
  -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
psql -qX -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION dozor"
key=$(psql -qAtX -d $db -c "SELECT api_key FROM dozor_create_project('sample')")
for body in test/data/sample-session/batch-*.json.gz; do
  psql -qAtX -v ON_ERROR_STOP=1 -d $db -v key="$key" -v body="$(base64 -w0 "$body")" >/dev/null <<'SQL'
SELECT dozor_ingest(:'key', decode(:'body', 'base64'), 'gzip');
SQL
done
psql -qX -v ON_ERROR_STOP=1 -d $db -P pager=off <<'SQL'
CREATE TEMP TABLE ev AS
SELECT (e->>'type')::int AS type, (e->>'timestamp')::bigint AS ts,
       (e->'data'->>'source')::int AS source, e->'data'->>'type' AS itype,
       e->'data'->>'plugin' AS plugin, e->'data'->'payload'->>'level' AS level
FROM dozor.sessions s, json_array_elements(dozor_events(s.id)) e;
CREATE TEMP TABLE want AS
SELECT (SELECT COALESCE(sum(gap) FILTER (WHERE gap < 5000), 0)
        FROM (SELECT ts - lag(ts) OVER (ORDER BY ts) AS gap FROM ev
              WHERE type = 3 AND source IN (1, 2, 3, 4, 5, 6, 7, 12)) g) AS active_ms,
       (SELECT count(*) FROM ev WHERE type = 3 AND source = 2 AND itype IN ('2', '4')) AS clicks,
       (SELECT count(*) FROM ev WHERE type = 3 AND source = 5) AS keypresses,
       (SELECT count(*) FROM ev WHERE type = 3 AND source IN (1, 2, 6, 12)) AS mouse,
       (SELECT count(*) FROM ev WHERE type = 6 AND plugin = 'rrweb/console@1' AND level NOT IN ('warn', 'error', 'assert')) AS logs,
       (SELECT count(*) FROM ev WHERE type = 6 AND plugin = 'rrweb/console@1' AND level = 'warn') AS warns,
       (SELECT count(*) FROM ev WHERE type = 6 AND plugin = 'rrweb/console@1' AND level IN ('error', 'assert')) AS errors,
       (SELECT count(*) FROM dozor.markers WHERE kind = 'url') AS pages;
SELECT s.active_ms, s.click_count, s.keypress_count, s.mouse_activity_count,
       s.console_log_count, s.console_warn_count, s.console_error_count, s.page_count, s.pathnames
FROM dozor.sessions s;
SELECT * FROM want;
DO $$
DECLARE
    ok boolean;
BEGIN
    SELECT s.active_ms = w.active_ms AND s.click_count = w.clicks AND s.keypress_count = w.keypresses
       AND s.mouse_activity_count = w.mouse AND s.console_log_count = w.logs
       AND s.console_warn_count = w.warns AND s.console_error_count = w.errors
       AND s.page_count = w.pages AND s.click_count > 0 AND s.keypress_count > 0 AND s.active_ms > 0
      INTO ok FROM dozor.sessions s, want w;
    IF NOT ok THEN
        RAISE EXCEPTION 'activity summary of the real recording differs from the rules over its stream';
    END IF;
END
$$;
SQL
echo "sample activity: the summary equals the rules over the real recording's stream"
