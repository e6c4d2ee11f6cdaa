#!/usr/bin/env bash
# Partitioned storage at retention scale, against the server the PG*
# variables name, in a database of its own:
#   1. ingest makes today's partitions on demand (a fresh install has none);
#   2. with 90 daily partitions holding sessions, every per-session read
#      (and delete, and cancel) touches only its session's partition: the
#      plans are those of the real calls, nested statements included (the
#      C functions' SPI queries, the foreign-key cascades), taken with
#      auto_explain as NOTICEs;
#   3. retention of a day of N stored bytes (incompressible) writes at most
#      1 MB + 1% of N of WAL, measured by pg_current_wal_lsn() after a
#      checkpoint; the same day deleted row by row is shown beside it;
#   4. a day whose partition a long read holds is kept (with its sessions
#      and every later day) and dropped by the next run.
set -euo pipefail
db=dozor_partitions
export PGOPTIONS="-c client_min_messages=warning"
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
q() { psql -qAtX -v ON_ERROR_STOP=1 -d $db "$@"; }
. "$(dirname "$0")/../lib/plans.sh"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# A batch of n events carrying `len` hex characters of random text each
# (compresses about 2:1 and no further), with a url, an identity and a
# console entry, so that every feed has something to read.
q <<'SQL'
CREATE EXTENSION dozor;
CREATE FUNCTION body(sid uuid, t0 bigint, n integer, len integer) RETURNS bytea LANGUAGE sql AS $$
    SELECT convert_to(json_build_object(
        'sessionId', sid,
        'metadata', json_build_object('url', 'https://shop.example/', 'referrer', '', 'userAgent', 't',
                                      'screenWidth', 1, 'screenHeight', 1, 'language', 'en'),
        'events', (SELECT json_agg(e ORDER BY i) FROM (
            SELECT i, CASE i % 50
                WHEN 1 THEN json_build_object('type', 5, 'timestamp', t0 + i * 100,
                    'data', json_build_object('tag', 'dozor:url', 'payload',
                        json_build_object('url', 'https://shop.example/p' || i, 'pathname', '/p' || i)))
                WHEN 2 THEN json_build_object('type', 5, 'timestamp', t0 + i * 100,
                    'data', json_build_object('tag', 'dozor:identity', 'payload', json_build_object('userId', 'u1')))
                WHEN 3 THEN json_build_object('type', 6, 'timestamp', t0 + i * 100,
                    'data', json_build_object('plugin', 'rrweb/console@1', 'payload',
                        json_build_object('level', 'error', 'trace', json_build_array(), 'payload', json_build_array('x'))))
                ELSE json_build_object('type', 3, 'timestamp', t0 + i * 100,
                    'data', json_build_object('source', 1, 'r',
                        (SELECT string_agg(md5(random()::text || i || g), '') FROM generate_series(1, len / 32) g)))
                END AS e
            FROM generate_series(1, n) i) x))::text, 'UTF8')
$$;
-- A retention that makes the cutoff UTC midnight d days ago, so that
-- which days are whole does not depend on the time of day.
CREATE FUNCTION ago(d integer) RETURNS interval LANGUAGE sql AS $$
    SELECT now() - (((now() AT TIME ZONE 'UTC')::date - d)::timestamp AT TIME ZONE 'UTC')
$$;
-- A copy of a stored session (every column of its rows) as a session of
-- the day of `created`: how old days are filled without waiting for them.
CREATE FUNCTION clone_session(src bigint, created timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint := dozor_day(created)::bigint * 137438953472 + nextval('dozor.sessions_id_seq');
    tbl text;
    cols text;
BEGIN
    PERFORM dozor_add_day(dozor_day(created));
    FOREACH tbl IN ARRAY ARRAY['sessions', 'event_batches', 'markers'] LOOP
        SELECT string_agg(quote_ident(attname), ', ') INTO cols FROM pg_attribute
        WHERE attrelid = ('dozor.' || tbl)::regclass AND attnum > 0 AND NOT attisdropped
          -- batch ids are kept: markers point at them, and keys are per session
          AND attname NOT IN ('session_id', 'external_id', 'created_at') AND (attname <> 'id' OR tbl = 'event_batches');
        IF tbl = 'sessions' THEN
            EXECUTE format('INSERT INTO dozor.sessions (id, external_id, created_at, %s)
                            SELECT $1, gen_random_uuid(), $2, %1$s FROM dozor.sessions WHERE id = $3', cols)
                USING new_id, created, src;
        ELSE
            EXECUTE format('INSERT INTO dozor.%1$I (session_id, %2$s) SELECT $1, %2$s FROM dozor.%1$I WHERE session_id = $2',
                           tbl, cols)
                USING new_id, src;
        END IF;
    END LOOP;
    RETURN new_id;
END
$$;
SQL
key=$(q -c "SELECT api_key FROM dozor_create_project('partitions')")

# 1. On demand.
before=$(q -c "SELECT count(*) FROM pg_inherits WHERE inhparent IN ('dozor.event_batches'::regclass, 'dozor.markers'::regclass)")
tmpl=$(q -c "SELECT dozor_ingest('$key', body('11111111-2222-4333-8444-555555555555', 1700000000000, 200, 64))")
after=$(q -c "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent IN ('dozor.event_batches'::regclass, 'dozor.markers'::regclass)")
today=$(q -c "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')")
if [ "$before" = 0 ] && [ "$after" = "event_batches_p$today markers_p$today" ]; then
  ok "a fresh install has no partitions; the first ingest made today's ($after)"
else
  bad "on demand: before=$before after=$after"
fi

# 2. 90 days, 20 sessions a day, then the plans.
q >/dev/null <<SQL
SELECT dozor_maintain();
SELECT count(clone_session($tmpl, now() - d * interval '1 day' - g * interval '1 minute'))
FROM generate_series(1, 89) d, generate_series(1, 20) g;
ANALYZE;
SQL
parts=$(q -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'dozor.event_batches'::regclass")
echo "     $parts partitions of dozor.event_batches ($(q -c "SELECT count(*) FROM dozor.sessions") sessions)"
[ "$parts" -ge 90 ] || bad "expected at least 90 partitions, got $parts"

# The partitions of event_batches / markers that the plans of a call read,
# as "relation" lines (auto_explain: every statement, nested ones too).
# A failing call prints ERROR, which the caller reports.
plan_relations() {
  plan_notices $db "$1" | grep -o -E '"Relation Name": "[a-z_0-9]*"|ERROR: .*' | sed 's/.*: "//; s/"$//' | grep -E '^(event_batches|markers|ERROR)' || true
}
# check <name> <sql> <session id>: every partition read is the session's
check_call() {
  local name=$1 sql=$2 sid=$3 rels want
  want=$(q -c "SELECT dozor_partition_name('x', ($sid / 137438953472)::integer)" | sed 's/^x//')
  rels=$(plan_relations "$sql" | sort | uniq -c | sed 's/^ *//')
  if [ -z "$rels" ]; then bad "$name: no partition in its plans"; return; fi
  if grep -q ERROR <<<"$rels"; then bad "$name: $(grep -m1 ERROR <<<"$rels")"; return; fi
  # (a bare parent name is the target of a DELETE, whose scans follow)
  if grep -v -q -E " (event_batches|markers)($want)?\$" <<<"$rels"; then
    bad "$name: reads partitions of other days"; echo "$rels" | sed 's/^/    /'; return
  fi
  ok "$name: only ${want#_p}'s partition ($(tr '\n' ' ' <<<"$rels" | sed 's/ $//'))"
}
old=$(q -c "SELECT id FROM dozor.sessions WHERE id / 137438953472 = dozor_day(now()) - 45 ORDER BY id LIMIT 1")
old2=$(q -c "SELECT id FROM dozor.sessions WHERE id / 137438953472 = dozor_day(now()) - 46 ORDER BY id LIMIT 1")
old3=$(q -c "SELECT id FROM dozor.sessions WHERE id / 137438953472 = dozor_day(now()) - 47 ORDER BY id LIMIT 1")
old3_uuid=$(q -c "SELECT external_id FROM dozor.sessions WHERE id = $old3")
# each call six times: plpgsql and SQL functions switch to a generic plan
# after five, which must prune at run time as well
six() { for _ in 1 2 3 4 5 6; do echo "$1"; done; }
for sid in $old $tmpl; do
  check_call "dozor_history ($sid)" "$(six "SELECT count(*) FROM dozor_history($sid);")" $sid
  check_call "dozor_events ($sid)" "$(six "SELECT length(dozor_events($sid)::text);")" $sid
  check_call "dozor_console ($sid)" "$(six "SELECT count(*) FROM dozor_console($sid);")" $sid
  check_call "dozor_markers ($sid)" "$(six "SELECT count(*) FROM dozor_markers($sid); SELECT count(*) FROM dozor_markers($sid, 'url');")" $sid
  check_call "dozor_session_batches ($sid)" "$(six "SELECT count(*) FROM dozor_session_batches($sid);")" $sid
  check_call "dozor_session_batches, a page ($sid)" \
    "$(six "SELECT count(*) FROM dozor_session_batches($sid, NULL, 1); SELECT count(*) FROM dozor_session_batches($sid, (SELECT next_cursor FROM dozor_session_batches($sid, NULL, 1)), 1);")" $sid
  check_call "dozor_events, a window ($sid)" "$(six "SELECT length(dozor_events($sid, false, 30000, 5000, 1700000005000, 1700000010000)::text);")" $sid
  check_call "dozor_keyframes ($sid)" "$(six "SELECT count(*) FROM dozor_keyframes($sid);")" $sid
  check_call "dozor_to_compressed ($sid)" "$(six "SELECT dozor_to_compressed($sid, 5000);")" $sid
  check_call "dozor_to_real ($sid)" "$(six "SELECT dozor_to_real($sid, 5000);")" $sid
  check_call "dozor_session ($sid)" "$(six "SELECT length(dozor_session($sid)::text);")" $sid
done
check_call "dozor_delete_session" "SELECT dozor_delete_session($old2);" $old2
check_call "dozor_cancel_session" "SELECT dozor_cancel_session('$key', '$old3_uuid');" $old3
[ "$(q -c "SELECT count(*) FROM dozor.sessions WHERE id IN ($old2, $old3)")" = 0 ] || bad "delete/cancel left the session"

# 3. WAL of retention: one day (100 days ago) of 60 sessions of
# incompressible content dropped whole by the owner, and the same day's
# twin (101 days ago) deleted row by row by a project admin, for scale.
big=$(q -c "SELECT dozor_ingest('$key', body('22222222-2222-4333-8444-555555555555', 1700000000000, 100, 4096))")
q <<SQL >/dev/null
SELECT dozor_ingest('$key', body('22222222-2222-4333-8444-555555555555', 1700000100000, 100, 4096));
SELECT count(clone_session($big, date_trunc('day', now() - d * interval '1 day') + g * interval '1 minute'))
FROM generate_series(100, 101) d, generate_series(1, 60) g;
CREATE ROLE regress_wal_admin;
GRANT dozor_admin TO regress_wal_admin;
SELECT dozor_grant(p.id, 'regress_wal_admin', 'admin') FROM dozor.projects p;
SQL
bytes_of_day() {
  q -c "SELECT COALESCE(sum(octet_length(b.data)), 0) FROM dozor.event_batches b
        WHERE b.session_id >= (dozor_day(now()) - $1)::bigint * 137438953472
          AND b.session_id < (dozor_day(now()) - $1 + 1)::bigint * 137438953472"
}
n100=$(bytes_of_day 100)
n101=$(bytes_of_day 101)
# cleanup as <role> with <retention>: prints WAL bytes written
wal_of() {
  q <<SQL | tail -1
CHECKPOINT;
SELECT pg_current_wal_lsn() AS l0 \gset
SET ROLE $1;
SELECT dozor_cleanup(ago($2)) >= 0;
RESET ROLE;
SELECT pg_current_wal_lsn() - :'l0';
SQL
}
wal_rows=$(wal_of regress_wal_admin 100)
left101=$(bytes_of_day 101)
wal_drop=$(wal_of postgres 99)
left100=$(bytes_of_day 100)
limit=$(( 1048576 + n100 / 100 ))
echo "     day of $n100 stored bytes dropped whole: $wal_drop bytes of WAL (target <= $limit)"
echo "     its twin of $n101 bytes deleted row by row: $wal_rows bytes of WAL"
[ "$left101" = 0 ] && [ "$left100" = 0 ] || bad "retention left batches: $left101 / $left100"
[ "$n100" -ge 10000000 ] || bad "the day holds only $n100 bytes (expected >= 10 MB)"
if [ "$wal_drop" -le "$limit" ]; then ok "retention WAL within 1 MB + 1% of the day"; else bad "retention WAL $wal_drop > $limit"; fi

# 4. A read holding a partition: cleanup keeps that day, its sessions and
# every later day, says so, and the next run drops them.
d60=$(q -c "SELECT dozor_partition_name('event_batches', dozor_day(now()) - 60)")
# The reader holds its lock until this script ends it (a loaded machine may
# take seconds to start it, or to run the cleanup): no timing decides.
psql -qX -d $db -c "BEGIN" -c "LOCK TABLE dozor.$d60 IN ACCESS SHARE MODE" -c "SELECT pg_sleep(600)" -c "COMMIT" >/dev/null 2>&1 &
reader=$!
for _ in $(seq 1 600); do
  [ "$(q -c "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
             WHERE c.relname = '$d60' AND l.mode = 'AccessShareLock' AND l.granted AND l.pid <> pg_backend_pid()")" -ge 1 ] && break
  sleep 0.1
done
out=$(q -c "SELECT dozor_cleanup(ago(58))" 2>&1)
left=$(q -c "SELECT count(*) FILTER (WHERE id / 137438953472 < dozor_day(now()) - 60) || ' ' ||
                    count(*) FILTER (WHERE id / 137438953472 BETWEEN dozor_day(now()) - 60 AND dozor_day(now()) - 59)
             FROM dozor.sessions")
orphans=$(q -c "SELECT count(*) FROM dozor.event_batches b WHERE NOT EXISTS (SELECT FROM dozor.sessions s WHERE s.id = b.session_id)")
if grep -q "stay locked" <<<"$out" && [ "$left" = "0 40" ] && [ "$orphans" = 0 ]; then
  ok "a held partition: its day and the next kept (40 sessions), older days dropped, no orphan batch"
else
  bad "held partition: output=[$out] older/kept=[$left] orphans=$orphans"
fi
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'" >/dev/null
wait $reader || true
q -c "SELECT dozor_cleanup(ago(58))" >/dev/null
left=$(q -c "SELECT count(*) FROM dozor.sessions WHERE id / 137438953472 <= dozor_day(now()) - 59")
[ "$left" = 0 ] && ok "the next run dropped them" || bad "the next run left $left sessions"
q -c "REVOKE dozor_admin FROM regress_wal_admin" -c "SELECT dozor_revoke(p.id, 'regress_wal_admin') FROM dozor.projects p" \
  -c "DROP ROLE regress_wal_admin" >/dev/null
exit $fail
