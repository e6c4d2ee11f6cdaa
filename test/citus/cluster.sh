#!/usr/bin/env bash
# Runs a command against a throwaway Citus cluster of its own: a coordinator
# and two workers, three PostgreSQL 15 instances on loopback ports, each with
# shared_preload_libraries = 'citus', the workers added to the coordinator.
#   test/citus/cluster.sh command args...
# PG* point the command at the coordinator's database "postgres";
# DOZOR_CITUS_PORTS holds the three ports (coordinator first) and
# DOZOR_CITUS_DIR the cluster's directory. Citus keeps its metadata per
# database: every database named in DOZOR_CITUS_DBS (besides postgres) is
# made on every node and set up the same way. As root the servers run as
# "postgres" (scripts/with-temp-pg.sh does the same). Everything is removed
# when the command ends (DOZOR_CITUS_KEEP=1 keeps the directory).
set -euo pipefail
bindir=$(pg_config --bindir)
run_as=()
if [ "$(id -u)" = 0 ]; then run_as=(runuser -u postgres --); fi
dir=$(mktemp -d /tmp/dozor-citus.XXXXXX)
chmod 755 "$dir"
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
ports=()
names=(coord w1 w2)
cleanup() {
  for n in "${names[@]}"; do
    if [ -d "$dir/$n" ]; then "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/$n" -m immediate stop >/dev/null 2>&1 || true; fi
  done
  [ -n "${DOZOR_CITUS_KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
dbs=(postgres ${DOZOR_CITUS_DBS:-})
for n in "${names[@]}"; do
  p=$(free_port)
  ports+=("$p")
  "${run_as[@]}" "$bindir/initdb" -D "$dir/$n" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/$n.initdb.log" 2>&1 \
    || { cat "$dir/$n.initdb.log"; exit 1; }
  # max_prepared_transactions: Citus commits multi-node writes in two phases
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/$n" -l "$dir/$n.log" -w -t 60 \
    -o "-k $dir -p $p -c listen_addresses=127.0.0.1 -c fsync=off -c shared_preload_libraries=citus -c max_prepared_transactions=100" \
    start >/dev/null || { cat "$dir/$n.log"; exit 1; }
  for db in "${dbs[@]}"; do
    if [ "$db" != postgres ]; then
      psql -qX -v ON_ERROR_STOP=1 -h "$dir" -p "$p" -U postgres -d postgres -c "SET client_min_messages = warning" -c "CREATE DATABASE \"$db\"" >/dev/null
    fi
    psql -qX -v ON_ERROR_STOP=1 -h "$dir" -p "$p" -U postgres -d "$db" \
      -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus" >/dev/null
  done
done
for db in "${dbs[@]}"; do
  psql -qX -v ON_ERROR_STOP=1 -h "$dir" -p "${ports[0]}" -U postgres -d "$db" >/dev/null <<SQL
SET client_min_messages = warning;
SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]});
SELECT citus_add_node('127.0.0.1', ${ports[1]});
SELECT citus_add_node('127.0.0.1', ${ports[2]});
SQL
done
export PGHOST=$dir PGPORT=${ports[0]} PGUSER=postgres PGDATABASE=postgres
export DOZOR_CITUS_PORTS="${ports[*]}" DOZOR_CITUS_DIR=$dir
set +e
"$@"
status=$?
set -e
exit $status
