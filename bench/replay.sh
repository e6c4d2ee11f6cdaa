#!/usr/bin/env bash
# Replay benchmark (issue 14 item 6): the replay page vs download-everything.
#
#   bench/replay.sh                          # 100k-event sessions
#   BENCH_REPLAY_SIZES=100k,1m bench/replay.sh
#   BENCH_REPLAY_RUNS=5 ...                  # runs per approach (default 3)
#   BENCH_REPLAY_CHECKOUTS=0,60000 ...       # the recorder's checkoutEveryNms, 0: none (default both)
#   BENCH_REPLAY_ALL_MAX=1000000 ...         # download-everything only up to this many events
#
# Generates the seeded sessions (bench/gen-session.js, cached in bench/data),
# one per size and checkout setting (the same seed: the same session until
# the first checkout),
# bulk-loads them through the HTTP layer's POST /api/ingest (one request per
# SDK body, as the SDK sent them), then drives Chromium (playwright-core of
# test/e2e) with bench/replay.js. Its own throwaway cluster
# (scripts/with-temp-pg.sh); needs `make install` done and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
sizes=${BENCH_REPLAY_SIZES:-100k}
checkouts=${BENCH_REPLAY_CHECKOUTS:-0,60000}
for d in test/e2e examples/http; do
  [ -d "$d/node_modules" ] || (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
done
sessions=()   # size:checkout_ms:data dir
for s in ${sizes//,/ }; do
  for c in ${checkouts//,/ }; do
    dir=bench/data/s${s/m/M}; [ "$c" = 0 ] || dir=$dir-co$c
    node bench/gen-session.js --events "$s" --seed "${BENCH_SEED:-dozor}" --checkout-ms "$c" --out "$dir" >&2
    sessions+=("$s:$c:$dir")
  done
done
export BENCH_REPLAY_SESSIONS="${sessions[*]}" ROOT
exec scripts/with-temp-pg.sh -o shared_buffers=1GB -o max_wal_size=8GB -o jit=off bash -c '
set -euo pipefail
cd "$ROOT"
psql -X -d postgres -qc "CREATE DATABASE bench_replay"
export PGDATABASE=bench_replay
psql -X -qc "CREATE EXTENSION dozor"
PORT=0 HOST=127.0.0.1 node examples/http/server.js >/tmp/bench-replay-http.$$.log 2>&1 &
pid=$!
trap "kill $pid" EXIT
for _ in $(seq 100); do api=$(sed -n "s/^dozor http listening on \(http:[^ ]*\).*/\1/p" /tmp/bench-replay-http.$$.log); [ -n "$api" ] && break; sleep 0.1; done
args=()
for sess in $BENCH_REPLAY_SESSIONS; do
  IFS=: read -r s c dir <<<"$sess"
  label=$s; [ "$c" = 0 ] && label="$label, no checkouts" || label="$label, checkoutEveryNms $c"
  read -r project key < <(psql -X -AtF" " -qc "SELECT project_id, api_key FROM dozor_create_project('"'"'replay $s $c'"'"')")
  t0=$(date +%s.%N)
  for f in "$dir"/batch-*.json.gz; do
    curl -sf -o /dev/null "$api/api/ingest" -H "X-Dozor-Public-Key: $key" -H "Content-Type: application/json" \
         -H "Content-Encoding: gzip" --data-binary @"$f"
  done
  sid=$(node -e "console.log(JSON.parse(require(\"zlib\").gunzipSync(require(\"fs\").readFileSync(process.argv[1]))).sessionId)" "$(ls "$dir"/batch-*.json.gz | head -1)")
  id=$(psql -X -Atqc "SELECT id FROM dozor.sessions WHERE external_id = '"'"'$sid'"'"' AND project_id = $project")
  echo "bench replay: $label loaded as session $id in $(echo "$(date +%s.%N) - $t0" | bc) s" >&2
  # the session as one json value: what download-everything asks of the
  # server side too; past 1 GB PostgreSQL cannot hold it (dozor says so up front)
  raw=$(psql -X -Atqc "SELECT sum(raw_bytes) FROM dozor.event_batches WHERE session_id = $id")
  whole=$(psql -X -Atqc "SELECT octet_length(dozor_events($id)::text)" 2>&1 | tr "\n" " ") || true
  echo "bench replay: $label: $raw bytes of events stored; dozor_events whole: $whole" >&2
  events=$(node -e "console.log(require(process.argv[1]).generated_events)" "$ROOT/$dir/manifest.json")
  all=1; [ "$events" -le "${BENCH_REPLAY_ALL_MAX:-1000000}" ] || all=0
  args+=("$id:$label:$all")
done
DOZOR_API=$api node bench/replay.js "${args[@]}"
'
