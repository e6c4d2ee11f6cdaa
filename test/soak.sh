#!/usr/bin/env bash
# Random exploration, apart from the deterministic test command:
#
#   bash test/soak.sh [seconds]        (default 1200)
#
# Builds and installs the extension, starts its own throwaway server
# (scripts/with-temp-pg.sh), then until the time is up alternates a hostile
# harness run with a fresh random seed (test/hostile/hostile.js, a fixed
# case count so the seed replays) and a libFuzzer round of every target with
# a random -seed on the growing corpora (test/fuzz/run.sh). Prints every seed
# it uses and, for each failure, the one-line command that replays it; exits
# non-zero if anything failed. SOAK_COUNT sets the cases per hostile run
# (default 2000), SOAK_FUZZ_SECONDS the seconds per fuzz target (default 30).
# A failure becomes a fixed regression: README.md, "How is it tested?".
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != --inside ]; then
  secs=${1:-1200}
  make -s
  make -s install >/dev/null
  (cd test/hostile && { [ -d node_modules/pg ] || npm ci --no-audit --no-fund --loglevel=error; })
  exec scripts/with-temp-pg.sh bash test/soak.sh --inside "$secs"
fi
secs=$2
count=${SOAK_COUNT:-2000}
fuzz_secs=${SOAK_FUZZ_SECONDS:-30}
end=$(( SECONDS + secs ))
log=test/hostile/out/soak
mkdir -p "$log"
failed=()
round=0
rand() { od -An -N4 -tu4 /dev/urandom | tr -d ' '; }
echo "soak: ${secs}s; hostile runs of $count cases, fuzz rounds of ${fuzz_secs}s per target; logs in $log/"
while [ $SECONDS -lt $end ]; do
  round=$(( round + 1 ))
  seed=$(( $(rand) % 1000000 ))
  echo "== round $round: hostile seed $seed"
  if (cd test/hostile && HOSTILE_STRICT=1 node hostile.js --seed "$seed" --count "$count" --phases ingest,pure,corrupt) \
       >"$log/hostile-$seed.log" 2>&1; then
    grep "hostile:" "$log/hostile-$seed.log" | sed "s/^/   /"
  else
    grep -E 'FAIL|hostile:' "$log/hostile-$seed.log" | head -8 | sed 's/^/   /'
    failed+=("scripts/with-temp-pg.sh node test/hostile/hostile.js --seed $seed --count $count --phases ingest,pure,corrupt")
    echo "   replay: ${failed[-1]}"
  fi
  [ $SECONDS -lt $end ] || break
  fseed=$(( $(rand) % 1000000 ))
  echo "== round $round: fuzz seed $fseed, ${fuzz_secs}s per target"
  if FUZZ_FLAGS="-seed=$fseed" bash test/fuzz/run.sh "$fuzz_secs" >"$log/fuzz-$fseed.log" 2>&1; then
    echo "   fuzz ok"
  else
    grep -E 'CRASH|repro:|SUMMARY' "$log/fuzz-$fseed.log" | head -8 | sed 's/^/   /'
    failed+=("$(grep -m1 -oE 'repro: .*' "$log/fuzz-$fseed.log" | sed 's/^repro: //') (fuzz seed $fseed)")
    echo "   replay: ${failed[-1]}"
  fi
done
echo "soak: $round rounds, ${#failed[@]} failures"
for f in "${failed[@]}"; do echo "  replay: $f"; done
[ ${#failed[@]} -eq 0 ]
