#!/usr/bin/env bash
# Latency of the dashboard's list queries over 100 000 sessions.
#
#   bench/sessions-list.sh            # a throwaway cluster of its own
#   PGHOST=... bench/sessions-list.sh # or the server the PG* variables name
#
#   SESSIONS=100000  sessions in the database (99% in one project)
#   RUNS=200         calls per query
#
# Builds a database of its own (dozor_bench_list, dropped at the end) with
# the extension as installed (`make install` first), fills it with
# INSERT ... SELECT generate_series, ANALYZE + VACUUM, then calls each
# function RUNS times and prints median / p95 / min / max in ms:
#   * server: execution inside the backend (clock_timestamp() around each
#     call in a plpgsql loop: no network, no result transfer);
#   * client: a full round trip over a local socket (pgbench, one client,
#     simple protocol, the first call left out), for the default list, when pgbench is
#     installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PGHOST:-}" ] && [ -z "${DOZOR_BENCH_INNER:-}" ]; then
  DOZOR_BENCH_INNER=1 exec scripts/with-temp-pg.sh "$0" "$@"
fi
sessions=${SESSIONS:-100000}
runs=${RUNS:-200}
db=dozor_bench_list
export PGOPTIONS="-c client_min_messages=warning"
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT

echo "bench: $sessions sessions, $runs runs per query ($(psql -qAtX -d $db -c 'SHOW server_version'))" >&2
psql -qX -v ON_ERROR_STOP=1 -v n="$sessions" -v r="$runs" -d $db <<'SQL'
CREATE EXTENSION dozor;
SELECT project_id AS big FROM dozor_create_project('big') \gset
SELECT project_id AS small FROM dozor_create_project('small') \gset
INSERT INTO dozor.tracked_users (project_id, external_id, traits)
SELECT :big, 'user-' || g, jsonb_build_object('plan', CASE WHEN g % 10 = 0 THEN 'pro' ELSE 'free' END,
                                              'experiment', 'checkout-v' || (g % 7))
FROM generate_series(1, :n / 10) g;
SELECT min(id) AS u0 FROM dozor.tracked_users \gset
-- 60 days of sessions, newest last; durations up to 15 min, active time,
-- 500 distinct pages, console errors in 1 of 17, a third identified
INSERT INTO dozor.sessions (project_id, external_id, url, started_at, ended_at, created_at, duration,
                            event_count, active_ms, click_count, console_error_count, pathnames,
                            page_count, tracked_user_id)
SELECT CASE WHEN g % 100 = 0 THEN :small ELSE :big END, gen_random_uuid(), 'https://shop.example/',
       t, t + (g % 900) * interval '1 second', t, g % 900, 2 + g % 400, (g * 37 % 600) * 1000, g % 13,
       (g % 17 = 0)::int * 3, ARRAY['/', '/p' || (g % 500)], 2,
       CASE WHEN g % 3 = 0 THEN :u0 + g % (:n / 10) END
FROM generate_series(1, :n) g,
     LATERAL (SELECT now() - ((:n - g) * 5184000.0 / :n) * interval '1 second' AS t) x;
VACUUM ANALYZE dozor.sessions;
VACUUM ANALYZE dozor.tracked_users;
VACUUM ANALYZE dozor.projects;

-- Times `sql` (a query) `runs` times; milliseconds.
CREATE FUNCTION pg_temp.bench(label text, sql text, runs integer)
RETURNS TABLE (query text, median numeric, p95 numeric, min numeric, max numeric)
LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz;
    ms double precision[] := '{}';
BEGIN
    EXECUTE sql;                                    -- warm up
    FOR i IN 1..runs LOOP
        t := clock_timestamp();
        EXECUTE sql;
        ms := ms || EXTRACT(epoch FROM clock_timestamp() - t) * 1000;
    END LOOP;
    RETURN QUERY SELECT label,
        round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3),
        round(percentile_cont(0.95) WITHIN GROUP (ORDER BY x)::numeric, 3),
        round(min(x)::numeric, 3), round(max(x)::numeric, 3)
    FROM unnest(ms) x;
END
$$;
SELECT dozor_cursor_encode('sessions', 'date', 'desc', dozor_cursor_ts_key(created_at), id::text) AS deep
FROM dozor.sessions WHERE event_count >= 2 AND duration >= 1
ORDER BY created_at DESC, id DESC OFFSET 9999 LIMIT 1 \gset
SELECT min(tracked_user_id) AS one_user FROM dozor.sessions \gset
\echo
\echo 'server-side execution, ms (50 rows a page unless said)'
SELECT * FROM pg_temp.bench('dozor_sessions() default: all projects, date desc',
                            'SELECT count(*) FROM dozor_sessions()', :r)
UNION ALL SELECT * FROM pg_temp.bench('  same, page 201 (cursor after 10 000 rows)',
                            format('SELECT count(*) FROM dozor_sessions(cursor => %L)', :'deep'), :r)
UNION ALL SELECT * FROM pg_temp.bench('  one project, date asc',
                            format('SELECT count(*) FROM dozor_sessions(ARRAY[%s]::bigint[], sort_dir => ''asc'')', :big), :r)
UNION ALL SELECT * FROM pg_temp.bench('  sort duration desc',
                            'SELECT count(*) FROM dozor_sessions(sort => ''duration'')', :r)
UNION ALL SELECT * FROM pg_temp.bench('  sort active asc',
                            'SELECT count(*) FROM dozor_sessions(sort => ''active'', sort_dir => ''asc'')', :r)
UNION ALL SELECT * FROM pg_temp.bench('  visited => /p7 (GIN)',
                            'SELECT count(*) FROM dozor_sessions(visited => ''/p7'')', :r)
UNION ALL SELECT * FROM pg_temp.bench('  console errors, active >= 30 s',
                            'SELECT count(*) FROM dozor_sessions(has_console_errors => true, min_active_ms => 30000)', :r)
UNION ALL SELECT * FROM pg_temp.bench('  search => ''abc'' (substring of the id)',
                            'SELECT count(*) FROM dozor_sessions(search => ''abc'')', :r)
UNION ALL SELECT * FROM pg_temp.bench('  page_limit => 1000',
                            'SELECT count(*) FROM dozor_sessions(page_limit => 1000)', :r)
UNION ALL SELECT * FROM pg_temp.bench('dozor_session(id) detail',
                            'SELECT dozor_session(5000)', :r)
UNION ALL SELECT * FROM pg_temp.bench('dozor_sessions_summary() (one pass over all)',
                            'SELECT * FROM dozor_sessions_summary()', greatest(:r / 10, 5))
UNION ALL SELECT * FROM pg_temp.bench(format('dozor_tracked_users() (%s users)', (SELECT count(*) FROM dozor.tracked_users)),
                            'SELECT count(*) FROM dozor_tracked_users()', greatest(:r / 10, 5))
UNION ALL SELECT * FROM pg_temp.bench('  trait experiment = checkout-v3',
                            'SELECT count(*) FROM dozor_tracked_users(trait_key => ''experiment'', trait_value => ''checkout-v3'')', greatest(:r / 10, 5))
UNION ALL SELECT * FROM pg_temp.bench('dozor_tracked_user_sessions(user)',
                            format('SELECT count(*) FROM dozor_tracked_user_sessions(%s)', :one_user), :r);
SQL

if command -v pgbench >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  echo 'SELECT * FROM dozor_sessions();' > "$tmp/list.sql"
  (cd "$tmp" && pgbench -n -c 1 -t "$((runs + 1))" -f list.sql -l --log-prefix=lat $db >/dev/null 2>&1) || true
  if ls "$tmp"/lat.* >/dev/null 2>&1; then
    # per-transaction log: "client txn latency_us script epoch us"; the
    # first call (a cold connection) is left out
    cat "$tmp"/lat.* | awk 'NF >= 6 && $2 > 1 && $3 > 0 {print $3 / 1000}' | sort -n | awk '
      { v[NR] = $1 }
      END { printf "\nclient round trip (pgbench, 1 client), ms\n";
            printf "  SELECT * FROM dozor_sessions(): median %.3f  p95 %.3f  min %.3f  max %.3f  (%d runs)\n",
                   v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], v[1], v[NR], NR }'
  fi
  rm -rf "$tmp"
fi
