#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL 15 cluster of its own:
#   scripts/with-temp-pg.sh [-o 'guc=value' ...] command args...
# The cluster lives in a fresh temporary directory, listens only on a Unix
# socket there (plus loopback on a free port), trusts local connections, and
# is removed when the command ends. Unlike pg_virtualenv as root, several of
# these can run at once. PG* variables point the command at it.
# As root the server runs as the "postgres" user (it refuses to run as root).
set -euo pipefail
opts=()
while [ "${1:-}" = "-o" ]; do opts+=(-c "$2"); shift 2; done
bindir=$(pg_config --bindir)
run_as=()
if [ "$(id -u)" = 0 ]; then run_as=(runuser -u postgres --); fi
dir=$(mktemp -d /tmp/dozor-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
       || echo $(( 20000 + RANDOM % 20000 )))
cleanup() {
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log"; exit 1; }
"${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off ${opts[*]:-}" start >/dev/null \
  || { cat "$dir/server.log"; exit 1; }
export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
export DOZOR_PG_LOG=$dir/server.log DOZOR_PG_DATA=$dir/data
set +e
"$@"
status=$?
set -e
exit $status
