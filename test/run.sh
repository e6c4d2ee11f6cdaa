#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine as root or a developer's
# box: installs what is missing, builds and installs the extension, runs the
# C unit tests, then starts a throwaway PostgreSQL and runs everything that
# needs a server (test/suite.sh), and last builds the Debian package,
# installs it and runs pg_regress against it (test/deb.sh). Exits non-zero
# on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -s
make -s install >/dev/null
bash test/symbols.sh
echo "== unit tests (C, ASan+UBSan)"
bash test/unit/run.sh
scripts/with-temp-pg.sh bash test/suite.sh
echo "== Debian package (make deb, apt-get install, pg_regress against it)"
bash test/deb.sh
