#!/usr/bin/env bash
# The sessions list stays an index walk at scale: over 100 000 sessions the
# query dozor_sessions() runs (a dynamic statement inside the function)
# must read dozor.sessions through an index (a keyset walk for the sorts,
# the GIN index for `visited`), never a sequential scan. The plans are
# those of the real calls, taken with auto_explain (nested statements,
# JSON format, sent to the client as NOTICEs). Checks plan shape, not time
# (bench/sessions-list.sh measures the time).
# Runs against the server the PG* variables name, in a database of its own.
set -euo pipefail
db=dozor_list_plan
. "$(dirname "$0")/../lib/plans.sh"
export PGOPTIONS="-c client_min_messages=warning"
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT

# 100 000 sessions in one project over 60 days (plus a small second
# project), with the spread of a real list: durations, active time, page
# lists, console errors, one session in three identified.
psql -qX -v ON_ERROR_STOP=1 -d $db <<'SQL'
CREATE EXTENSION dozor;
SELECT project_id AS big FROM dozor_create_project('big') \gset
SELECT project_id AS small FROM dozor_create_project('small') \gset
INSERT INTO dozor.tracked_users (project_id, external_id, traits)
SELECT :big, 'user-' || g, jsonb_build_object('plan', CASE WHEN g % 10 = 0 THEN 'pro' ELSE 'free' END)
FROM generate_series(1, 10000) g;
SELECT min(id) AS u0 FROM dozor.tracked_users \gset
INSERT INTO dozor.sessions (project_id, external_id, url, started_at, ended_at, created_at, duration,
                            event_count, active_ms, click_count, console_error_count, pathnames,
                            page_count, tracked_user_id)
SELECT CASE WHEN g % 100 = 0 THEN :small ELSE :big END, gen_random_uuid(), 'https://shop.example/',
       t, t + (g % 900) * interval '1 second', t, g % 900, 2 + g % 400, (g * 37 % 600) * 1000, g % 13,
       (g % 17 = 0)::int * 3, ARRAY['/', '/p' || (g % 500)], 2,
       CASE WHEN g % 3 = 0 THEN :u0 + g % 10000 END
FROM generate_series(1, 100000) g,
     LATERAL (SELECT now() - (g * 51.84) * interval '1 second' AS t) x;
ANALYZE dozor.sessions;
ANALYZE dozor.tracked_users;
ANALYZE dozor.projects;
SQL

# The nodes that read dozor.sessions in the plan of the list's own query:
# one "Node Type|Index Name|Index Cond" line per node.
plan_nodes() {
  plan_notices $db "$1" | awk '
    /NOTICE:  duration: .* plan:/ { inside = 0; next }
    /"Query Text": .*FROM dozor\.sessions s/ { inside = 1 }
    !inside { next }
    /"Node Type":/ { node = $0; sub(/.*"Node Type": "/, "", node); sub(/".*/, "", node); rel = ""; idx = ""; cond = "" }
    /"Relation Name":/ { rel = $0; sub(/.*"Relation Name": "/, "", rel); sub(/".*/, "", rel);
                         if (rel == "sessions" && node != "Bitmap Heap Scan") print node "|" idx "|" }
    /"Index Name":/ { idx = $0; sub(/.*"Index Name": "/, "", idx); sub(/".*/, "", idx);
                      if (node == "Bitmap Index Scan" || rel == "sessions") print node "|" idx "|" cond }
    /"Index Cond":/ { cond = $0; sub(/.*"Index Cond": "/, "", cond); sub(/",?$/, "", cond);
                      if (rel == "sessions") print node "|" idx "|" cond }'
}

fail=0
# check <name> <sql> <expected node type> <expected index (extended regex)>
#       [<text the Index Cond must contain>]
check() {
  local name=$1 sql=$2 want_node=$3 want_index=$4 want_cond=${5:-}
  local nodes
  nodes=$(plan_nodes "$sql")
  if [ -z "$nodes" ]; then
    echo "FAIL $name: no plan captured for the list query (is auto_explain available?)"; fail=1; return
  fi
  if grep -q '^Seq Scan|' <<<"$nodes"; then
    echo "FAIL $name: sequential scan of dozor.sessions"; echo "$nodes" | sed 's/^/    /'; fail=1; return
  fi
  if ! grep -Eq "^$want_node\|($want_index)\|" <<<"$nodes"; then
    echo "FAIL $name: expected $want_node using $want_index"; echo "$nodes" | sed 's/^/    /'; fail=1; return
  fi
  if [ -n "$want_cond" ] && ! grep -E "^$want_node\|($want_index)\|" <<<"$nodes" | grep -Fq -- "$want_cond"; then
    echo "FAIL $name: expected an index condition matching $want_cond"; echo "$nodes" | sed 's/^/    /'; fail=1; return
  fi
  echo "ok   $name: $(grep -E -m1 "^$want_node\|($want_index)\|" <<<"$nodes" | cut -d'|' -f1-2 | tr '|' ' ')"
}

big=$(psql -qAtX -d $db -c "SELECT id FROM dozor.projects WHERE name = 'big'")
user=$(psql -qAtX -d $db -c "SELECT tracked_user_id FROM dozor.sessions WHERE tracked_user_id IS NOT NULL LIMIT 1")
cursor=$(psql -qAtX -d $db -c "SELECT next_cursor FROM dozor_sessions(page_limit => 50) OFFSET 49")

check "default list (every project, date desc)" \
  "SELECT * FROM dozor_sessions();" "Index Scan" sessions_project_created_idx
check "default list, second page (keyset)" \
  "SELECT * FROM dozor_sessions(cursor => '$cursor');" "Index Scan" sessions_project_created_idx 'ROW(created_at, id) <'
check "one project, date asc" \
  "SELECT * FROM dozor_sessions(ARRAY[$big]::bigint[], sort_dir => 'asc');" "Index Scan" sessions_project_created_idx
check "duration desc" \
  "SELECT * FROM dozor_sessions(sort => 'duration');" "Index Scan" sessions_project_duration_idx
check "duration asc" \
  "SELECT * FROM dozor_sessions(ARRAY[$big]::bigint[], sort => 'duration', sort_dir => 'asc');" "Index Scan" sessions_project_duration_idx
check "active desc, min_active_ms" \
  "SELECT * FROM dozor_sessions(sort => 'active', min_active_ms => 30000);" "Index Scan" sessions_project_active_idx
check "active asc" \
  "SELECT * FROM dozor_sessions(ARRAY[$big]::bigint[], sort => 'active', sort_dir => 'asc');" "Index Scan" sessions_project_active_idx
# (a filter without an index of its own: either created_at index will do)
check "console errors filter" \
  "SELECT * FROM dozor_sessions(has_console_errors => true);" "Index Scan" 'sessions_project_created_idx|sessions_project_id_created_at_idx'
check "visited (GIN)" \
  "SELECT * FROM dozor_sessions(visited => '/p7');" "Bitmap Index Scan" sessions_pathnames_idx
check "one user's sessions" \
  "SELECT * FROM dozor_tracked_user_sessions($user);" "Index Scan" sessions_user_created_idx

exit $fail
