#!/usr/bin/env bash
# Cancelled and erased sessions stay gone under concurrency (tombstones
# and erasure). Fixed seed (TOMB_SEED), so every machine runs the same
# rounds; only the interleaving is the scheduler's, and every interleaving
# must pass.
#
# Cancel: per round, CLIENTS clients send BATCHES batches each of one
# session (plain and gzip bodies, some carrying an identity) while another
# client cancels it after a seeded delay; in half the rounds the session
# exists before, in the other half the cancel may overtake its first batch.
# Right after the cancel commits no row of the session exists; after every
# client is done none has appeared; late batches (plain, gzip) return NULL.
#
# Erase: per round, a user with two sessions (and a namesake in another
# project); clients keep sending batches of one of them, with and without
# the identity, and of a third session that identifies as the user midway,
# while another client erases the user. The erased sessions are gone and
# stay gone, no tombstoned session has a row, the namesake is untouched,
# and nothing deadlocks.
# Runs against the server the PG* variables name, in a database of its own.
# (Without the lock of dozor_lock most rounds end with the session back.)
set -euo pipefail
seed=${TOMB_SEED:-1109}
rounds=${TOMB_ROUNDS:-16}
clients=${CLIENTS:-4}
batches=${BATCHES:-8}
db=dozor_tombstone_race
export PGOPTIONS="-c client_min_messages=warning"
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
out=$(mktemp -d /tmp/dozor-tomb.XXXXXX)
trap 'rm -rf "$out"; psql -qX -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT

psql -qX -v ON_ERROR_STOP=1 -d $db <<'SQL'
CREATE EXTENSION dozor;
-- One SDK batch: two events and a url marker, metadata, optionally an
-- identity; distinct per (client, batch) so none is a retry of another.
CREATE FUNCTION race_body(sid uuid, c int, i int, user_id text DEFAULT NULL) RETURNS bytea
LANGUAGE sql AS $$
    SELECT convert_to(json_build_object(
        'sessionId', sid,
        'events', json_build_array(
            json_build_object('type', 3, 'timestamp', 1700000000000 + c * 1000 + i, 'data', json_build_object('c', c, 'i', i)),
            json_build_object('type', 5, 'timestamp', 1700000000000 + c * 1000 + i,
                              'data', json_build_object('tag', 'dozor:url', 'payload',
                                      json_build_object('url', 'https://r.test/' || c, 'pathname', '/' || c)))),
        'metadata', json_build_object('url', 'https://r.test/', 'referrer', '', 'userAgent', 't',
                                      'screenWidth', 1, 'screenHeight', 1, 'language', 'en',
                                      'userIdentity', CASE WHEN user_id IS NULL THEN NULL
                                                      ELSE json_build_object('userId', user_id) END))::text, 'UTF8')
$$;
-- Every row of a project's session uuid: session, batches, markers.
CREATE FUNCTION race_rows(project bigint, sid uuid) RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM dozor.sessions s WHERE s.project_id = project AND s.external_id = sid)
         + (SELECT count(*) FROM dozor.event_batches b JOIN dozor.sessions s ON s.id = b.session_id
            WHERE s.project_id = project AND s.external_id = sid)
         + (SELECT count(*) FROM dozor.markers m JOIN dozor.sessions s ON s.id = m.session_id
            WHERE s.project_id = project AND s.external_id = sid)
$$;
SQL
read -r pa ka < <(psql -qAtX -F ' ' -d $db -c "SELECT project_id, api_key FROM dozor_create_project('race a')")
read -r pb kb < <(psql -qAtX -F ' ' -d $db -c "SELECT project_id, api_key FROM dozor_create_project('race b')")
RANDOM=$seed
fail=0
stored=0
discarded=0
sql() { psql -qAtX -v ON_ERROR_STOP=1 -d $db -c "$1"; }
uuid() { printf 'd%07x-%04x-4000-8000-%012x' "$1" "$2" "$3"; }

# Client c sends its batches of session sid (every third one gzip; with
# user set, every other one identifies); one result line per batch.
client() {
  local sid=$1 c=$2 user=${3:-} i id
  for i in $(seq 1 "$batches"); do
    id=NULL
    if [ -n "$user" ] && [ $(( i % 2 )) = 0 ]; then id="'$user'"; fi
    if [ $(( (c + i) % 3 )) = 0 ]; then
      echo "SELECT coalesce(dozor_ingest('$ka', dozor_gzip(race_body('$sid', $c, $i, $id)), 'gzip')::text, 'null');"
    else
      echo "SELECT coalesce(dozor_ingest('$ka', race_body('$sid', $c, $i, $id))::text, 'null');"
    fi
  done | psql -qAtX -v ON_ERROR_STOP=1 -d $db
}

# Runs the clients and, after delay_ms, one statement; waits for all;
# $out/c*.log hold the clients' results, $out/last.log the statement's.
race() {
  local delay_ms=$1 stmt=$2; shift 2
  local pids=() c=0 spec
  for spec in "$@"; do
    c=$(( c + 1 ))
    # shellcheck disable=SC2086
    client $spec >"$out/c$c.log" 2>"$out/c$c.err" & pids+=($!)
  done
  { sleep "$(printf '0.%03d' "$delay_ms")"; psql -qAtX -v ON_ERROR_STOP=1 -d $db -c "$stmt"; } \
    >"$out/last.log" 2>"$out/last.err" & pids+=($!)
  local p status=0
  for p in "${pids[@]}"; do wait "$p" || status=1; done
  if [ $status != 0 ]; then
    echo "FAIL round $round: a client failed:"; cat "$out"/*.err | head -5; fail=1
  fi
  stored=$(( stored + $(cat "$out"/c*.log | grep -c '^[0-9]' || true) ))
  discarded=$(( discarded + $(cat "$out"/c*.log | grep -c '^null$' || true) ))
}

if_odd() { if [ $(( $1 % 2 )) = 1 ]; then echo "$2"; fi; }

check() {  # check <what> <got> <want>
  if [ "$2" != "$3" ]; then echo "FAIL round $round: $1: got '$2', want '$3'"; fail=1; fi
}

echo "tombstone race: seed $seed, $rounds rounds of $clients clients x $batches batches"
for round in $(seq 1 "$rounds"); do
  sid=$(uuid "$seed" "$round" 1)
  if [ $(( RANDOM % 2 )) = 0 ]; then
    sql "SELECT dozor_ingest('$ka', race_body('$sid', 0, 0))" >/dev/null
  fi
  specs=()
  for c in $(seq 1 "$clients"); do specs+=("$sid $c $(if_odd $(( c + 1 )) "u$round")"); done
  race $(( RANDOM % 60 )) \
    "SELECT dozor_cancel_session('$ka', '$sid'); SELECT race_rows($pa, '$sid');" "${specs[@]}"
  check "rows right after the cancel committed" "$(tail -n 1 "$out/last.log")" 0
  check "rows after the clients finished" "$(sql "SELECT race_rows($pa, '$sid')")" 0
  check "late plain, late gzip" "$(sql "SELECT coalesce(dozor_ingest('$ka', race_body('$sid', 9, 1))::text, 'null') || ' ' ||
      coalesce(dozor_ingest('$ka', dozor_gzip(race_body('$sid', 9, 2)), 'gzip')::text, 'null')")" "null null"
  check "rows after late batches" "$(sql "SELECT race_rows($pa, '$sid')")" 0
done
echo "  cancel: $stored batches stored before a cancel, $discarded discarded after one"
[ "$stored" -gt 0 ] && [ "$discarded" -gt 0 ] || { echo "FAIL: the rounds never raced (stored $stored, discarded $discarded)"; fail=1; }

stored=0
discarded=0
for round in $(seq 1 "$rounds"); do
  user="erase-$round"
  s1=$(uuid "$seed" "$round" 2); s2=$(uuid "$seed" "$round" 3); s3=$(uuid "$seed" "$round" 4)
  sql "SELECT dozor_ingest('$ka', race_body('$s1', 0, 0, '$user')), dozor_ingest('$ka', race_body('$s2', 0, 0, '$user')),
              dozor_ingest('$kb', race_body('$s1', 0, 0, '$user'))" >/dev/null
  b_before=$(sql "SELECT race_rows($pb, '$s1') || ' ' || (SELECT count(*) FROM dozor.tracked_users WHERE project_id = $pb AND external_id = '$user')")
  specs=()
  for c in $(seq 1 $(( clients - 1 ))); do specs+=("$s1 $c $(if_odd "$c" "$user")"); done
  specs+=("$s3 $clients $user")
  race $(( RANDOM % 60 )) \
    "SELECT dozor_erase_user($pa, '$user'); SELECT race_rows($pa, '$s1') + race_rows($pa, '$s2');" "${specs[@]}"
  removed=$(head -n 1 "$out/last.log")
  [ "$removed" -ge 2 ] 2>/dev/null || check "sessions removed (at least s1 and s2)" "$removed" ">= 2"
  check "rows of s1, s2 right after the erasure committed" "$(tail -n 1 "$out/last.log")" 0
  check "rows of s1, s2 after the clients finished" "$(sql "SELECT race_rows($pa, '$s1') + race_rows($pa, '$s2')")" 0
  check "tombstoned sessions with rows" "$(sql "SELECT count(*) FROM dozor.session_tombstones t
      JOIN dozor.sessions s ON s.project_id = t.project_id AND s.external_id = t.external_id")" 0
  # s3 identified before the erasure (erased, tombstoned) or after it (a
  # new user's session): never half of each
  check "s3 erased whole or kept whole" "$(sql "SELECT CASE
      WHEN EXISTS (SELECT FROM dozor.session_tombstones WHERE project_id = $pa AND external_id = '$s3')
      THEN CASE WHEN race_rows($pa, '$s3') = 0 THEN 'ok' ELSE 'tombstoned, with rows' END
      WHEN EXISTS (SELECT FROM dozor.sessions s JOIN dozor.tracked_users u ON u.id = s.tracked_user_id
                   WHERE s.project_id = $pa AND s.external_id = '$s3' AND u.external_id = '$user') THEN 'ok'
      ELSE 'neither erased nor linked to the user' END")" ok
  check "the other project's namesake" "$(sql "SELECT race_rows($pb, '$s1') || ' ' || (SELECT count(*) FROM dozor.tracked_users WHERE project_id = $pb AND external_id = '$user')")" "$b_before"
done
echo "  erase: $stored batches stored around an erasure, $discarded discarded after one"
[ "$stored" -gt 0 ] && [ "$discarded" -gt 0 ] || { echo "FAIL: the rounds never raced (stored $stored, discarded $discarded)"; fail=1; }
[ $fail = 0 ] && echo "tombstone race: ok"
exit $fail
