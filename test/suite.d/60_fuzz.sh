#!/usr/bin/env bash
# Short libFuzzer run of every fuzz target (test/fuzz/): builds them with
# clang (ASan + UBSan) and fuzzes each for FUZZ_SECONDS (default 10 s; the
# whole step stays under 3 minutes). Needs no server. The long run is
# documented in test/fuzz/README.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang-14 >/dev/null && ! command -v clang >/dev/null; then
  # Debian's clang ships libFuzzer; scripts/install-deps.sh takes extra packages
  scripts/install-deps.sh clang-14
fi
bash test/fuzz/run.sh "${FUZZ_SECONDS:-10}"
