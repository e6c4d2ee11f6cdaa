#!/usr/bin/env bash
# dozor on a Citus cluster (coordinator + 2 workers on loopback) against a
# single node fed the same payloads: test/citus/run.sh. It starts its own
# servers; the suite's server is not used. Builds Citus from the vendored
# source when it is missing (a few minutes, once); without it and without
# the installer it prints SKIP, which fails under CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/citus/run.sh
