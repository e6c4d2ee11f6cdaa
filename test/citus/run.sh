#!/usr/bin/env bash
# dozor on a real Citus cluster (coordinator + 2 workers on loopback,
# test/citus/cluster.sh), against a single node fed the same payloads:
#   * dozor_distribute() on the coordinator (and a second call does nothing)
#   * the recorded sample session and a generated 10k-event session ingested
#     through the coordinator: every feed and dashboard list byte for byte
#     the single node's
#   * rows of every session table on both workers
#   * a per-session read runs as one task, on the worker holding the session
#     (from Citus's EXPLAIN)
#   * parallel first batches (each sent twice at once) of new sessions: one
#     session each, every batch once
#   * a viewer role on the coordinator sees its project only (row-level
#     security on the shards)
#   * cancel (tombstone), erasure of a person, a dashboard delete followed
#     by the same uuid again, dozor_cleanup (rows on every shard, an expired
#     day's partitions dropped on every node)
#   * the e2e HTTP layer (examples/http, test/e2e) pointed at the coordinator
# Citus comes from the vendored installer (built when missing, idempotent).
# Without Citus, when there is no installer or it fails (not root), it
# prints SKIP, except under CI=true, where that is a failure. Fixed seeds; needs dozor installed (make install) and
# node. DOZOR_CITUS_E2E=0 leaves out the e2e step.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
mode=${1:-outer}
tmp=${2:-}

fail() { echo "FAIL citus: $*" >&2; exit 1; }
q() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }
ingest() {  # key, body file
  q -v key="$1" -v body="$(base64 -w0 "$2")" <<<"SELECT dozor_ingest(:'key', decode(:'body', 'base64'), 'gzip');"
}

# Loads the shared payloads into the server PG* names, and writes every feed
# of every session (in ingest order) and the dashboard's lists to $1.
load_and_dump() {
  local out=$1
  q -f "$tmp/load.sql" >/dev/null
  : >"$out"
  for sid in $(q -c "SELECT id FROM dozor.sessions ORDER BY id"); do
    # constant arguments, each call alone: on Citus each is delegated to
    # the worker holding the session
    {
      echo "== session $(q -c "SELECT external_id FROM dozor.sessions WHERE id = $sid")"
      q -c "SELECT dozor_session($sid) - 'createdAt'"
      q -c "SELECT dozor_events($sid)"
      q -c "SELECT dozor_events($sid, true)"
      q -c "SELECT dozor_events($sid, true, from_ms => 10000, to_ms => 70000)"
      q -c "SELECT * FROM dozor_history($sid)"
      q -c "SELECT * FROM dozor_history($sid, false)"
      q -c "SELECT * FROM dozor_console($sid)"
      q -c "SELECT * FROM dozor_markers($sid)"
      q -c "SELECT * FROM dozor_markers($sid, 'url')"
      q -c "SELECT * FROM dozor_keyframes($sid)"
      q -c "SELECT first_timestamp, last_timestamp, event_count, data FROM dozor_session_batches($sid)"
      q -c "SELECT id, next_cursor IS NOT NULL FROM dozor_session_batches($sid, page_limit => 3)"
      q -c "SELECT dozor_to_compressed($sid, 60000)"
      q -c "SELECT dozor_to_real($sid, 30000)"
    } >>"$out"
  done
  {
    echo "== dashboard"
    q -c "SELECT jsonb_agg(to_jsonb(x) - '{created_at,next_cursor}'::text[] ORDER BY x.id)
          FROM dozor_sessions(since => '-infinity', min_events => 0, min_duration => 0, page_limit => 1000) x"
    q -c "SELECT external_id, duration FROM dozor_sessions(since => '-infinity', min_events => 0, min_duration => 0,
                                                          sort => 'duration', page_limit => 2)"
    q -c "SELECT total_sessions, total_duration, avg_duration FROM dozor_sessions_summary()"
    q -c "SELECT jsonb_agg(to_jsonb(x) - '{created_at,updated_at,next_cursor}'::text[] ORDER BY x.id)
          FROM dozor_tracked_users() x"
    for u in $(q -c "SELECT id FROM dozor.tracked_users ORDER BY id"); do
      q -c "SELECT id, event_count, user_external_id FROM dozor_tracked_user_sessions($u)"
    done
  } >>"$out"
}

# Rows of a distributed table per worker port, from each shard placement.
rows_per_node() {
  q -c "SELECT nodeport || ' ' || sum(result::bigint)
        FROM run_command_on_placements('$1', 'SELECT count(*) FROM %s')
        GROUP BY nodeport ORDER BY nodeport"
}

case $mode in
outer)
  libdir=$(pg_config --pkglibdir)
  sharedir=$(pg_config --sharedir)
  if [ ! -f "$libdir/citus.so" ] || [ ! -f "$sharedir/extension/citus.control" ]; then
    installer=${DOZOR_CITUS_INSTALL:-}
    if [ -z "$installer" ]; then
      # CI runs in a clone with shared/ beside it; a developer's tree is /work/<tree>
      for c in "$root/../shared/vendor/citus/install.sh" /work/shared/vendor/citus/install.sh; do
        if [ -f "$c" ]; then installer=$c; break; fi
      done
    fi
    if [ -z "$installer" ]; then
      if [ "${CI:-}" = true ]; then
        fail "Citus is not installed and no installer was found (set DOZOR_CITUS_INSTALL)"
      fi
      echo "SKIP citus: Citus is not installed and no installer was found (set DOZOR_CITUS_INSTALL to vendor/citus/install.sh)"
      exit 0
    fi
    if ! PG_CONFIG=$(command -v pg_config) bash "$installer"; then
      # (it needs build packages and write access to PostgreSQL's directories)
      [ "${CI:-}" = true ] && fail "building Citus with $installer failed"
      echo "SKIP citus: building Citus with $installer failed (as root it installs what it needs)"
      exit 0
    fi
  fi
  command -v node >/dev/null || fail "node is needed to generate the 10k-event session"
  tmp=$(mktemp -d /tmp/dozor-citus-test.XXXXXX)
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  node bench/gen-session.js --events 10000 --seed citus --out "$tmp/gen10k" >/dev/null 2>&1
  for s in 1 2 3 4; do
    node bench/gen-session.js --events 1500 --seed "citus-par-$s" --out "$tmp/par$s" >/dev/null 2>&1
  done
  # One SQL file of all ingests, in order, for both servers.
  {
    echo "SET client_min_messages = warning;"
    echo "SELECT api_key AS key FROM dozor_create_project('a') \\gset"
    for body in test/data/sample-session/batch-*.json.gz "$tmp"/gen10k/batch-*.json.gz; do
      echo "SELECT dozor_ingest(:'key', decode('$(base64 -w0 "$body")', 'base64'), 'gzip');"
    done
  } >"$tmp/load.sql"
  echo "single node"
  scripts/with-temp-pg.sh bash test/citus/run.sh single "$tmp"
  echo "cluster: coordinator + 2 workers"
  DOZOR_CITUS_DBS=e2e test/citus/cluster.sh bash test/citus/run.sh cluster "$tmp"
  cmp "$tmp/single.feeds" "$tmp/cluster.feeds" \
    || { diff "$tmp/single.feeds" "$tmp/cluster.feeds" | head -20; fail "feeds differ between single node and cluster"; }
  echo "ok feeds and dashboard lists identical to the single node's ($(wc -c <"$tmp/single.feeds") bytes, $(grep -c '^== session' "$tmp/single.feeds") sessions)"
  ;;
single)
  q -c "CREATE EXTENSION dozor"
  load_and_dump "$tmp/single.feeds"
  ;;
cluster)
  q -c "SET client_min_messages = warning" -c "CREATE EXTENSION dozor"
  q -c "SELECT * FROM dozor_distribute(8)" >"$tmp/distribute.out"
  [ "$(q -c "SELECT dozor_distribute(8)")" = "already distributed" ] || fail "second dozor_distribute did something"
  [ "$(q -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid IN
        ('dozor.sessions'::regclass, 'dozor.event_batches'::regclass, 'dozor.markers'::regclass)
        AND colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'dozor.sessions'::regclass)")" = 3 ] \
    || fail "sessions, batches and markers are not colocated"
  [ "$(q -c "SELECT string_agg(logicalrelid::text || ':' || partmethod::text, ' ' ORDER BY logicalrelid::text)
             FROM pg_dist_partition WHERE logicalrelid::text IN
             ('dozor.projects', 'dozor.project_grants', 'dozor.tracked_users', 'dozor.session_keys', 'dozor.session_tombstones')")" \
    = "dozor.project_grants:n dozor.projects:n dozor.session_keys:h dozor.session_tombstones:h dozor.tracked_users:n" ] \
    || fail "the shared tables are not laid out as designed"
  echo "ok dozor_distribute: $(wc -l <"$tmp/distribute.out") steps, idempotent"
  load_and_dump "$tmp/cluster.feeds"
  echo "ok ingest, every feed and the dashboard lists through the coordinator"

  # Parallel first batches: every batch of 4 new sessions sent twice, all at
  # once, into a second project.
  keyb=$(q -c "SELECT api_key FROM dozor_create_project('b')")
  pids=()
  for s in 1 2 3 4; do
    for body in "$tmp"/par$s/batch-*.json.gz; do
      for attempt in 1 2; do
        ingest "$keyb" "$body" >/dev/null &
        pids+=($!)
      done
    done
  done
  for p in "${pids[@]}"; do wait "$p" || fail "a parallel ingest failed"; done
  for s in 1 2 3 4; do
    uuid=$(node -e "console.log(require('$tmp/par$s/manifest.json').sessionId)")
    want="1 $(ls "$tmp"/par$s/batch-*.json.gz | wc -l) 1500"
    sid=$(q -c "SELECT id FROM dozor.sessions WHERE external_id = '$uuid'")
    nb=$(q -c "SELECT count(*) FROM dozor.event_batches WHERE session_id = $sid")
    ns=$(q -c "SELECT count(*) FROM dozor.sessions WHERE external_id = '$uuid'")
    ne=$(q -c "SELECT event_count FROM dozor.sessions WHERE id = $sid")
    [ "$ns $nb $ne" = "$want" ] || fail "parallel session $s: sessions, batches, events = $ns $nb $ne, want $want"
  done
  echo "ok parallel first batches (4 sessions, each batch twice at once): one session each, every batch once"

  # Rows on both workers.
  for t in dozor.sessions dozor.event_batches dozor.markers; do
    per=$(rows_per_node $t)
    { [ "$(wc -l <<<"$per")" = 2 ] && ! grep -q ' 0$' <<<"$per"; } || fail "$t is not on both workers: $per"
    echo "ok $t rows per worker port: $(tr '\n' ' ' <<<"$per")"
  done

  # A per-session read: one task, on the worker holding the session.
  sid=$(q -c "SELECT min(id) FROM dozor.sessions")
  home=$(q -c "SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
               WHERE p.shardid = get_shard_id_for_distribution_column('dozor.sessions', $sid)")
  for call in "SELECT * FROM dozor_history($sid)" "SELECT dozor_events($sid)" "SELECT * FROM dozor_console($sid)" \
              "SELECT * FROM dozor_markers($sid)" "SELECT * FROM dozor_keyframes($sid)" "SELECT dozor_session($sid)" \
              "SELECT * FROM dozor.event_batches WHERE session_id = $sid"; do
    plan=$(q -c "EXPLAIN (VERBOSE) $call")
    { grep -q "Task Count: 1$" <<<"$plan" && grep -q "Node: host=127.0.0.1 port=$home " <<<"$plan"; } \
      || { echo "$plan"; fail "$call is not one task on port $home"; }
  done
  echo "ok per-session reads: one task on the session's worker (port $home), from EXPLAIN"

  # Viewer isolation on the coordinator: a role granted project a sees a only.
  q -c "CREATE ROLE citus_viewer LOGIN" -c "GRANT dozor_viewer TO citus_viewer"
  pa=$(q -c "SELECT id FROM dozor.projects WHERE name = 'a'")
  pb=$(q -c "SELECT id FROM dozor.projects WHERE name = 'b'")
  q -c "SELECT dozor_grant($pa, 'citus_viewer', 'viewer')" >/dev/null
  sa=$(q -c "SELECT min(id) FROM dozor.sessions WHERE project_id = $pa")
  sb=$(q -c "SELECT min(id) FROM dozor.sessions WHERE project_id = $pb")
  v() { q -U citus_viewer -c "$1"; }
  [ "$(v "SELECT count(*) FROM dozor.sessions")" = "$(q -c "SELECT count(*) FROM dozor.sessions WHERE project_id = $pa")" ] \
    || fail "viewer sees sessions of another project"
  [ "$(v "SELECT count(*) FROM dozor.event_batches WHERE session_id = $sb")" = 0 ] || fail "viewer sees batches of project b"
  [ "$(v "SELECT count(*) FROM dozor.markers WHERE session_id = $sb")" = 0 ] || fail "viewer sees markers of project b"
  [ "$(v "SELECT count(*) FROM dozor.event_batches WHERE session_id = $sa")" -gt 0 ] || fail "viewer sees no batches of its project"
  [ "$(v "SELECT count(*) FROM dozor_history($sb)")" = 0 ] || fail "viewer reads project b's history"
  [ "$(v "SELECT dozor_events($sb) IS NULL")" = t ] || fail "viewer reads project b's events"
  [ "$(v "SELECT dozor_session($sb) IS NULL")" = t ] || fail "viewer reads project b's session"
  [ "$(v "SELECT count(*) > 0 FROM dozor_history($sa)")" = t ] || fail "viewer cannot read its own project's history"
  [ "$(v "SELECT count(*) FROM dozor.projects")" = 1 ] || fail "viewer sees other projects"
  [ "$(v "SELECT count(*) FROM dozor_sessions(since => '-infinity', min_events => 0, min_duration => 0) WHERE project_id <> $pa")" = 0 ] \
    || fail "viewer's session list shows another project"
  if v "SELECT dozor_delete_session($sa)" >/dev/null 2>&1; then fail "viewer deleted a session"; fi
  q -c "SELECT dozor_revoke($pa, 'citus_viewer')" >/dev/null
  [ "$(v "SELECT count(*) FROM dozor.sessions")" = 0 ] || fail "a revoked viewer still sees sessions"
  echo "ok viewer isolation on the coordinator (row-level security on the shards; revoke takes effect)"

  # Cancel: the session goes from every shard, a batch in flight is discarded.
  uuid=$(node -e "console.log(require('$tmp/par1/manifest.json').sessionId)")
  old=$(q -c "SELECT id FROM dozor.sessions WHERE external_id = '$uuid'")
  q -v key="$keyb" -v u="$uuid" <<<"SELECT dozor_cancel_session(:'key', :'u');" >/dev/null
  [ "$(q -c "SELECT count(*) FROM dozor.sessions WHERE external_id = '$uuid'") $(q -c "SELECT count(*) FROM dozor.event_batches WHERE session_id = $old") $(q -c "SELECT count(*) FROM dozor.markers WHERE session_id = $old")" = "0 0 0" ] \
    || fail "cancel left rows"
  [ -z "$(ingest "$keyb" "$tmp/par1/batch-000000.json.gz")" ] || fail "a batch after cancel was not discarded"
  [ "$(q -c "SELECT count(*) FROM dozor.sessions WHERE external_id = '$uuid'")" = 0 ] || fail "a batch after cancel made a session"
  echo "ok cancel on the cluster: rows gone from the shards, a later batch discarded"

  # A dashboard delete keeps the key; the same uuid again is a new session.
  uuid=$(node -e "console.log(require('$tmp/par2/manifest.json').sessionId)")
  old=$(q -c "SELECT id FROM dozor.sessions WHERE external_id = '$uuid'")
  [ "$(q -c "SELECT dozor_delete_session($old)")" = t ] || fail "dozor_delete_session found nothing"
  new=$(ingest "$keyb" "$tmp/par2/batch-000000.json.gz")
  { [ -n "$new" ] && [ "$new" != "$old" ] && [ "$(q -c "SELECT count(*) FROM dozor.event_batches WHERE session_id = $new")" = 1 ]; } \
    || fail "a batch after a dashboard delete did not make a new session ($old -> $new)"
  echo "ok dashboard delete on the cluster; the same uuid later makes a new session"

  # Erasure of a person: the sessions linked to them, from every shard.
  pu=$(q -c "SELECT project_id || ' ' || external_id FROM dozor.tracked_users ORDER BY id LIMIT 1")
  read -r up uext <<<"$pu"
  linked=$(q -c "SELECT count(*) FROM dozor.sessions s JOIN dozor.tracked_users u ON u.id = s.tracked_user_id
                 WHERE u.project_id = $up AND u.external_id = '$uext'")
  [ "$linked" -gt 0 ] || fail "no session linked to a tracked user"
  [ "$(q -c "SELECT dozor_erase_user($up, '$uext')")" = "$linked" ] || fail "dozor_erase_user did not remove $linked sessions"
  [ "$(q -c "SELECT count(*) FROM dozor.tracked_users WHERE project_id = $up AND external_id = '$uext'")" = 0 ] \
    || fail "the erased person is still there"
  echo "ok erasure of a person on the cluster ($linked sessions)"

  # Retention: an expired day's partitions are dropped on every node, and
  # every session goes with its rows on every shard.
  old_day=$(q -c "SELECT dozor_day(now() - interval '200 days')")
  q -c "SELECT dozor_add_day($old_day)" >/dev/null
  part=$(q -c "SELECT dozor_partition_name('event_batches', $old_day)")
  [ "$(q -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'dozor.$part'::regclass")" = 1 ] \
    || fail "an added day is not distributed"
  q -c "SELECT dozor_cleanup('1 microsecond')" >/dev/null
  for t in dozor.sessions dozor.event_batches dozor.markers dozor.session_keys; do
    [ "$(q -c "SELECT sum(result::bigint) FROM run_command_on_placements('$t', 'SELECT count(*) FROM %s')")" = 0 ] \
      || fail "cleanup left rows in $t"
  done
  [ "$(q -c "SELECT to_regclass('dozor.$part') IS NULL")" = t ] || fail "cleanup kept $part"
  left=$(q -c "SELECT string_agg(result, ',') FROM run_command_on_workers(\$\$SELECT count(*) FROM pg_class WHERE relname LIKE '${part}%'\$\$)")
  [ "$left" = "0,0" ] || fail "shards of $part left on the workers: $left"
  echo "ok cleanup on the cluster: no rows on any shard, the expired day dropped on every node"

  # The HTTP layer (examples/http) and its e2e checks against the
  # coordinator, in a database of its own, distributed before they start.
  if [ "${DOZOR_CITUS_E2E:-1}" != 0 ]; then
    PGDATABASE=e2e q -c "SET client_min_messages = warning" -c "CREATE EXTENSION dozor" -c "SELECT dozor_distribute(8)" >/dev/null
    PGDATABASE=e2e DOZOR_E2E_DB=e2e bash test/e2e/run.sh >"$tmp/e2e.log" 2>&1 \
      || { tail -40 "$tmp/e2e.log"; fail "the e2e checks failed against the coordinator"; }
    [ "$(PGDATABASE=e2e q -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'dozor.sessions'::regclass")" = 1 ] \
      || fail "the e2e database is not distributed"
    [ "$(PGDATABASE=e2e q -c "SELECT count(*) FROM dozor.sessions")" -gt 0 ] || fail "the e2e run stored nothing"
    grep -q "replay: all checks passed" "$tmp/e2e.log" || fail "the replay checks did not run against the coordinator"
    echo "ok e2e (HTTP layer, Chromium) against the coordinator: $(grep -E '^[0-9]+ passed, 0 failed' "$tmp/e2e.log"), replay passed"
  fi
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
