#!/usr/bin/env bash
# Replay benchmark (issue 14 item 6): the replay page vs download-everything.
#
#   bench/replay.sh                          # 100k-event session
#   BENCH_REPLAY_SIZES=100k,1m bench/replay.sh
#   BENCH_REPLAY_RUNS=5 ...                  # runs per approach (default 3)
#
# Generates the seeded sessions (bench/gen-session.js, cached in bench/data),
# bulk-loads them through the HTTP layer's POST /api/ingest (one request per
# SDK body, as the SDK sent them), then drives Chromium (playwright-core of
# test/e2e) with bench/replay.js. Its own throwaway cluster
# (scripts/with-temp-pg.sh); needs `make install` done and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
sizes=${BENCH_REPLAY_SIZES:-100k}
for d in test/e2e examples/http; do
  [ -d "$d/node_modules" ] || (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
done
for s in ${sizes//,/ }; do
  node bench/gen-session.js --events "$s" --seed "${BENCH_SEED:-dozor}" --out "bench/data/s${s/m/M}" >&2
done
export BENCH_REPLAY_SIZES=$sizes ROOT
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
for s in ${BENCH_REPLAY_SIZES//,/ }; do
  dir=bench/data/s${s/m/M}
  key=$(psql -X -Atqc "SELECT api_key FROM dozor_create_project('"'"'replay $s'"'"')")
  t0=$(date +%s.%N)
  for f in "$dir"/batch-*.json.gz; do
    curl -sf -o /dev/null "$api/api/ingest" -H "X-Dozor-Public-Key: $key" -H "Content-Type: application/json" \
         -H "Content-Encoding: gzip" --data-binary @"$f"
  done
  sid=$(node -e "console.log(JSON.parse(require(\"zlib\").gunzipSync(require(\"fs\").readFileSync(process.argv[1]))).sessionId)" "$(ls "$dir"/batch-*.json.gz | head -1)")
  id=$(psql -X -Atqc "SELECT id FROM dozor.sessions WHERE external_id = '"'"'$sid'"'"'")
  echo "bench replay: $s loaded as session $id in $(echo "$(date +%s.%N) - $t0" | bc) s" >&2
  args+=("$id:$s")
done
DOZOR_API=$api node bench/replay.js "${args[@]}"
'
