#!/usr/bin/env bash
# Concurrency: many clients ingest batches of one brand-new session at the
# same moment, each batch sent twice (an SDK retry), every batch carrying the
# first-batch metadata. Afterwards there must be exactly one session, one
# initial url marker, every batch once, and exact counts.
# Runs against the server the PG* variables name (test/run.sh starts one).
set -euo pipefail
clients=${CLIENTS:-8}
per_client=${BATCHES_PER_CLIENT:-40}
db=dozor_concurrency
PGOPTIONS="-c client_min_messages=warning" psql -qX -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -qX -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION dozor"
key=$(psql -qAtX -d $db -c "SELECT api_key FROM dozor_create_project('concurrency')")
sid=9e0c6f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6
meta='{"url":"https://shop.example/start","referrer":"","userAgent":"t","screenWidth":1,"screenHeight":1,"language":"en"}'

client() {
  local c=$1
  for i in $(seq 1 "$per_client"); do
    local ts=$(( 1700000000000 + c * 100000 + i * 10 ))
    local body="{\"sessionId\":\"$sid\",\"metadata\":$meta,\"events\":[{\"type\":3,\"timestamp\":$ts,\"data\":{\"c\":$c,\"i\":$i}},{\"type\":5,\"timestamp\":$((ts+1)),\"data\":{\"tag\":\"dozor:step\",\"payload\":{\"c\":$c,\"i\":$i}}},{\"type\":3,\"timestamp\":$((ts+2)),\"data\":{}}]}"
    # each statement is its own transaction; the second is the retry
    echo "SELECT dozor_ingest('$key', convert_to('$body', 'UTF8'));"
    echo "SELECT dozor_ingest('$key', convert_to('$body', 'UTF8'));"
  done | psql -qAtX -v ON_ERROR_STOP=1 -d $db >/dev/null
}
pids=()
for c in $(seq 1 "$clients"); do client "$c" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done

expected_batches=$(( clients * per_client ))
result=$(psql -qAtX -d $db -c "
  SELECT (SELECT count(*) FROM dozor.sessions) || ' ' ||
         (SELECT count(*) FROM dozor.event_batches) || ' ' ||
         (SELECT sum(event_count) FROM dozor.event_batches) || ' ' ||
         (SELECT event_count FROM dozor.sessions) || ' ' ||
         (SELECT count(*) FROM dozor.markers WHERE batch_id IS NULL) || ' ' ||
         (SELECT count(*) FROM dozor.markers WHERE kind = 'step') || ' ' ||
         (SELECT count(*) FROM (SELECT 1 FROM dozor.markers WHERE kind = 'step' GROUP BY data HAVING count(*) > 1) d) || ' ' ||
         (SELECT json_array_length(dozor_events(id)) FROM dozor.sessions)")
want="1 $expected_batches $(( expected_batches * 3 )) $(( expected_batches * 3 )) 1 $expected_batches 0 $(( expected_batches * 3 ))"
echo "concurrency: sessions batches events session.event_count initial_markers step_markers duplicate_markers stream_events"
echo "  got:  $result"
echo "  want: $want"
psql -qX -d postgres -c "DROP DATABASE $db"
[ "$result" = "$want" ]
