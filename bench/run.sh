#!/usr/bin/env bash
# dozor benchmark: bench/run.sh (the Makefile's `make bench` calls it).
#
# Installs what is missing (Debian packages, the npm client into bench/),
# builds bench/build/inflate, builds and installs the extension, generates
# the seeded sessions into bench/data (cached: same seed, same bytes), starts
# a throwaway cluster with pg_virtualenv and runs bench/inner.sh in it, which
# ingests the sessions and measures everything (bench/measure.js). The report
# goes to stdout and bench/results/latest.txt (+ latest.json).
#
#   BENCH_1M=1           also the 1 000 000-event session (adds ~10 min)
#   BENCH_SIZES=10k,100k sizes to run (default 10k,100k, plus 1m with BENCH_1M=1)
#   BENCH_SEED=dozor     generator seed
#   BENCH_NO_INSTALL=1   do not run `make install` (benchmark what is installed)
#   BENCH_RUNS, BENCH_APP_RUNS, BENCH_INGEST_CALLS, BENCH_PGBENCH_CLIENTS,
#   BENCH_PGBENCH_JOBS, BENCH_PGBENCH_BODIES, BENCH_SKIP_PGBENCH: see measure.js
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/bench
PG_CONFIG=${PG_CONFIG:-pg_config}

say() { echo "bench: $*" >&2; }

# ---- dependencies
missing=()
for pkg in libpq-dev libdeflate-dev zlib1g-dev postgresql-common; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
pgmajor=$($PG_CONFIG --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
[ -x "/usr/lib/postgresql/$pgmajor/bin/pgbench" ] || missing+=("postgresql-$pgmajor")
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -f "$B/node_modules/pg/package.json" ]; then
  say "installing the npm client (pg) into bench/"
  (cd "$B" && { npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })
fi

# ---- build
mkdir -p "$B/build"
if [ ! -x "$B/build/inflate" ] || [ "$B/inflate.c" -nt "$B/build/inflate" ]; then
  say "building bench/build/inflate"
  cc -O2 -std=gnu11 -Wall -Wextra -Werror -I"$($PG_CONFIG --includedir)" "$B/inflate.c" \
     -o "$B/build/inflate" -L"$($PG_CONFIG --libdir)" -lpq -ldeflate -lz
fi
if [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
  say "building and installing the extension"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  make -C "$ROOT" -s >/dev/null
  $SUDO make -C "$ROOT" -s install >/dev/null
fi

# ---- data
sizes=${BENCH_SIZES:-10k,100k}
if [ "${BENCH_1M:-0}" = 1 ] && [[ ",$sizes," != *,1m,* ]]; then sizes="$sizes,1m"; fi
for s in ${sizes//,/ }; do
  say "generating the $s-event session"
  node "$B/gen-session.js" --events "$s" --seed "${BENCH_SEED:-dozor}" --out "$B/data/s${s/m/M}"
done

# ---- measure in a throwaway cluster
# shared_buffers holds every stored batch (reads are from memory, as on a warm
# server); a large max_wal_size keeps checkpoints out of the ingest timings.
export BENCH_SIZES=$sizes
say "starting a throwaway cluster"
pg_virtualenv -t \
  -o shared_buffers=1GB -o max_wal_size=8GB -o checkpoint_timeout=30min \
  -o work_mem=64MB -o jit=off \
  bash "$B/inner.sh"

# ---- replay page vs download-everything in Chromium (issue 14): opt-in,
# it needs Chromium and takes minutes (bench/replay.sh, BENCH_REPLAY_SIZES)
if [ "${BENCH_REPLAY:-0}" = 1 ]; then
  say "replay: windowed loading vs download-everything"
  bash "$B/replay.sh"
fi
