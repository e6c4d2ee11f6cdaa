#!/usr/bin/env bash
# Reads on a hot standby: against the server the PG* variables name (the
# primary; DOZOR_PG_DATA is its data directory), in a database of its own:
#   1. pg_basebackup -R a streaming standby, start it on a free loopback
#      port, then ingest fixed sessions (test/upgrade/ingest_old.sql's
#      generated ones and the recorded sample), which reach it by streaming;
#   2. once it has replayed to the primary's current LSN, every read and
#      dashboard function (test/upgrade/capture.sql plus
#      test/standby/extra.sql) gives byte-identical output on both, as the
#      superuser and as a viewer of one project (row-level security);
#   3. writes (ingest, maintain, cleanup) fail on the standby with SQLSTATE
#      25006 (read_only_sql_transaction), nothing else.
# The standby is stopped and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=dozor_standby
export PGOPTIONS="-c client_min_messages=warning"
. test/standby/lib.sh
# ingest_old.sql makes the role upg_viewer; it goes again if it is ours
viewer_was=$(psql -qAtX -d postgres -c "SELECT count(*) FROM pg_roles WHERE rolname = 'upg_viewer'")
cleanup() {
  sb_stop
  psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  [ "$viewer_was" != 0 ] || psql -qX -d postgres -c "DROP ROLE IF EXISTS upg_viewer" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q() { psql -qAtX -v ON_ERROR_STOP=1 -d $db "$@"; }
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# --- 1. a standby of the primary, then the store, which reaches the
# standby by streaming (partition creation included)
start=$(date +%s)
q -c "CREATE EXTENSION dozor"
# the standby (files under /tmp, like the primary's)
sb_start "$(mktemp -d /tmp/dozor-standby.XXXXXX)"
echo "standby up after $(( $(date +%s) - start )) s"

q -f test/upgrade/ingest_old.sql >/dev/null
key=$(q -c "SELECT api_key FROM upg_keys WHERE project = 'shop'")
sb_ingest_sample $db "$key"

# capture.sql defines its helpers as temporary objects, which a standby
# cannot create: its CREATE statements are made here once, as objects of
# schema sbt (replicated with the rest), and the reads run on both sides.
awk -v defs="$sb/defs.sql" -v reads="$sb/reads.sql" '
  /^CREATE (FUNCTION|TEMP VIEW)/ { indef = 1 }
  { print > (indef ? defs : reads) }
  indef && (/\$\$;$/ || /^CREATE TEMP VIEW .*;$/) { indef = 0 }' test/upgrade/capture.sql
sed -i -e 's/pg_temp\./sbt./g' -e 's/^CREATE TEMP VIEW ids /CREATE VIEW sbt.ids /' "$sb/defs.sql"
sed -i -e 's/pg_temp\./sbt./g' -e 's/\bids i\b/sbt.ids i/g' "$sb/reads.sql"
cat test/standby/extra.sql >>"$sb/reads.sql"
# (a changed capture.sql must not silently run a half of itself)
if [ "$(grep -c '^CREATE' "$sb/defs.sql")" != 3 ] || grep -qiE 'pg_temp|^CREATE|\b(FROM|JOIN) ids\b' "$sb/reads.sql"; then
  echo "FAIL test/upgrade/capture.sql no longer splits into 3 definitions and reads: adapt this script"
  exit 1
fi
# every session id, its neighbours (cancelled and deleted ones), two never used
ids=$(q -c "SELECT '{' || string_agg(DISTINCT x::text, ',') || '}' FROM (
              SELECT s.id + d FROM dozor.sessions s, generate_series(-1, 1) d
              UNION ALL VALUES (0), (9223372036854775807)) v(x)")
users="{$(q -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM dozor.tracked_users"),0}"
q -v ids="$ids" -c "CREATE SCHEMA sbt" -f "$sb/defs.sql" \
  -c "GRANT USAGE ON SCHEMA sbt TO upg_viewer" -c "GRANT SELECT ON sbt.ids TO upg_viewer"
echo "store: $(q -c "SELECT format('%s sessions, %s batches, %s events', count(*), sum(batch_count), sum(event_count))
                     FROM (SELECT s.event_count, (SELECT count(*) FROM dozor.event_batches b WHERE b.session_id = s.id)
                           AS batch_count FROM dozor.sessions s) x")"

# --- 2. the same reads on both, once the standby has replayed everything
took=$(sb_replay_wait $db) || { bad "no replay"; exit 1; }
ok "standby replayed to the primary's LSN in $took s"
qsd() { qs -d $db "$@"; }
capture() {  # capture PSQLFN OUT: as the superuser, then as the shop's viewer
  "$1" -q -v ids="$ids" -v users="$users" -P format=unaligned -f "$sb/reads.sql" >"$2.super" &&
  "$1" -q -v ids="$ids" -v users="$users" -P format=unaligned -c "SET ROLE upg_viewer" -f "$sb/reads.sql" >"$2.viewer"
}
capture q "$sb/primary"
capture qsd "$sb/standby"
for who in super viewer; do
  if cmp -s "$sb/primary.$who" "$sb/standby.$who"; then
    ok "standby = primary as $who ($(wc -l <"$sb/primary.$who") lines, $(wc -c <"$sb/primary.$who") bytes)"
  else
    bad "standby and primary differ as $who (first differences):"
    diff "$sb/primary.$who" "$sb/standby.$who" | head -20 | cut -c1-300
  fi
done
# a viewer of one project sees less than the superuser: the policies ran
if cmp -s "$sb/primary.super" "$sb/primary.viewer"; then bad "the viewer saw what the superuser saw"; fi

# --- 3. writes fail as a read-only transaction would
body="dozor_gzip(convert_to('{\"sessionId\":\"00000001-5e55-4001-8001-000000001eef\",\"events\":[]}', 'UTF8'))"
for call in "dozor_ingest('$key', $body, 'gzip')" "dozor_maintain()" "dozor_cleanup('1 day')"; do
  err=$(qsd -v VERBOSITY=verbose -c "SELECT $call" 2>&1 >/dev/null || true)
  case $err in
    *"ERROR:  25006:"*) ok "on the standby ${call%%(*} fails with 25006" ;;
    *) bad "on the standby ${call%%(*}: $(echo "$err" | head -1)" ;;
  esac
done
echo "standby step took $(( $(date +%s) - start )) s"
exit $fail
