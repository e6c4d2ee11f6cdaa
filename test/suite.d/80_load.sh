#!/usr/bin/env bash
# Short load and fault run (test/load/load.sh --short): parallel pgbench
# ingest and reads with exact verification, an immediate shutdown in the
# middle of an ingest run, and a pg_dump/pg_restore round trip. Under 4
# minutes; `test/load/load.sh` without --short is the long variant.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || scripts/install-deps.sh nodejs
bash test/load/load.sh --short
