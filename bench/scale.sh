#!/usr/bin/env bash
# Cost as the store grows, and ingest against its floor (issue 12, items 7
# and 8). A benchmark, not a test: figures depend on the machine.
#
#   bench/scale.sh                      # 10^4 and 10^5 batches, ~4 minutes
#   BIG=1000000 bench/scale.sh          # 10^6 batches (5.4 GB, ~15 minutes)
#
#   SMALL=10000 BIG=100000   stored batches of the two stores
#   SESSIONS=1000000         the big store is padded to this many sessions
#                            (rows without batches) for the list page
#   ROUNDS=10 N=20           rounds x calls of each write per round
#   REAL=120                 realistic requests (bench/gen-session.js) sent
#                            to ingest and to the floor at the end; 0: none
#
# Two databases in one throwaway cluster, each a store bulk-loaded over 90
# daily partitions (bench/scale.sql): dozor_maintain() and dozor_add_day()
# make the partitions; a template of 10 sessions x 2 batches of 500 events
# is ingested with dozor_ingest; it is copied with INSERT ... SELECT, each
# copy into one day, with session ids day * 2^37 + the sequence (as
# dozor_next_session_id makes them) and created_at in that day, batches and
# markers re-pointed. Then ROUNDS rounds alternate between the two
# databases (bench/scale-time.sql, bench_round): dozor_ingest of a
# 500-event body (~32 KB gzip) to a new and to an existing session, the
# floor of the same body, and reads of a bulk-loaded 1 000-event session
# and of the sessions list, each timed server side (clock_timestamp(),
# writes with their COMMIT), and, untimed by SQL, dozor_prepare_batch (the
# C pass of ingest) and inflate + deflate alone. Then, in the small store,
# the first REAL requests of a seeded bench/gen-session.js session, each to
# dozor_ingest and to the floor (realistic batches: snapshots, mutations,
# markers). Last, one more round in the small store with
# pg_stat_statements tracking nested statements: where ingest's time goes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DOZOR_BENCH_INNER:-}" ]; then
  DOZOR_BENCH_INNER=1 exec scripts/with-temp-pg.sh -o shared_buffers=1GB -o max_wal_size=32GB \
    -o checkpoint_timeout=1h -o jit=off -o shared_preload_libraries=pg_stat_statements \
    -o pg_stat_statements.track=top "$0" "$@"
fi
small=${SMALL:-10000}
big=${BIG:-100000}
sessions=${SESSIONS:-1000000}
rounds=${ROUNDS:-10}
n=${N:-20}
export PGOPTIONS="-c client_min_messages=warning"
q() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

for size in "$small" "$big"; do
  db=store_$size
  t=$(now_ms)
  q -d postgres -c "CREATE DATABASE $db"
  q -d $db -c "CREATE EXTENSION dozor" -c "CREATE EXTENSION pg_stat_statements"
  q -d $db >/dev/null -f bench/scale.sql
  copies=$(( size / 20 ))
  for ((k = 1; k <= copies; k += 250)); do
    q -d $db -c "CALL bench_copy($k, $(( k + 249 < copies ? k + 249 : copies )))"
  done
  # sessions without batches up to SESSIONS (big store only), over the 90 days
  if [ "$size" = "$big" ]; then
    q -d $db -v n="$sessions" <<'SQL'
INSERT INTO dozor.sessions (id, project_id, external_id, url, started_at, ended_at, created_at, duration, event_count)
SELECT d::bigint * 137438953472 + nextval('dozor.sessions_id_seq'), (SELECT id FROM dozor.projects),
       gen_random_uuid(), 'https://shop.example/', ts, ts + interval '1 minute', ts, 60, 2
FROM generate_series(1, greatest(:n - (SELECT count(*) FROM dozor.sessions), 0)) g,
     LATERAL (SELECT dozor_day(now()) - g % 90 AS d) x,
     LATERAL (SELECT to_timestamp(d * 86400.0 + g % 86400) AS ts) y;
SQL
  fi
  q -d $db >/dev/null -v bodies=$(( (rounds + 1) * n )) -f bench/scale-time.sql
  q -d $db -c CHECKPOINT
  echo "store $db: $(q -d $db -c "SELECT (SELECT count(*) FROM dozor.event_batches) || ' batches, '
      || (SELECT count(*) FROM dozor.sessions) || ' sessions, '
      || (SELECT count(*) FROM pg_inherits WHERE inhparent = 'dozor.event_batches'::regclass) || ' partitions, '
      || pg_size_pretty(pg_database_size(current_database()))"), loaded in $(( ($(now_ms) - t) / 1000 )) s"
done

# the rounds, alternating between the stores
for ((r = 0; r < rounds; r++)); do
  for size in "$small" "$big"; do q -d store_$size -c "CALL bench_round($r, $n)"; done
done

report() {  # db
  q -d "$1" -F ' ' <<'SQL'
SELECT format('  %-38s %5s %8s %8s %8s %8s %8s', label, count(*),
              round(min(ms)::numeric, 2), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
              round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2), round(max(ms)::numeric, 2),
              round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2))
FROM bench_ms GROUP BY label ORDER BY label;
SQL
}
stat() {  # db label p
  q -d "$1" -c "SELECT percentile_cont($3) WITHIN GROUP (ORDER BY ms) FROM bench_ms WHERE label = '$2'"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo
echo "ms, server side; $rounds rounds x $n writes of each kind (reads 2 each per write)"
for size in "$small" "$big"; do
  echo "store of $size batches ($(q -d store_$size -c "SELECT count(*) FROM dozor.sessions") sessions)"
  printf '  %-38s %5s %8s %8s %8s %8s %8s\n' what runs min p50 p99 max p95
  report store_$size
done

echo
echo "flat cost: big store / small store (goal 0.80 .. 1.20)"
for m in "ingest, new session:0.5" "ingest, existing session:0.5" \
         "dozor_history, 1000 events:0.99" "dozor_events, 1000 events:0.99"; do
  label=${m%:*} p=${m##*:}
  a=$(stat store_$small "$label" "$p") b=$(stat store_$big "$label" "$p")
  printf '  %-34s p%-3s %8.2f -> %8.2f  x%s\n' "$label" "$(awk -v p="$p" 'BEGIN { print p * 100 }')" "$a" "$b" "$(ratio "$b" "$a")"
done
l=$(stat store_$big "dozor_sessions, 50-row page" 0.99)
printf '  dozor_sessions page p99 at %s sessions: %.2f ms (goal <= 20)\n' \
  "$(q -d store_$big -c "SELECT count(*) FROM dozor.sessions")" "$l"

echo
echo "ingest (existing session) / floor, 500 events (goal <= 1.3)"
for size in "$small" "$big"; do
  for p in 0 0.5 1; do
    a=$(stat store_$size "ingest, existing session" $p) b=$(stat store_$size "floor (inflate + deflate 3 + INSERT)" $p)
    printf '  store %-8s %-4s ingest %7.2f  floor %7.2f  x%s\n' "$size" \
      "$(case $p in 0) echo min;; 0.5) echo p50;; 1) echo max;; esac)" "$a" "$b" "$(ratio "$a" "$b")"
  done
done

echo "  where the difference goes, p50 (ingest - its C pass = its SQL; floor - codec = one INSERT):"
for size in "$small" "$big"; do
  i=$(stat store_$size "ingest, existing session" 0.5) pb=$(stat store_$size "part: dozor_prepare_batch" 0.5)
  f=$(stat store_$size "floor (inflate + deflate 3 + INSERT)" 0.5) c=$(stat store_$size "part: inflate + deflate 3" 0.5)
  awk -v s="$size" -v i="$i" -v pb="$pb" -v f="$f" -v c="$c" 'BEGIN {
    printf "  store %-8s C pass %.2f vs codec %.2f (+%.2f);  SQL %.2f vs INSERT %.2f (+%.2f)\n", s, pb, c, pb - c, i - pb, f - c, (i - pb) - (f - c) }'
done

# Realistic batches: the first REAL requests of a seeded bench/gen-session.js
# session (FullSnapshots, mutations, mouse moves, console, url and identity
# markers), each ingested once (the first makes the session) and floored
# once, in store_$small.
real=${REAL:-120}
if [ "$real" -gt 0 ] && command -v node >/dev/null; then
  gen=$(mktemp -d /tmp/dozor-scale-real.XXXXXX)
  # a warm-up session first, so that what one backend does once (preparing
  # the statements of url, identity and pages, loading their catalogs) is
  # not counted: another seed, its first 60 requests, untimed
  node bench/gen-session.js --events 30000 --seed warm-up --out "$gen/warm" >/dev/null
  node bench/gen-session.js --events $(( real * 500 )) --seed dozor --out "$gen/timed" >/dev/null
  { echo "CREATE TABLE bench_real (k integer PRIMARY KEY, body bytea);"
    k=0
    for f in $(ls "$gen"/warm/batch-*.json.gz | head -60) $(ls "$gen"/timed/batch-*.json.gz | head -"$real"); do
      k=$((k + 1))
      echo "INSERT INTO bench_real VALUES ($k, decode('$(base64 -w0 "$f")', 'base64'));"
    done; } | q -d store_$small
  rm -rf "$gen"
  q -d store_$small -c "CALL bench_real_round(61)"
  echo
  echo "ingest (existing session) / floor on realistic batches: the first $real requests of a bench/gen-session.js session (after an untimed warm-up session)"
  q -d store_$small -F ' ' <<'SQL'
WITH p AS (
    SELECT i.k, i.ms AS ingest, f.ms AS floor, (SELECT length(body) FROM bench_real b WHERE b.k = i.k) AS gz
    FROM bench_real_ms i JOIN bench_real_ms f ON f.k = i.k AND f.what = 'floor'
    WHERE i.what = 'ingest' AND i.k > 61)
SELECT format('  %s batches (%s KB gzip median): ingest p50 %s ms, floor p50 %s ms; per batch ingest/floor min x%s, median x%s, max x%s; all ingest / all floor x%s',
              count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY gz)::numeric / 1024, 1),
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ingest)::numeric, 2),
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY floor)::numeric, 2),
              round(min(ingest / floor)::numeric, 2),
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ingest / floor)::numeric, 2),
              round(max(ingest / floor)::numeric, 2), round((sum(ingest) / sum(floor))::numeric, 2))
FROM p;
SQL
fi

echo
echo "where ingest's time goes: one more round in store_$small, nested statements (pg_stat_statements), ms per call"
q -d store_$small -c "SELECT pg_stat_statements_reset()" >/dev/null
q -d store_$small -c "SET pg_stat_statements.track = 'all'" -c "CALL bench_round($rounds, $n)"
q -d store_$small -F ' ' <<'SQL'
SELECT format('  %8s %6s  %s', round(mean_exec_time::numeric, 3), calls,
              left(regexp_replace(query, '\s+', ' ', 'g'), 110))
FROM pg_stat_statements
WHERE calls >= 10 AND query !~* '^(call|set|select pg_stat)'
  -- (plpgsql's simple expressions, e.g. the DECLARE that calls
  -- dozor_prepare_batch, bypass the executor: not listed)
ORDER BY total_exec_time DESC LIMIT 25;
SQL
