#!/usr/bin/env bash
# Everything that needs a running server; expects PG* to point at one
# (test/run.sh provides a throwaway cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== pg_regress"
if ! make -s installcheck; then
  cat regression.diffs 2>/dev/null || true
  exit 1
fi
echo "== concurrency"
bash test/concurrency.sh
# Further server-side checks, one script per concern, in name order.
for t in test/suite.d/*.sh; do
  [ -e "$t" ] || continue
  echo "== $(basename "$t" .sh)"
  bash "$t"
done
