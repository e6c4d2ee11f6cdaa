#!/usr/bin/env bash
# Builds every libFuzzer target of test/fuzz/ (clang, ASan + UBSan) and runs
# each for a while, printing executions and coverage per target.
#
#   test/fuzz/run.sh [seconds-per-target] [target ...]     exploration
#   test/fuzz/run.sh --fixed [--seed S] [target ...]        deterministic
#
# Default: 30 s per target, on the corpora grown by earlier runs. --fixed is
# what the test command runs: libFuzzer -seed=S (default 1) and a fixed
# number of executions per target (fixed_runs below, ~10 s each on a 2-core
# machine; FUZZ_RUNS overrides it), starting from the regenerated seeds only,
# so one commit gives one verdict on any machine, however fast. Targets: json json_swar url batch_index gzip
# event ingest timeline history (all by default). Exits non-zero if any
# target crashes, leaks, times out or trips a sanitizer; the input that did
# it is saved under $FUZZ_OUT/artifacts/ and printed as a repro command.
#
# Environment:
#   FUZZ_OUT      build and corpus directory (default test/fuzz/out; the
#                 corpora grow there from run to run, seeds are regenerated)
#   FUZZ_JOBS     parallel fuzzing processes per target (default 1)
#   CLANG         compiler (default: clang-14, else clang)
#   FUZZ_FLAGS    extra libFuzzer flags for every target
set -euo pipefail
cd "$(dirname "$0")/../.."
fixed=0
seed=1
secs=30
while [ $# -gt 0 ]; do
  case $1 in
    --fixed) fixed=1; shift ;;
    --seed) seed=$2; shift 2 ;;
    [0-9]*) secs=$1; shift ;;
    *) break ;;
  esac
done
all_targets=(json json_swar url batch_index gzip event ingest timeline history)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")

out=${FUZZ_OUT:-test/fuzz/out}
jobs=${FUZZ_JOBS:-1}
[ $fixed = 1 ] && jobs=1 # parallel workers would not replay
CLANG=${CLANG:-$(command -v clang-14 || command -v clang || true)}
if [ -z "$CLANG" ]; then
  echo "fuzz: clang not found (apt-get install clang-14)" >&2
  exit 1
fi
PG_CONFIG=${PG_CONFIG:-pg_config}
inc=$($PG_CONFIG --includedir-server)
libdir=$($PG_CONFIG --libdir)
pkglibdir=$($PG_CONFIG --pkglibdir)
mkdir -p "$out/bin" "$out/corpus" "$out/seeds" "$out/artifacts" "$out/logs"
out=$(cd "$out" && pwd)

# The flags the server build uses that change semantics (-fwrapv), plus the
# sanitizers. -DFRONTEND: src/*.c compile against libpgcommon and the shim.
cflags=(-std=gnu11 -g -O1 -fwrapv -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
        -Wall -Wno-ignored-attributes -Wno-unused-parameter -Wno-unused-function
        -DFRONTEND -Isrc -Itest/fuzz -I"$inc")
libs=(-L"$libdir" -L"$pkglibdir" -lpgcommon -lpgport -ldeflate -lm)

# Sources of each target beside its fuzz_*.c and the shim.
sources() {
  case $1 in
    json|json_swar) echo src/json_scan.c ;;
    url)            echo src/url_pathname.c ;;
    batch_index)    echo src/batch_index.c ;;
    gzip)           echo src/gzip.c ;;
    event)          echo src/event.c src/json_scan.c ;;
    ingest)         echo src/event.c src/json_scan.c src/batch_index.c src/gzip.c ;;
    timeline)       echo src/timeline.c ;;
    history)        echo src/history_build.c src/timeline.c src/url_pathname.c ;;
    *) echo "unknown target $1" >&2; return 1 ;;
  esac
}
# Executions per target in --fixed mode (about 10 s each, measured).
fixed_runs() {
  if [ -n "${FUZZ_RUNS:-}" ]; then echo "$FUZZ_RUNS"; return; fi
  case $1 in
    json)                 echo 2000 ;;
    json_swar)            echo 5000 ;;
    gzip)                 echo 10000 ;;
    ingest)               echo 35000 ;;
    event)                echo 120000 ;;
    timeline|history)     echo 150000 ;;
    url|batch_index)      echo 200000 ;;
  esac
}
# Largest input libFuzzer generates for each target.
max_len() {
  case $1 in
    url|batch_index|timeline|history) echo 4096 ;;
    json|json_swar)                   echo 16384 ;;
    *)                                echo 65536 ;;
  esac
}

echo "fuzz: building with $($CLANG --version | head -1)"
for t in "${targets[@]}"; do
  main=test/fuzz/fuzz_$t.c
  extra=()
  if [ "$t" = json_swar ]; then main=test/fuzz/fuzz_json.c; extra=(-DJSON_SCAN_NO_SIMD); fi
  # shellcheck disable=SC2046
  "$CLANG" "${cflags[@]}" "${extra[@]}" "$main" $(sources "$t") test/fuzz/shim.c \
    "${libs[@]}" -o "$out/bin/fuzz_$t"
done

echo "fuzz: generating seed corpora"
node test/fuzz/seeds.js "$out/seeds"

status=0
norand=()
if [ $fixed = 1 ]; then
  echo "fuzz: fixed runs, -seed=$seed"
  setarch "$(uname -m)" -R true 2>/dev/null && norand=(setarch "$(uname -m)" -R)
fi
started=$SECONDS
printf '%-12s %12s %10s %8s %8s %8s  %s\n' target execs exec/s cov ft corpus result
for t in "${targets[@]}"; do
  log=$out/logs/$t.log
  par=()
  [ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
  corpus=$out/corpus/$t
  budget=(-max_total_time="$secs")
  if [ $fixed = 1 ]; then
    # a fresh corpus: what earlier runs found must not change this run
    corpus=$out/corpus-fixed/$t
    rm -rf "$corpus"
    # -reload=0: no timed corpus re-reads; no ASLR: some targets' paths
    # depend on addresses (checked: the same coverage twice over)
    budget=(-runs="$(fixed_runs "$t")" -seed="$seed" -reload=0)
    par=()
  fi
  mkdir -p "$corpus"
  # inputs that once crashed a target stay in every run (test/fuzz/regress/<target>/)
  regress=()
  [ -d "test/fuzz/regress/$t" ] && regress=("test/fuzz/regress/$t")
  set +e
  # (in the logs directory: with -jobs, libFuzzer writes fuzz-N.log to the cwd)
  (cd "$out/logs" && rm -f fuzz-[0-9]*.log &&
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "${norand[@]}" "$out/bin/fuzz_$t" "${budget[@]}" -max_len="$(max_len "$t")" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      "${par[@]}" \
      -artifact_prefix="$out/artifacts/$t-" ${FUZZ_FLAGS:-} \
      "$corpus" "$out/seeds/$t" "${regress[@]}") >"$log" 2>&1
  rc=$?
  set -e
  # with -jobs the workers write fuzz-N.log; fold them in
  if [ "$jobs" -gt 1 ]; then cat "$out"/logs/fuzz-[0-9]*.log >>"$log" 2>/dev/null || true; rm -f "$out"/logs/fuzz-[0-9]*.log; fi
  execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s+=$2} END {print s+0}')
  speed=$(grep -h 'stat::average_exec_per_sec' "$log" | awk '{s+=$2} END {print s+0}')
  last=$(grep -hE '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p' <<<"$last")
  result=ok
  if [ $rc -ne 0 ]; then
    result="CRASH (rc=$rc)"
    status=1
  fi
  printf '%-12s %12s %10s %8s %8s %8s  %s\n' "$t" "$execs" "$speed" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
  if [ $rc -ne 0 ]; then
    grep -hE '^\*\*\*|ERROR: |SUMMARY:|runtime error' "$log" | head -8 | sed 's/^/    /'
    for a in $(grep -hoE "Test unit written to [^ ]+" "$log" | awk '{print $5}'); do
      echo "    repro: $out/bin/fuzz_$t $a"
    done
    echo "    log: $log"
    [ $fixed = 1 ] && echo "    replay the run: test/fuzz/run.sh --fixed --seed $seed $t"
  fi
done
echo "fuzz: $(( SECONDS - started )) s of fuzzing"
exit $status
