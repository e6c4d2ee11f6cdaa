# A streaming standby of the server the PG* variables name, for
# test/suite.d/57_standby.sh and test/standby/conflict.sh (sourced):
#   sb_start DIR [postgres -c options...]  base backup (-R) into DIR/data over
#       loopback, started on a free loopback port; sets sport, qs() reads it
#   sb_stop                                 stops it and removes DIR
#   sb_ingest_sample DB KEY                 the recorded sample session
#       (test/data/sample-session) into DB on the primary, as the SDK sent it
#   sb_replay_wait DB [SECONDS]             waits until it has replayed to
#       the primary's current LSN; prints the seconds it took
# As root the standby runs as postgres, like scripts/with-temp-pg.sh's server.
sb_bindir=$(pg_config --bindir)
sb_as=()
if [ "$(id -u)" = 0 ]; then sb_as=(runuser -u postgres --); fi

sb_start() {
  sb=$1; shift
  mkdir -p "$sb"; chmod 755 "$sb"
  [ "$(id -u)" != 0 ] || chown postgres "$sb"
  # replication connections: initdb's pg_hba allows them; add them if not
  if [ "$(psql -qAtX -d postgres -c "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database)
                AND (type = 'local' OR address = '127.0.0.1')")" -lt 2 ]; then
    printf 'local replication all trust\nhost replication all 127.0.0.1/32 trust\n' >>"$DOZOR_PG_DATA/pg_hba.conf"
    psql -qAtX -d postgres -c "SELECT pg_reload_conf()" >/dev/null
  fi
  "${sb_as[@]}" "$sb_bindir/pg_basebackup" -h 127.0.0.1 -p "$PGPORT" -U postgres -D "$sb/data" -R -X stream -c fast
  sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
          || echo $(( 20000 + RANDOM % 20000 )))
  local o
  o="-k $sb -p $sport -c listen_addresses=127.0.0.1 -c fsync=off -c hot_standby=on"
  for x in "$@"; do o+=" -c $x"; done
  "${sb_as[@]}" "$sb_bindir/pg_ctl" -D "$sb/data" -l "$sb/server.log" -w -t 60 -o "$o" start >/dev/null \
    || { cat "$sb/server.log"; return 1; }
  [ "$(qs -d postgres -c "SELECT pg_is_in_recovery()")" = t ] || { echo "the standby is not in recovery"; return 1; }
}

# psql on the standby, by its socket
qs() { psql -qAtX -v ON_ERROR_STOP=1 -h "$sb" -p "$sport" "$@"; }

sb_stop() {
  [ -n "${sb:-}" ] || return 0
  "${sb_as[@]}" "$sb_bindir/pg_ctl" -D "$sb/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$sb"
}

# seconds since T0 (a `date +%s.%N`), to the millisecond
sb_since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.3f\n", a - b }'; }

sb_replay_wait() {
  local db=$1 limit=${2:-60} target t0
  t0=$(date +%s.%N)
  target=$(psql -qAtX -d "$db" -c "SELECT pg_current_wal_lsn()")
  until [ "$(qs -d "$db" -c "SELECT pg_last_wal_replay_lsn() >= '$target'")" = t ]; do
    if awk -v s="$(sb_since "$t0")" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
      echo "the standby did not replay to $target in $limit s" >&2
      return 1
    fi
    sleep 0.1
  done
  sb_since "$t0"
}

sb_ingest_sample() {
  local body
  for body in test/data/sample-session/batch-*.json.gz; do
    psql -qAtX -v ON_ERROR_STOP=1 -d "$1" -v key="$2" -v body="$(base64 -w0 "$body")" >/dev/null <<'SQL'
SELECT dozor_ingest(:'key', decode(:'body', 'base64'), 'gzip');
SQL
  done
}
