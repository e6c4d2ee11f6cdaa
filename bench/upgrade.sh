#!/usr/bin/env bash
# What the upgrade from a release costs on a large store.
# A benchmark, not a test: figures depend on the machine.
#
#   bench/upgrade.sh                      # 0.1.0 -> this build, ~1.1 GB store
#   BENCH_UPG_COPIES=1300 bench/upgrade.sh  # twice that (each copy ~1.9 MB)
#
# Builds the release from git history into a private copy of the PostgreSQL
# on PATH (test/upgrade/lib.sh), starts a throwaway cluster on it, and
# bulk-loads a store:
#   1. a template of 20 sessions x 4 batches of 500 events is ingested with
#      dozor_ingest (real rows: per-batch index, markers, activity, users);
#      every batch carries a FullSnapshot of ~24 KB of random text, so its
#      gzip does not shrink (as the stored gzip of real DOM snapshots does
#      not shrink further): ~23 KB stored per batch;
#   2. the template is copied BENCH_UPG_COPIES times (default 650) with
#      INSERT ... SELECT: new session and batch ids from the sequences, new
#      external ids, markers re-pointed, created_at spread over 90 days (so
#      a store partitioned by creation day fills 90 days); event
#      timestamps stay as ingested, since each batch's index is checked
#      against them.
# Then it checkpoints, installs this build over the release (the library
# swap), and runs ALTER EXTENSION dozor UPDATE while
#   - a sampler (one connection, 20 ms) records which locks the upgrading
#     backend holds or waits for, and
#   - three probes call dozor_ingest (a new session each time; a session
#     stored before) and dozor_history (a stored session) back to back, each call a new
#     connection, before the swap, between the swap and the ALTER, during
#     it and after it.
# It prints the store, the upgrade's time and WAL, every lock with how long
# it was held, and the probes' calls, errors and slowest call per phase.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/upgrade/lib.sh

from=${BENCH_UPG_FROM:-0.1.0}
from_tag=${BENCH_UPG_TAG:-v0.1.0}
from_hash=${BENCH_UPG_HASH:-0d66fdc}
copies=${BENCH_UPG_COPIES:-650}

if [ -z "${DOZOR_BENCH_UPG_INSIDE:-}" ]; then
  work=$(mktemp -d /tmp/dozor-bench-upg.XXXXXX)
  chmod 755 "$work"
  trap 'rm -rf "$work"' EXIT
  commit=$(upg_release_commit "$from_tag" "$from_hash")
  bindir=$(upg_pg_copy "$work/pg")
  echo "bench upgrade: building $from ($commit) into a private PostgreSQL copy"
  upg_install_release "$commit" "$work/build" "$bindir/pg_config"
  PATH=$bindir:$PATH DOZOR_BENCH_UPG_INSIDE=1 BENCH_UPG_WORK=$work BENCH_UPG_PGCONFIG=$bindir/pg_config \
    scripts/with-temp-pg.sh -o shared_buffers=1GB -o max_wal_size=32GB -o checkpoint_timeout=1h \
      -o maintenance_work_mem=512MB -o work_mem=64MB \
      bash bench/upgrade.sh
  exit
fi

# ---------------------------------------------------------------- inside
work=$BENCH_UPG_WORK
export PGOPTIONS="-c client_min_messages=warning"
q() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
db=bench
q -d postgres -c "CREATE DATABASE $db"
export PGDATABASE=$db
q -c "CREATE EXTENSION dozor"
echo "bench upgrade: dozor $(q -c "SELECT extversion FROM pg_extension WHERE extname = 'dozor'") installed"

t=$(now_ms)
q >/dev/null <<'SQL'
\i test/upgrade/gen.sql
CREATE TABLE upg_keys (project text PRIMARY KEY, api_key text NOT NULL);
INSERT INTO upg_keys SELECT p, (SELECT api_key FROM dozor_create_project(p)) FROM unnest(ARRAY['shop', 'blog']) p;
-- ~24 KB of random base64 text (incompressible to gzip, like a stored
-- snapshot), seeded: the same store every run
SELECT setseed(0.42);
CREATE TEMP TABLE noise AS
SELECT n, encode(string_agg(decode(md5(random()::text), 'hex'), '' ORDER BY k), 'base64') AS txt
FROM generate_series(1, 80) n, generate_series(1, 1100) k GROUP BY n;
-- 20 sessions of 4 batches of 500 events: snapshot, url marker, console,
-- identify every fifth session, interaction
SELECT pg_temp.send(CASE WHEN s % 2 = 0 THEN 'shop' ELSE 'blog' END, 1000 + s, concat_ws(',',
           pg_temp.url(t, '/p/' || b), pg_temp.meta(t + 1, 'https://shop.example/p/' || b),
           replace(pg_temp.full(t + 2, 'x'), md5('x') || ' ' || md5('x' || 'x'),
                   (SELECT translate(txt, E'\n', '') FROM noise WHERE n = s * 4 + b - 4)),
           pg_temp.con(t + 3, CASE b WHEN 1 THEN 'error' ELSE 'log' END, '["bench"]'),
           CASE WHEN s % 5 = 0 AND b = 2 THEN pg_temp.ident(t + 4, 'bench-user-' || s, '{"plan":"pro"}') END,
           pg_temp.activity(t + 100, 490, 100)),
       CASE WHEN b = 1 OR (s % 5 = 0 AND b = 3) THEN pg_temp.metadata('https://shop.example/p/1',
            CASE WHEN s % 5 = 0 AND b = 3 THEN 'bench-user-' || s END) END)
FROM generate_series(1, 20) s, generate_series(1, 4) b,
     LATERAL (SELECT 1741942800000 + s * 3600000::bigint + (b - 1) * 60000 AS t) x
ORDER BY s, b;
SQL
echo "bench upgrade: template ingested ($(q -c "SELECT count(*) || ' batches, ' || pg_size_pretty(sum(length(data))) || ' gzip' FROM dozor.event_batches")) in $(( $(now_ms) - t )) ms"

# The copies, 25 per statement. jsonb_populate_record overrides the listed
# columns of a template row and keeps the others, whatever they are.
q >/dev/null <<'SQL'
CREATE TABLE bench_template_sessions AS SELECT * FROM dozor.sessions;
CREATE TABLE bench_template_batches AS SELECT * FROM dozor.event_batches;
CREATE TABLE bench_template_markers AS SELECT * FROM dozor.markers;
CREATE PROCEDURE bench_copy(k1 integer, k2 integer) LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE smap ON COMMIT DROP AS
    SELECT s.id AS old_id, k, nextval('dozor.sessions_id_seq') AS new_id
    FROM bench_template_sessions s, generate_series(k1, k2) k;
    CREATE TEMP TABLE bmap ON COMMIT DROP AS
    SELECT b.id AS old_id, m.k, m.new_id AS session_id, nextval('dozor.event_batches_id_seq') AS new_id
    FROM bench_template_batches b JOIN smap m ON m.old_id = b.session_id;
    INSERT INTO dozor.sessions
    SELECT (jsonb_populate_record(s, jsonb_build_object(
        'id', m.new_id,
        'external_id', overlay(overlay(md5(s.external_id::text || ':' || m.k) placing '4' from 13) placing '8' from 17)::uuid,
        'created_at', now() - (m.k % 90) * interval '1 day' - (m.k * 7919 % 86400) * interval '1 second'))).*
    FROM smap m JOIN bench_template_sessions s ON s.id = m.old_id;
    INSERT INTO dozor.event_batches
    SELECT (jsonb_populate_record(b, jsonb_build_object('id', m.new_id, 'session_id', m.session_id,
        'received_at', now() - (m.k % 90) * interval '1 day'))).*
    FROM bmap m JOIN bench_template_batches b ON b.id = m.old_id;
    INSERT INTO dozor.markers
    SELECT (jsonb_populate_record(r, jsonb_build_object('id', nextval('dozor.markers_id_seq'),
        'session_id', m.new_id, 'batch_id', bm.new_id))).*
    FROM bench_template_markers r JOIN smap m ON m.old_id = r.session_id
    LEFT JOIN bmap bm ON bm.old_id = r.batch_id AND bm.k = m.k;
END $$;
SQL
t=$(now_ms)
for ((k = 1; k <= copies; k += 25)); do
  q -c "CALL bench_copy($k, $(( k + 24 < copies ? k + 24 : copies )))"
done
q >/dev/null -c "DROP TABLE bench_template_sessions, bench_template_batches, bench_template_markers" \
  -c "DROP PROCEDURE bench_copy" -c "VACUUM ANALYZE" -c "CHECKPOINT"
echo "bench upgrade: bulk load of $copies copies in $(( ($(now_ms) - t) / 1000 )) s"
psql -qX -v ON_ERROR_STOP=1 -P footer=off <<'SQL'
SELECT (SELECT count(*) FROM dozor.sessions) AS sessions, (SELECT count(*) FROM dozor.event_batches) AS batches,
       (SELECT sum(event_count) FROM dozor.event_batches) AS events, (SELECT count(*) FROM dozor.markers) AS markers,
       pg_size_pretty((SELECT sum(length(data)) FROM dozor.event_batches)) AS gzip_stored,
       pg_size_pretty(pg_total_relation_size('dozor.event_batches')) AS event_batches_on_disk,
       pg_size_pretty(pg_database_size(current_database())) AS database;
SQL
size_before=$(q -c "SELECT pg_database_size(current_database())")

# ---------------------------------------------------------------- the upgrade
# The lock sampler: a procedure that commits between samples (so that it
# sees pg_stat_activity afresh), until bench_done has a row.
q >/dev/null <<'SQL'
CREATE UNLOGGED TABLE bench_locks (t timestamptz, rel oid, name text, locktype text, mode text, granted boolean);
CREATE TABLE bench_done ();
CREATE PROCEDURE bench_sample() LANGUAGE plpgsql AS $$
DECLARE
    p integer;
BEGIN
    LOOP
        SELECT a.pid INTO p FROM pg_stat_activity a WHERE a.application_name = 'dozor-upgrade';
        IF p IS NOT NULL THEN
            INSERT INTO bench_locks
            SELECT clock_timestamp(), l.relation,
                   COALESCE(l.relation::regclass::text, pg_describe_object(l.classid, l.objid, l.objsubid)),
                   l.locktype, l.mode, l.granted
            FROM pg_locks l
            WHERE l.pid = p AND l.locktype IN ('relation', 'object', 'advisory')
              AND (l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) OR l.database = 0);
        ELSIF EXISTS (SELECT FROM bench_done) THEN
            EXIT;
        END IF;
        COMMIT;
        PERFORM pg_sleep(0.02);
    END LOOP;
END $$;
SQL
key=$(q -c "SELECT api_key FROM upg_keys WHERE project = 'shop'")
sample_session=$(q -c "SELECT min(id) FROM dozor.sessions")
old_uuid=$(q -c "SELECT external_id FROM dozor.sessions WHERE id = $sample_session")
phase_file=$work/phase
echo old >"$phase_file"
# probe NAME SQL: calls SQL over and over, one connection each, logging
# "phase start_ms ms ok|error message" until $work/stop exists.
probe() {
  local name=$1 sql=$2 s e out
  while [ ! -e "$work/stop" ]; do
    s=$(now_ms)
    if out=$(psql -qAtX -v ON_ERROR_STOP=1 -c "$sql" 2>&1 >/dev/null); then
      e=$(now_ms); echo "$(cat "$phase_file") $s $((e - s)) ok"
    else
      e=$(now_ms); echo "$(cat "$phase_file") $s $((e - s)) error $(echo "$out" | head -1)"
    fi
  done >"$work/probe.$name"
}
# ingest_sql UUID_SQL: one call of dozor_ingest with a one-event batch of
# that session; the timestamp makes every batch new
ingest_sql() {
  echo "SELECT dozor_ingest('$key', dozor_gzip(convert_to(format('{\"sessionId\":\"%s\",\"events\":[{\"type\":4,\"data\":{\"href\":\"https://shop.example/\"},\"timestamp\":%s}]}', $1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint), 'UTF8')), 'gzip')"
}
# new sessions, and a session stored before the upgrade
probe ingest_new "$(ingest_sql 'gen_random_uuid()')" &
probe_ingest_new=$!
probe ingest_old "$(ingest_sql "'$old_uuid'")" &
probe_ingest_old=$!
probe history "SELECT count(*) FROM dozor_history($sample_session)" &
probe_history=$!
sleep 3
echo swapped >"$phase_file"
t=$(now_ms)
upg_install_current "$BENCH_UPG_PGCONFIG"
echo "bench upgrade: make install of this build (the swap) took $(( $(now_ms) - t )) ms"
sleep 3
q -c "CALL bench_sample()" &
sampler=$!
sleep 0.5
lsn0=$(q -c "SELECT pg_current_wal_lsn()")
echo alter >"$phase_file"
t0=$(now_ms)
PGAPPNAME=dozor-upgrade q -c "ALTER EXTENSION dozor UPDATE"
t1=$(now_ms)
echo after >"$phase_file"
lsn1=$(q -c "SELECT pg_current_wal_lsn()")
q -c "INSERT INTO bench_done DEFAULT VALUES"
wait $sampler
sleep 3
touch "$work/stop"
wait $probe_ingest_new $probe_ingest_old $probe_history

echo
echo "== ALTER EXTENSION dozor UPDATE: $from -> $(q -c "SELECT extversion FROM pg_extension WHERE extname = 'dozor'")"
echo "time:  $(( t1 - t0 )) ms"
echo "WAL:   $(q -c "SELECT pg_size_pretty(pg_wal_lsn_diff('$lsn1', '$lsn0'))") ($(q -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint") bytes)"
echo "database: $(q -c "SELECT pg_size_pretty($size_before::bigint)") before, $(q -c "SELECT pg_size_pretty(pg_database_size(current_database()))") after (before VACUUM)"
echo
echo "== locks the upgrading backend held (sampled every ~20 ms; from / until = ms after ALTER began)"
psql -qX -v ON_ERROR_STOP=1 -P footer=off <<SQL
SELECT COALESCE(c.oid::regclass::text, l.name, l.locktype) AS object, l.mode,
       bool_and(l.granted) AS always_granted,
       round(extract(epoch FROM min(l.t)) * 1000 - $t0) AS from_ms,
       round(extract(epoch FROM max(l.t)) * 1000 - $t0) AS until_ms,
       round(extract(epoch FROM max(l.t) - min(l.t)) * 1000) AS held_ms
FROM bench_locks l LEFT JOIN pg_class c ON c.oid = l.rel
GROUP BY 1, 2
ORDER BY l.mode = 'AccessExclusiveLock' DESC, held_ms DESC, 1
LIMIT 40;
SELECT count(DISTINCT COALESCE(rel::text, name)) AS objects_locked,
       count(DISTINCT COALESCE(rel::text, name)) FILTER (WHERE mode = 'AccessExclusiveLock') AS access_exclusive
FROM bench_locks;
SQL
echo
echo "== probes (each call a new connection): phase old = before the swap, swapped = new library, old SQL,"
echo "   alter = during ALTER EXTENSION, after = after it"
for p in ingest_new ingest_old history; do
  awk -v p=$p '{ n[$1]++; if ($4 != "ok") { err[$1]++; if (!(($1) in msg)) { m = ""; for (i = 5; i <= NF; i++) m = m " " $i; msg[$1] = m } }
                 if ($3 > mx[$1]) mx[$1] = $3; sum[$1] += $3 }
       END { split("old swapped alter after", order, " ")
             for (i = 1; i <= 4; i++) { ph = order[i]; if (!(ph in n)) continue
               printf "%-10s %-8s calls %4d  errors %4d  mean %5d ms  max %6d ms%s\n", p, ph, n[ph], err[ph],
                      sum[ph] / n[ph], mx[ph], (ph in msg ? "  first error:" msg[ph] : "") } }' \
    "$work/probe.$p"
done
