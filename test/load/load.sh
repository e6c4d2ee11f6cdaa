#!/usr/bin/env bash
# Load and fault tests of dozor against a running server (PG* environment;
# scripts/with-temp-pg.sh provides one and the DOZOR_PG_DATA/DOZOR_PG_LOG
# the crash phase needs):
#
#   test/load/load.sh [--short] [load] [crash] [dump]      (all three by default)
#
#   load   pgbench: parallel ingest of many sessions (one realistic SDK batch
#          per transaction, a third of them gzip), alone and then beside
#          parallel reads (dozor_history, dozor_events, dozor_console,
#          dozor_markers). Then: zero errors, exact event counts (session =
#          sum over batches = stream length), no duplicate markers, no lost
#          or extra batch. Prints batches/s, events/s and read latencies.
#   crash  pgbench ingest, and in the middle an immediate shutdown
#          (pg_ctl -m immediate restart). After recovery: every batch whose
#          dozor_ingest returned success to pgbench is present and readable,
#          nothing half-written is visible, and ingest works again.
#   dump   pg_dump -Fc / pg_restore into a new database: dozor_history,
#          dozor_events, dozor_markers, dozor_console, dozor_session_batches
#          of every session identical before and after; ingest continues in
#          the restored database (sequences came along).
#
# Knobs (environment): LOAD_CLIENTS (ingest clients), LOAD_READERS,
# LOAD_SECONDS (per measured run), LOAD_SETS / LOAD_BATCHES (templates).
# Output and pgbench logs go to test/load/out/. Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
short=0
phases=()
for a in "$@"; do
  case $a in
    --short) short=1 ;;
    load|crash|dump) phases+=("$a") ;;
    *) echo "usage: $0 [--short] [load] [crash] [dump]" >&2; exit 2 ;;
  esac
done
[ ${#phases[@]} -eq 0 ] && phases=(load crash dump)
if [ $short = 1 ]; then
  clients=${LOAD_CLIENTS:-4}; readers=${LOAD_READERS:-2}; seconds=${LOAD_SECONDS:-15}
else
  clients=${LOAD_CLIENTS:-8}; readers=${LOAD_READERS:-4}; seconds=${LOAD_SECONDS:-60}
fi
sets=${LOAD_SETS:-8}
batches=${LOAD_BATCHES:-6}
out=$here/out
mkdir -p "$out"
bindir=$(pg_config --bindir)
PGBENCH=${PGBENCH:-$bindir/pgbench}
status=0
failmsg() { echo "FAIL: $*"; status=1; }
q() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

# Creates database $1 with dozor, a project and the templates.
make_db() {
  local db=$1
  PGOPTIONS="-c client_min_messages=warning" q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  q -d "$db" -c "CREATE EXTENSION dozor"
  local key
  key=$(q -d "$db" -c "SELECT api_key FROM dozor_create_project('load')")
  q -d "$db" -v key="$key" -v run="$db" -v batches="$batches" -f "$here/setup.sql" >/dev/null
  [ -s "$out/templates-$sets-$batches.sql" ] || node "$here/gen-templates.js" "$sets" "$batches" >"$out/templates-$sets-$batches.sql"
  q -d "$db" -f "$out/templates-$sets-$batches.sql" >/dev/null
}

# pgbench ingest: ingest_run <db> <log-prefix> <sess0> <clients> <pgbench duration args...>
ingest_run() {
  local db=$1 prefix=$2 sess0=$3 c=$4
  shift 4
  rm -f "$prefix".*
  "$PGBENCH" -n -c "$c" -j "$(( c < 2 ? 1 : 2 ))" -D seq=0 -D sess0="$sess0" -D batches="$batches" \
    -f "$here/ingest.sql" -l --log-prefix="$prefix" "$@" "$db"
}

# Acknowledged batches from pgbench per-transaction logs into load.acked.
load_acked() {
  local db=$1 sess0=$2
  shift 2
  # client transaction_no (from 1) time script epoch us ...: a number in "time" = success
  cat "$@" 2>/dev/null | awk -v b="$batches" -v s0="$sess0" \
    '$3 ~ /^[0-9]+$/ { printf "%d,%d,%d\n", $1, s0 + int(($2 - 1) / b), ($2 - 1) % b }' >"$out/acked.csv"
  q -d "$db" -c "\\copy load.acked (client, sess, batch) FROM '$out/acked.csv' WITH (FORMAT csv)"
  wc -l <"$out/acked.csv"
}

# Runs verify.sql; prints its table; fails on violations (and on unacked if $2 = strict).
verify() {
  local db=$1 mode=$2 res
  if ! res=$(q -d "$db" -f "$here/verify.sql" 2>&1); then
    failmsg "verification query failed: $res"
    return
  fi
  echo "$res" | awk -F'|' '{ printf "   %-38s %s%s\n", $1, $2, ($3 != "" && $2 != "0" ? "  (" substr($3, 1, 80) ")" : "") }'
  if echo "$res" | awk -F'|' '$1 ~ /^violation:/ && $2 != 0 { bad = 1 } END { exit !bad }'; then
    failmsg "consistency violations after $mode"
  fi
  if [ "$mode" = strict ] && echo "$res" | awk -F'|' '$1 == "unacked" && $2 != 0 { bad = 1 } END { exit !bad }'; then
    failmsg "batches stored that pgbench never saw acknowledged, without a crash"
  fi
}

# Latency percentiles (ms) of the per-transaction logs, per script number.
latencies() {
  cat "$@" | awk '$3 ~ /^[0-9]+$/ { print $4, $3 / 1000.0 }' | sort -k1,1n -k2,2n | awk '
    function at(k, q,   i) { i = int(n[k] * q + 0.5); if (i < 1) i = 1; return v[k, i] }
    { v[$1, ++n[$1]] = $2; s[$1] += $2 }
    END { for (k in n) printf "%d %d %.1f %.1f %.1f %.1f\n", k, n[k], s[k] / n[k], at(k, 0.50), at(k, 0.95), at(k, 0.99) }' | sort -n
}

# Transactions, failures and tps from a pgbench report.
bench_line() {
  local f=$1
  local tx fail tps aborted
  tx=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$f" | head -1)
  fail=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$f" | head -1)
  tps=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\).*/\1/p' "$f" | head -1)
  aborted=$(grep -c "aborted in command\|client [0-9]* aborted\|Run was aborted" "$f" || true)
  echo "${tx:-0} ${fail:-0} ${tps:-0} ${aborted:-0}"
}

phase_load() {
  local db=dozor_load
  echo "== load: $clients ingest clients, $readers readers, ${seconds}s runs"
  make_db "$db"
  # 1. ingest alone
  local rep=$out/report-ingest-alone.txt
  if ! ingest_run "$db" "$out/ingest-alone" 0 "$clients" -T "$seconds" >"$rep" 2>&1; then
    failmsg "pgbench ingest run failed"; tail -5 "$rep"
  fi
  read -r tx1 fail1 tps1 ab1 < <(bench_line "$rep")
  local n1
  n1=$(load_acked "$db" 0 "$out"/ingest-alone.*)
  local ev1
  ev1=$(q -d "$db" -c "SELECT COALESCE(sum(t.events), 0) FROM load.acked a JOIN load.templates t ON t.set_no = load.set_of(a.client, a.sess) AND t.batch_no = a.batch")
  local mb1
  mb1=$(q -d "$db" -c "SELECT round(COALESCE(sum(octet_length(t.body)), 0) / 1048576.0, 1) FROM load.acked a JOIN load.templates t ON t.set_no = load.set_of(a.client, a.sess) AND t.batch_no = a.batch")
  echo "   ingest alone:   $tx1 batches, $fail1 failed, aborted clients $ab1; $tps1 batches/s, $(awk -v e="$ev1" -v s="$seconds" 'BEGIN { printf "%.0f", e / s }') events/s, $(awk -v m="$mb1" -v s="$seconds" 'BEGIN { printf "%.1f", m / s }') MiB/s of JSON"
  [ "$fail1" = 0 ] && [ "$ab1" = 0 ] && [ "$tx1" = "$n1" ] || failmsg "ingest errors: failed=$fail1 aborted=$ab1 processed=$tx1 logged=$n1"

  # 2. ingest beside reads of the sessions stored so far
  # the readers pick among the sessions stored so far (ids have gaps)
  local nsess
  nsess=$(q -d "$db" -c "INSERT INTO load.read_ids (sid) SELECT id FROM dozor.sessions ORDER BY id; SELECT count(*) FROM load.read_ids")
  local rrep=$out/report-reads.txt
  rm -f "$out"/reads.*
  # (fixed --random-seed: the sessions read do not change from run to run)
  "$PGBENCH" -n -c "$readers" -j 1 --random-seed=1 -D nsess="$nsess" -T "$seconds" -l --log-prefix="$out/reads" \
    -f "$here/read_history.sql" -f "$here/read_events.sql" -f "$here/read_console.sql" -f "$here/read_markers.sql" \
    "$db" >"$rrep" 2>&1 &
  local rpid=$!
  local rep2=$out/report-ingest-mixed.txt
  if ! ingest_run "$db" "$out/ingest-mixed" 100000 "$clients" -T "$seconds" >"$rep2" 2>&1; then
    failmsg "pgbench ingest (beside reads) failed"; tail -5 "$rep2"
  fi
  wait $rpid || { failmsg "pgbench reads failed"; tail -5 "$rrep"; }
  read -r tx2 fail2 tps2 ab2 < <(bench_line "$rep2")
  read -r txr failr tpsr abr < <(bench_line "$rrep")
  local n2
  n2=$(load_acked "$db" 100000 "$out"/ingest-mixed.*)
  echo "   ingest + reads: $tx2 batches, $fail2 failed, aborted clients $ab2; $tps2 batches/s beside $tpsr reads/s ($txr reads, $failr failed, aborted $abr)"
  [ "$fail2" = 0 ] && [ "$ab2" = 0 ] && [ "$tx2" = "$n2" ] || failmsg "ingest errors beside reads: failed=$fail2 aborted=$ab2 processed=$tx2 logged=$n2"
  [ "$failr" = 0 ] && [ "$abr" = 0 ] || failmsg "read errors: failed=$failr aborted=$abr"
  echo "   read latencies over $nsess sessions (ms):   calls   mean    p50    p95    p99"
  latencies "$out"/reads.* | while read -r script n mean p50 p95 p99; do
    name=$(echo "history events console markers" | cut -d' ' -f$((script + 1)))
    printf '     %-38s %6d %6.1f %6.1f %6.1f %6.1f\n' "dozor_$name" "$n" "$mean" "$p50" "$p95" "$p99"
  done
  latencies "$out"/ingest-alone.* | while read -r _ n mean p50 p95 p99; do
    printf '     %-38s %6d %6.1f %6.1f %6.1f %6.1f\n' "dozor_ingest (alone)" "$n" "$mean" "$p50" "$p95" "$p99"
  done
  latencies "$out"/ingest-mixed.* | while read -r _ n mean p50 p95 p99; do
    printf '     %-38s %6d %6.1f %6.1f %6.1f %6.1f\n' "dozor_ingest (beside reads)" "$n" "$mean" "$p50" "$p95" "$p99"
  done
  echo "   verification:"
  verify "$db" strict
}

phase_crash() {
  local db=dozor_crash
  echo "== crash: immediate shutdown in the middle of an ingest run"
  if [ -z "${DOZOR_PG_DATA:-}" ]; then
    failmsg "DOZOR_PG_DATA is not set (run under scripts/with-temp-pg.sh)"; return
  fi
  make_db "$db"
  local run_as=()
  [ "$(id -u)" = 0 ] && run_as=(runuser -u postgres --)
  local logfrom=0
  [ -n "${DOZOR_PG_LOG:-}" ] && logfrom=$(stat -c %s "$DOZOR_PG_LOG")
  local rep=$out/report-crash.txt
  local run=$(( seconds * 3 ))
  ingest_run "$db" "$out/crash" 0 "$clients" -T "$run" >"$rep" 2>&1 &
  local bpid=$!
  local kill_at=$(( seconds / 2 + 3 ))
  sleep "$kill_at"
  local before
  before=$(q -d "$db" -c "SELECT count(*) FROM dozor.event_batches" 2>/dev/null || echo '?')
  echo "   ${kill_at}s into the run ($before batches committed): pg_ctl -m immediate restart"
  local pgctl_log=${DOZOR_PG_LOG:-$out/server-after-crash.log}
  "${run_as[@]}" "$bindir/pg_ctl" -D "$DOZOR_PG_DATA" -m immediate -w -t 120 -l "$pgctl_log" restart >"$out/pg_ctl.txt" 2>&1 \
    || { failmsg "pg_ctl restart failed"; cat "$out/pg_ctl.txt"; }
  wait $bpid || true
  for _ in $(seq 1 60); do "$bindir/pg_isready" -q && break; sleep 1; done
  read -r tx fail tps ab < <(bench_line "$rep")
  local n
  n=$(load_acked "$db" 0 "$out"/crash.*)
  echo "   pgbench: $n batches acknowledged before the crash; $(grep -c 'aborted\|terminat\|server closed' "$rep" || true) client errors at the crash (expected)"
  if [ -n "${DOZOR_PG_LOG:-}" ]; then
    local recov
    recov=$(tail -c +"$logfrom" "$DOZOR_PG_LOG" | grep -E "immediate shutdown|not properly shut down|redo done|automatic recovery|ready to accept" | sed 's/^/     log: /' | head -6)
    echo "$recov"
    echo "$recov" | grep -q "ready to accept" || failmsg "server log does not show a restart"
  fi
  [ "$n" -gt 0 ] || failmsg "no batch was acknowledged before the crash (kill too early?)"
  echo "   verification after recovery:"
  verify "$db" crash
  # ingest works again
  local rep2=$out/report-crash-after.txt
  if ingest_run "$db" "$out/crash-after" 500000 2 -T 3 >"$rep2" 2>&1; then
    read -r tx3 fail3 _ ab3 < <(bench_line "$rep2")
    echo "   after restart: $tx3 more batches ingested, $fail3 failed"
    [ "$fail3" = 0 ] && [ "$ab3" = 0 ] && [ "$tx3" -gt 0 ] || failmsg "ingest after restart: failed=$fail3 aborted=$ab3"
  else
    failmsg "ingest after restart failed"; tail -5 "$rep2"
  fi
}

# Every feed of every session, one line per session, for comparison.
feeds() {
  q -d "$1" -c "
    SELECT s.id || ' ' || s.external_id || ' ' || s.event_count
        || ' h:' || md5(COALESCE((SELECT json_agg(h)::text FROM dozor_history(s.id) h), ''))
        || ' e:' || md5(dozor_events(s.id)::text)
        || ' ec:' || md5(dozor_events(s.id, true)::text)
        || ' m:' || md5(COALESCE((SELECT json_agg(m)::text FROM dozor_markers(s.id) m), ''))
        || ' c:' || md5(COALESCE((SELECT json_agg(c)::text FROM dozor_console(s.id) c), ''))
        || ' b:' || md5(COALESCE((SELECT json_agg(b)::text FROM dozor_session_batches(s.id) b), ''))
        || ' t:' || dozor_to_compressed(s.id, extract(epoch FROM s.ended_at) * 1000)
    FROM dozor.sessions s ORDER BY s.id"
}

phase_dump() {
  local db=dozor_load
  echo "== dump: pg_dump / pg_restore round trip"
  if [ "$(q -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 0 ]; then
    make_db "$db"
    ingest_run "$db" "$out/dump-fill" 0 "$clients" -T 5 >"$out/report-dump-fill.txt" 2>&1 || failmsg "filling the database failed"
  fi
  local restored=dozor_restored
  feeds "$db" >"$out/feeds-before.txt"
  "$bindir/pg_dump" -Fc -f "$out/dozor.dump" "$db"
  PGOPTIONS="-c client_min_messages=warning" q -d postgres -c "DROP DATABASE IF EXISTS $restored" -c "CREATE DATABASE $restored"
  # (dozor's partitions need the restore recipe of scripts/restore.sh)
  if ! PATH="$bindir:$PATH" bash ../../scripts/restore.sh "$out/dozor.dump" "$restored" >"$out/pg_restore.txt" 2>&1; then
    failmsg "pg_restore failed"; tail -5 "$out/pg_restore.txt"; return
  fi
  feeds "$restored" >"$out/feeds-after.txt"
  local sessions
  sessions=$(wc -l <"$out/feeds-before.txt")
  echo "   $(du -h "$out/dozor.dump" | cut -f1) dump of $sessions sessions, $(q -d "$db" -c "SELECT count(*) FROM dozor.event_batches") batches"
  if cmp -s "$out/feeds-before.txt" "$out/feeds-after.txt" && [ "$sessions" -gt 0 ]; then
    echo "   feeds identical after restore: history, events (raw and compressed), markers, console, batches, timeline mapping"
  else
    failmsg "feeds differ after restore (diff $out/feeds-before.txt $out/feeds-after.txt)"
    diff "$out/feeds-before.txt" "$out/feeds-after.txt" | head -5
  fi
  # the restored database keeps working: sequences and the key came along
  local sid0
  sid0=$(q -d "$restored" -c "SELECT load.ingest(0, 900000, 0)") || failmsg "ingest into the restored database failed"
  local nxt
  nxt=$(q -d "$restored" -c "SELECT (SELECT max(id) FROM dozor.event_batches) > (SELECT max(id) FROM dozor.event_batches WHERE session_id <> $sid0)")
  [ "$nxt" = t ] && echo "   ingest into the restored database works (new ids after the restored ones)" \
    || failmsg "restored sequences out of step"
  q -d postgres -c "DROP DATABASE $restored"
}

for p in "${phases[@]}"; do
  "phase_$p"
done
[ $status = 0 ] && echo "load: ok" || echo "load: FAILED"
exit $status
