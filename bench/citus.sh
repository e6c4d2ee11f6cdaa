#!/usr/bin/env bash
# Benchmark (not a test): one node vs a Citus coordinator + 2 workers on this
# machine (test/citus/cluster.sh, all three on loopback, sharing its cores).
#   bash bench/citus.sh          (needs Citus installed: test/citus/run.sh does it)
# Ingest: the generated 10k-event session (seed citus, 40 batches of <= 500
# events, gzip) into 4 projects = 160 batches, through one connection
# (serial), then again into 4 more projects from 4 connections at once.
# Reads: 20 calls each of the per-session feeds on one 10k-event session
# (bare calls with the id as a value: delegated to the session's worker on
# the cluster) and of the sessions list, mean ms per call. Fixed seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-outer}
tmp=${2:-}
ms() { echo $(( $(date +%s%N) / 1000000 )); }
measure() {
  local label=$1
  t0=$(ms); psql -qAtX -v ON_ERROR_STOP=1 -f "$tmp/serial.sql" >/dev/null; t1=$(ms)
  n=$(grep -c dozor_ingest "$tmp/serial.sql")
  echo "$label ingest, 1 connection: $n batches in $(( t1 - t0 )) ms = $(( n * 1000 / (t1 - t0) )) batches/s"
  t0=$(ms)
  for p in 1 2 3 4; do psql -qAtX -v ON_ERROR_STOP=1 -f "$tmp/par$p.sql" >/dev/null & done
  wait
  t1=$(ms)
  n=$(cat "$tmp"/par?.sql | grep -c dozor_ingest)
  echo "$label ingest, 4 connections: $n batches in $(( t1 - t0 )) ms = $(( n * 1000 / (t1 - t0) )) batches/s"
  sid=$(psql -qAtX -c "SELECT min(id) FROM dozor.sessions")
  for f in "dozor_history(\$1)" "dozor_events(\$1)" "dozor_events(\$1, true, from_ms => 60000, to_ms => 120000)" \
           "dozor_console(\$1)" "dozor_markers(\$1)" "dozor_keyframes(\$1)" "dozor_session(\$1)" \
           "dozor_sessions(since => '-infinity')"; do
    for i in $(seq 20); do echo "SELECT * FROM ${f//\$1/$sid} \\g /dev/null"; done >"$tmp/read.sql"
    psql -qAtX -f "$tmp/read.sql" >/dev/null   # warm
    r0=$(ms); psql -qAtX -f "$tmp/read.sql" >/dev/null; r1=$(ms)
    t=$(( (r1 - r0) * 10 / 20 ))
    echo "$label $f: $(( t / 10 )).$(( t % 10 )) ms/call"
  done
}
case $mode in
outer)
  tmp=$(mktemp -d /tmp/dozor-citus-bench.XXXXXX); chmod 755 "$tmp"; trap 'rm -rf "$tmp"' EXIT
  node bench/gen-session.js --events 10000 --seed citus --out "$tmp/gen" >/dev/null 2>&1
  gen_load() {  # project names...
    echo "SET client_min_messages = warning;"
    for p in "$@"; do
      echo "SELECT api_key AS key FROM dozor_create_project('$p') \\gset"
      for body in "$tmp"/gen/batch-*.json.gz; do
        echo "SELECT dozor_ingest(:'key', decode('$(base64 -w0 "$body")', 'base64'), 'gzip');"
      done
    done
  }
  gen_load s1 s2 s3 s4 >"$tmp/serial.sql"
  for p in 1 2 3 4; do gen_load "p$p" >"$tmp/par$p.sql"; done
  scripts/with-temp-pg.sh bash bench/citus.sh single "$tmp"
  test/citus/cluster.sh bash bench/citus.sh cluster "$tmp"
  ;;
single) psql -qX -c "CREATE EXTENSION dozor"; measure "single node" ;;
cluster)
  psql -qX -c "SET client_min_messages = warning" -c "CREATE EXTENSION dozor"
  psql -qAtX -c "SELECT dozor_distribute()" >/dev/null
  measure "coordinator + 2 workers"
  ;;
esac
