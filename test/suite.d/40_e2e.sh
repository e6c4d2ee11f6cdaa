#!/usr/bin/env bash
# Real rrweb in Debian's Chromium -> examples/http -> dozor -> feeds.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/e2e/run.sh
