#!/usr/bin/env bash
# End-to-end test: real rrweb in Debian's Chromium → examples/http → dozor.
#
# Needs a running PostgreSQL reachable through the PG* variables, on which the
# dozor extension is installed (`make install`). Installs what is missing
# (chromium from apt, the npm packages of test/e2e and examples/http), creates
# a fresh database with the extension, starts the HTTP layer on a free
# loopback port, records the scenarios and checks them. Exits non-zero on any
# failed check. Screenshots and sizes land in test/e2e/out/.
#
#   test/e2e/run.sh                 # KEEP_DB=1 keeps the database afterwards
#   DOZOR_E2E_DB=name test/e2e/run.sh   # in that existing database instead
#                                        (kept; test/citus/run.sh uses it on a
#                                        distributed one)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
http_dir="$root/examples/http"
export DEBIAN_FRONTEND=noninteractive

say() { printf '== %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  say "installing chromium (apt)"
  as_root apt-get update -qq
  as_root apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "installing nodejs and npm (apt)"
  as_root apt-get update -qq
  as_root apt-get install -y -qq nodejs npm >/dev/null
fi

# npm ci when node_modules is missing or older than the lock file.
npm_deps() {
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "npm ci in ${dir#"$root"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_deps "$here"
npm_deps "$http_dir"

# A fresh database with the extension.
admin_db=postgres
psql -X -d "$admin_db" -Atqc 'SELECT 1' >/dev/null 2>&1 || admin_db=template1
if ! psql -X -d "$admin_db" -Atqc 'SELECT 1' >/dev/null; then
  echo "run.sh: cannot reach PostgreSQL through the PG* variables (PGHOST=${PGHOST:-} PGPORT=${PGPORT:-})" >&2
  exit 2
fi
db=${DOZOR_E2E_DB:-}
if [ -n "$db" ]; then
  KEEP_DB=1
  say "using database $db"
else
  db="dozor_e2e_$$_$(date +%s)"
  say "creating database $db"
  psql -X -d "$admin_db" -qc "CREATE DATABASE $db" >/dev/null
fi
server_pid=
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ "${KEEP_DB:-0}" = 1 ]; then
    say "kept database $db"
  else
    psql -X -d "$admin_db" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap cleanup EXIT
export PGDATABASE="$db"
psql -X -v ON_ERROR_STOP=1 -qc 'CREATE EXTENSION IF NOT EXISTS dozor' >/dev/null

# The HTTP layer on a free loopback port (PORT=0: the kernel picks one).
mkdir -p "$here/out"
log="$here/out/http.log"
# made here: the background job opens it only when it gets to run, and the
# loop below may read it first
: >"$log"
PORT=0 HOST=127.0.0.1 node "$http_dir/server.js" >"$log" 2>&1 &
server_pid=$!
api=
for _ in $(seq 1 100); do
  api=$(sed -n 's/^dozor http listening on \(http:[^ ]*\).*/\1/p' "$log")
  [ -n "$api" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$api" ] || { echo "run.sh: the HTTP layer did not start" >&2; cat "$log" >&2; exit 1; }
say "HTTP layer at $api (log: ${log#"$root"/})"

cd "$here"
DOZOR_API="$api" node run.js
# The replay page (examples/http/replay.html) on the same server and database.
DOZOR_API="$api" node replay.js
