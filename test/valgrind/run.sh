#!/usr/bin/env bash
# The pg_regress suite under valgrind memcheck. Builds and
# installs the extension, runs
#   DOZOR_VALGRIND=1 scripts/with-temp-pg.sh make installcheck
# with --track-origins=yes, and sums up: tests passed, valgrind errors with a
# dozor frame (count, first stack of each kind), total time. Exits non-zero
# if a test failed or an error has a dozor frame. See README.txt here.
#   test/valgrind/run.sh                       # the whole suite, ~7-8 min
#   REGRESS="setup gzip ingest" test/valgrind/run.sh   # a subset (setup first)
# DOZOR_VALGRIND_OPTS replaces the extra valgrind options (default
# --track-origins=yes; set it to "" for a faster run without origins).
# Logs and the report stay in test/valgrind/out/.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
out=$PWD/test/valgrind/out
rm -rf "$out"
mkdir -p "$out/logs"
[ "$(id -u)" = 0 ] && chown postgres "$out/logs"
make -s
make -s install >/dev/null
regress=()
[ -n "${REGRESS:-}" ] && regress=("REGRESS=$REGRESS")
set +e
DOZOR_VALGRIND=1 DOZOR_VALGRIND_LOGDIR="$out/logs" \
  DOZOR_VALGRIND_OPTS="${DOZOR_VALGRIND_OPTS---track-origins=yes}" \
  scripts/with-temp-pg.sh make installcheck "${regress[@]}" 2>&1 | tee "$out/run.log"
status=${PIPESTATUS[0]}
set -e
bash test/valgrind/scan.sh "$out/logs" >"$out/report.txt" 2>&1 || true
secs=$(( $(date +%s) - start ))

# pg_regress prints "test NAME ... ok|FAILED  N ms" per test.
total=$(grep -c -E '^test .* \.\.\. ' "$out/run.log" || true)
failed=$(grep -c -E '^test .* \.\.\. .*FAILED' "$out/run.log" || true)
passed=$(( total - failed ))
dozor=$(sed -n 's/^valgrind: .*; \([0-9]*\) errors\/warnings with a dozor frame (\([0-9]*\) kinds).*/\1 in \2 kinds/p' "$out/report.txt")
echo
echo "== valgrind summary"
echo "tests:   $passed of $total passed"
echo "dozor:   ${dozor:-?} (errors/warnings with a dozor frame; first stack of each kind in test/valgrind/out/report.txt)"
grep -E '^=== DOZOR' "$out/report.txt" | sed 's/^/         /' || true
echo "other:   $(sed -n 's/.*, \([0-9]*\) other PostgreSQL-internal ones (\([0-9]*\) kinds).*/\1 in \2 kinds (not failures)/p' "$out/report.txt")"
echo "time:    ${secs}s"
echo "logs:    test/valgrind/out/logs/vg.PID.log"
echo "regress: $passed passed, $failed failed"
exit "$status"
