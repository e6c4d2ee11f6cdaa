#!/usr/bin/env bash
# The main job: installs what is missing, builds and installs dozor, starts a
# throwaway PostgreSQL, creates a project, ingests a real recorded session
# (test/data/sample-session: the SDK's request bodies, byte for byte) through
# dozor_ingest exactly as the SDK sent them, and prints what dozor knows.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DOZOR_DEMO_INSIDE:-}" ]; then
  scripts/install-deps.sh
  make -s
  make -s install >/dev/null
  DOZOR_DEMO_INSIDE=1 exec scripts/with-temp-pg.sh bash scripts/demo.sh
fi

sample=test/data/sample-session
psql -qX -v ON_ERROR_STOP=1 -c "CREATE EXTENSION dozor"
key=$(psql -qAtX -v ON_ERROR_STOP=1 -c "SELECT api_key FROM dozor_create_project('demo')")
echo "project demo created; ingesting $(ls $sample/batch-*.json.gz | wc -l) batches from $sample"
for body in "$sample"/batch-*.json.gz; do
  encoding=gzip   # see test/data/sample-session/README.txt
  # The body goes over the wire base64-encoded only to survive psql; the
  # server receives the exact bytes the browser sent.
  psql -qAtX -v ON_ERROR_STOP=1 -v key="$key" -v enc="$encoding" -v body="$(base64 -w0 "$body")" \
    >/dev/null <<'SQL'
SELECT dozor_ingest(:'key', decode(:'body', 'base64'), NULLIF(:'enc', ''));
SQL
done

psql -X -v ON_ERROR_STOP=1 -P pager=off <<'SQL'
\echo == the session
SELECT id, external_id, url, user_agent, screen_width || 'x' || screen_height AS screen,
       started_at, ended_at, duration, event_count
FROM dozor.sessions;
SELECT count(*) AS batches, sum(event_count) AS events, pg_size_pretty(sum(raw_bytes)) AS json,
       pg_size_pretty(sum(length(data))) AS gzip_stored
FROM dozor.event_batches;
\echo == markers
SELECT timestamp, kind, data FROM dozor_markers((SELECT id FROM dozor.sessions));
\echo == history feed (idle-compressed timeline)
SELECT id, kind, started_at, ended_at, real_duration_ms, pathname, user_id, traits
FROM dozor_history((SELECT id FROM dozor.sessions));
\echo == console feed
SELECT time_offset, level, array_to_string(payload, ' ') AS message
FROM dozor_console((SELECT id FROM dozor.sessions));
SQL
