#!/usr/bin/env bash
# Hostile input against the running server (test/hostile/): mutated and
# re-framed SDK bodies through dozor_ingest, hostile arrays through the pure
# functions, corruption of stored batches, cancellation and memory of
# worst-case requests. Fixed seeds and case counts, so one commit gives one
# verdict on every machine (about 1 minute). Random seeds: test/soak.sh.
# HOSTILE_SEED=S (with HOSTILE_COUNT, HOSTILE_PHASES) runs one seed instead.
set -euo pipefail
cd "$(dirname "$0")/../hostile"
command -v node >/dev/null || ../../scripts/install-deps.sh nodejs npm
if [ ! -d node_modules/pg ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# Known issues fail the suite (they have all been fixed in src).
export HOSTILE_STRICT=${HOSTILE_STRICT:-1}
run() { echo "-- hostile.js $*"; node hostile.js "$@"; }
if [ -n "${HOSTILE_SEED:-}" ]; then
  run --seed "$HOSTILE_SEED" --count "${HOSTILE_COUNT:-2000}" --phases "${HOSTILE_PHASES:-ingest,pure,corrupt,limits}"
  exit
fi
status=0
# The main runs: every phase with seed 1, the random phases with seed 2.
run --seed 1 --count 4000 || status=1
run --seed 2 --count 4000 --phases ingest,pure,corrupt || status=1
# Regressions: seeds that once failed, each with the count that reached it.
#   830070 ingest: bigString+gzipDamaged inflates past the cap before the
#     damage (54000); the oracle once guessed 22P02.
run --seed 830070 --count 400 --phases ingest || status=1
#   964315 corrupt: a batch's first_timestamp set to 2^63-1 left the batch
#     out of the whole stream (a range condition on the batch query) and
#     changed the feeds without XX001.
run --seed 964315 --count 4000 --phases corrupt || status=1
# (every run's corrupt phase also swaps the blobs and indexes of two twin
# batches, what seeds 240895 and 586613 once hit by chance)
exit $status
