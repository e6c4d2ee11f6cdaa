#!/usr/bin/env bash
# Fixed libFuzzer run of every fuzz target (test/fuzz/): builds them with
# clang (ASan + UBSan) and runs each for a fixed number of executions from
# -seed=1 and the regenerated seed corpus only (test/fuzz/run.sh --fixed), so
# the verdict does not depend on the machine's speed or on earlier runs.
# About 90 s on 2 cores. Needs no server. FUZZ_SEED picks another seed; long
# and random runs: test/soak.sh and test/fuzz/README.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang-14 >/dev/null && ! command -v clang >/dev/null; then
  # Debian's clang ships libFuzzer; scripts/install-deps.sh takes extra packages
  scripts/install-deps.sh clang-14
fi
bash test/fuzz/run.sh --fixed --seed "${FUZZ_SEED:-1}"
