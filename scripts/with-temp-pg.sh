#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL 15 cluster of its own:
#   scripts/with-temp-pg.sh [-o 'guc=value' ...] command args...
# The cluster lives in a fresh temporary directory, listens only on a Unix
# socket there (plus loopback on a free port), trusts local connections, and
# is removed when the command ends. Unlike pg_virtualenv as root, several of
# these can run at once. PG* variables point the command at it.
# As root the server runs as the "postgres" user (it refuses to run as root).
#
# Opt-in, off by default: DOZOR_VALGRIND=1 runs the server under valgrind
# memcheck (see test/valgrind/README.txt), with jit=off. Every server process
# writes vg.PID.log into $dir/valgrind, or into DOZOR_VALGRIND_LOGDIR when
# set (which then outlives the cluster). After the command the server is
# shut down cleanly, test/valgrind/scan.sh reads the logs, and any error with
# a frame in dozor.so makes the exit status non-zero. DOZOR_VALGRIND_OPTS adds
# valgrind options (e.g. --track-origins=yes).
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
start_opts=(-t 60)
valgrind=${DOZOR_VALGRIND:-0}
if [ "$valgrind" = 1 ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  vgdir=${DOZOR_VALGRIND_LOGDIR:-$dir/valgrind}
  mkdir -p "$vgdir"
  [ "$(id -u)" = 0 ] && chown postgres "$vgdir"
  cp "$root/test/valgrind/postgres.supp" "$dir/postgres.supp"
  # pg_ctl -p starts this in place of postgres; exec keeps the PID pg_ctl
  # waits for. Backends are forks of the postmaster, which memcheck follows
  # anyway; %p gives each process its own log. -v gives warnings such as
  # "invalid file descriptor in close()" a stack; --fullpath-after= gives
  # frames their full source path, by which scan.sh knows dozor's.
  cat >"$dir/postgres-valgrind" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --trace-children=yes --leak-check=no -v --vgdb=no \\
  --num-callers=40 --gen-suppressions=all --suppressions=$dir/postgres.supp \\
  --fullpath-after= --log-file=$vgdir/vg.%p.log \\
  ${DOZOR_VALGRIND_OPTS:-} $bindir/postgres "\$@"
EOF
  chmod 755 "$dir/postgres-valgrind"
  start_opts=(-t 600 -p "$dir/postgres-valgrind")
  # LLVM JIT under memcheck is slow and tests LLVM, not dozor; -o jit=on
  # (given later) still wins.
  opts=(-c jit=off "${opts[@]}")
fi
"${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log"; exit 1; }
"${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w "${start_opts[@]}" \
  -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off ${opts[*]:-}" start >/dev/null \
  || { cat "$dir/server.log"; exit 1; }
export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
export DOZOR_PG_LOG=$dir/server.log DOZOR_PG_DATA=$dir/data
set +e
"$@"
status=$?
set -e
if [ "$valgrind" = 1 ]; then
  # A clean shutdown, so that every process has finished its log.
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 600 stop >/dev/null || true
  bash "$root/test/valgrind/scan.sh" "$vgdir" || { [ "$status" != 0 ] || status=1; }
fi
exit $status
