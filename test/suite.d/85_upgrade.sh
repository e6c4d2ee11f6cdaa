#!/usr/bin/env bash
# The upgrade from every release to this build: see
# test/upgrade/run.sh. It builds the releases from git history into a
# private PostgreSQL copy and starts its own cluster on it, so the suite's
# server is not used and nothing is installed outside a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/upgrade/run.sh
