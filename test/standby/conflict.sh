#!/usr/bin/env bash
# A measurement, not a test: what retention on the primary does to long
# reads on a hot standby. Starts its own throwaway primary and a streaming
# standby (default max_standby_streaming_delay, 30 s), then, once with
# hot_standby_feedback off and once on:
#   - fills three expired days (200 sessions with a 20 kB batch each);
#   - on the standby starts two long reads: a player's (dozor_events of
#     the recorded sample session in a loop, one statement of READ_S
#     seconds) and a dashboard's (a repeatable-read transaction that lists
#     sessions, stays open READ_S seconds and lists them again);
#   - CLEANUP_AT seconds later runs dozor_cleanup('7 days') on the primary
#     (the three days' partitions are dropped) and VACUUM dozor.sessions
#     (what autovacuum does soon after);
#   - prints how long the standby took to replay the cleanup, and whether
#     each read finished or was cancelled, when, and why.
#   test/standby/conflict.sh           (READ_S=45 CLEANUP_AT=3 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${DOZOR_CONFLICT_INSIDE:-}" ]; then
  DOZOR_CONFLICT_INSIDE=1 exec scripts/with-temp-pg.sh bash test/standby/conflict.sh
fi
read_s=${READ_S:-45} cleanup_at=${CLEANUP_AT:-3}
db=dozor_conflict
export PGOPTIONS="-c client_min_messages=warning"
. test/standby/lib.sh
trap sb_stop EXIT
q() { psql -qAtX -v ON_ERROR_STOP=1 -d $db "$@"; }
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION dozor"
key=$(q -c "SELECT api_key FROM dozor_create_project('shop')")
sb_ingest_sample $db "$key"
q <<'SQL'
-- The player's read: the whole stream of one session, again and again,
-- for the given seconds, as one statement (its locks held throughout).
CREATE FUNCTION player_read(seconds float8) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    sid bigint := (SELECT max(id) FROM dozor.sessions);  -- the sample: today, the newest day
    stop timestamptz := clock_timestamp() + make_interval(secs => seconds);
    n integer := 0;
BEGIN
    WHILE clock_timestamp() < stop LOOP
        PERFORM dozor_events(sid);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
-- Three days ending 10 days ago, 200 sessions each with one 20 kB batch
-- (incompressible bytes: only the drop, never the reads, touches them).
CREATE FUNCTION fill_old_days() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p bigint := (SELECT id FROM dozor.projects);
BEGIN
    FOR d IN dozor_day(now()) - 12 .. dozor_day(now()) - 10 LOOP
        PERFORM dozor_add_day(d);
        WITH s AS (
            INSERT INTO dozor.sessions (id, project_id, external_id, started_at, ended_at, created_at)
            SELECT d::bigint * 137438953472 + nextval('dozor.sessions_id_seq'), p, gen_random_uuid(),
                   t, t + interval '1 minute', t
            FROM generate_series(1, 200) g, LATERAL (SELECT date '1970-01-01' + d + g * interval '1 minute' AS t) x
            RETURNING id, started_at)
        INSERT INTO dozor.event_batches (session_id, first_timestamp, last_timestamp, event_count, data,
                                         raw_bytes, event_index, content_hash, project_id)
        SELECT s.id, extract(epoch FROM s.started_at) * 1000, extract(epoch FROM s.started_at) * 1000 + 60000, 1,
               (SELECT string_agg(sha256(int8send(s.id * 1000 + k)), '') FROM generate_series(1, 640) k),
               20480, '\x', sha256(int8send(s.id)), p
        FROM s;
    END LOOP;
END $$;
SQL
# (log_recovery_conflict_waits: the log says when replay waits on a read)
sb_start "$(mktemp -d /tmp/dozor-conflict.XXXXXX)" log_recovery_conflict_waits=on
out=$sb/out
echo "standby up; reads of ${read_s} s, dozor_cleanup on the primary ${cleanup_at} s into them; max_standby_streaming_delay $(qs -d $db -c "SHOW max_standby_streaming_delay")"

# when FILE's read ended relative to T0, and how
outcome() {
  local f=$1 t0=$2
  local took; took=$(awk -v a="$(cat "$f.end")" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
  if grep -q ERROR "$f.log"; then
    echo "cancelled ${took} s after the cleanup: $(grep -m1 -o 'ERROR: .*' "$f.log" | cut -c1-90); $(grep -m1 -o 'DETAIL: .*' "$f.log")"
  else
    echo "finished ${took} s after the cleanup ($(grep -v '^$' "$f.log" | tail -1 | tr '\n' ' '))"
  fi
}
for fb in off on; do
  qs -d postgres -c "ALTER SYSTEM SET hot_standby_feedback = $fb" -c "SELECT pg_reload_conf()" >/dev/null
  q -c "SELECT fill_old_days()" -c "VACUUM ANALYZE"
  sb_replay_wait $db >/dev/null
  sleep 1   # (the reloaded feedback setting reaches the primary)
  echo "== hot_standby_feedback = $fb: $(q -c "SELECT count(*) FROM dozor.sessions") sessions, $(q -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'dozor.event_batches'::regclass") days"
  ( qs -d $db -v VERBOSITY=verbose -c "SELECT 'player read: ' || player_read($read_s) || ' streams'" >"$out.player.log" 2>&1 || true
    date +%s.%N >"$out.player.end" ) &
  ( qs -d $db -v VERBOSITY=verbose >"$out.list.log" 2>&1 <<SQL || true
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT 'list before: ' || count(*) FROM dozor_sessions(since => NULL, min_events => NULL, min_duration => NULL, page_limit => 1000);
SELECT pg_sleep($read_s);
SELECT 'list after: ' || count(*) FROM dozor_sessions(since => NULL, min_events => NULL, min_duration => NULL, page_limit => 1000);
COMMIT;
SQL
    date +%s.%N >"$out.list.end" ) &
  sleep "$cleanup_at"
  t0=$(date +%s.%N)
  deleted=$(q -c "SELECT dozor_cleanup('7 days')")
  q -c "VACUUM dozor.sessions"
  primary_s=$(sb_since "$t0")
  # (a replay that waits out the delay and then cancels takes ~30 s)
  replay_s=$(sb_replay_wait $db 120)
  echo "primary: dozor_cleanup deleted $deleted sessions (3 days dropped) and VACUUM in ${primary_s} s"
  echo "standby: replayed them $(awk -v a="$replay_s" -v b="$primary_s" 'BEGIN { printf "%.1f", a + b }') s after the cleanup began"
  wait
  echo "player read (one statement): $(outcome "$out.player" "$t0")"
  echo "list read (repeatable read): $(outcome "$out.list" "$t0")"
done
echo "== the standby's log on conflicts"
grep -E 'conflict with recovery|recovery conflict' "$sb/server.log" | sed -E 's/^[0-9-]+ [0-9:.]+ UTC //' | sort | uniq -c | cut -c1-200 || true
