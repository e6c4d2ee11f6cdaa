#!/usr/bin/env bash
# Runs inside pg_virtualenv (PG* point at the throwaway cluster): create the
# extension and run the measurements. Called by bench/run.sh.
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
psql -qX -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION dozor' >/dev/null
node --expose-gc --max-old-space-size=16000 "$B/measure.js" --sizes "${BENCH_SIZES:-10k,100k}" --data "$B/data" --out "$B/results"
