#!/usr/bin/env bash
# Ingest's C pass against the codec alone (issue 12, item 8), on the same
# body, in one run. A benchmark, not a test.
#
#   bench/prepare-cost.sh [rounds]      (default 10 rounds of 20 calls each)
#
#   PREPARE_BODY=file.json.gz   another body (gzip, e.g. a batch of
#                               bench/gen-session.js) instead of the 500-event
#                               body of bench/scale.sh (~165 KB raw, ~32 KB gzip)
#   PREPARE_CALLGRIND=0         skip the instruction counts
#   PREPARE_PROFILE=1           also print callgrind's top functions inside
#                               dozor_prepare_batch (where its time goes)
#
# A: dozor_prepare_batch(body, 'gzip'), everything ingest does in C
#    (inflate, UTF-8 check, JSON validation, event checks and classes, the
#    stored array, deflate at the storage level, digest, batch index).
# B: dozor_gzip(dozor_gunzip(body), 3), the floor's codec work.
# Wall time: each call timed by clock_timestamp() in one backend, A and B
# alternating call by call (the order swapped every round), so load on the
# machine falls on both alike; min / median / max per kind, and A/B.
# Instructions (which load does not change): callgrind in a single-user
# backend, collecting only inside the two SQL functions, CALLS calls each
# after one warm-up call each (compressors are created on first use);
# per-call inclusive instructions of each, and A/B.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DOZOR_BENCH_INNER:-}" ]; then
  make -s >/dev/null && make -s install >/dev/null
  DOZOR_BENCH_INNER=1 exec scripts/with-temp-pg.sh -o jit=off "$0" "$@"
fi
rounds=${1:-10}
n=${N:-20}
calls=${CALLS:-10}
q() { psql -qAtX -v ON_ERROR_STOP=1 "$@"; }
work=$(mktemp -d /tmp/dozor-prepare.XXXXXX)
chmod 777 "$work"  # the single-user backend runs as postgres and writes here
trap 'rm -rf "$work"' EXIT

q -c "CREATE EXTENSION dozor"
q -c "CREATE TABLE bench_ms (kind text, ms double precision)"
if [ -n "${PREPARE_BODY:-}" ]; then
  q -c "CREATE TABLE bench_body AS SELECT decode('$(base64 -w0 "$PREPARE_BODY")', 'base64') AS body"
else
  # The 'old' body of bench/scale-time.sql (k = 1), built the same way.
  q >/dev/null <<'SQL'
\i test/upgrade/gen.sql
SELECT setseed(0.42);
CREATE TABLE bench_body AS
SELECT dozor_gzip(pg_temp.body(100001,
           concat_ws(',', pg_temp.full(t, 'old1'),
                     pg_temp.con(t + 1, 'log', to_json(ARRAY[noise])::text),
                     pg_temp.custom(t + 2, 'bench', dom),
                     pg_temp.activity(t + 100, 497, 100))), 6) AS body
FROM (SELECT 1764547200000 + 60000::bigint AS t) x,
     LATERAL (SELECT encode(string_agg(decode(md5(random()::text || g), 'hex'), ''), 'base64') AS noise
              FROM generate_series(1, 1000) g) y,
     LATERAL (SELECT '[' || string_agg(format('{"type":2,"tagName":"div","attributes":{"class":"card col-%s p-%s"},'
                                              '"childNodes":[{"type":3,"textContent":"Item %s %s","id":%s}],"id":%s}',
                                              g % 12, g % 5, g, left(md5(g::text || 1), 8 + g % 24), 2 * g, 2 * g + 1), ',') || ']' AS dom
              FROM generate_series(1, 600) g) z;
SQL
fi
q -c "SELECT 'body: ' || length(body) || ' bytes gzip, ' || length(dozor_gunzip(body)) || ' raw, '
             || (p).event_count || ' events, stored ' || length((p).data) || ' bytes gzip'
      FROM (SELECT body, dozor_prepare_batch(body, 'gzip') AS p FROM bench_body) s"

q <<SQL
CREATE PROCEDURE bench_round(r integer, n integer) LANGUAGE plpgsql AS \$\$
DECLARE
    body bytea := (SELECT b.body FROM bench_body b);
    t timestamptz;
    kinds text[] := CASE WHEN r % 2 = 0 THEN ARRAY['A', 'B'] ELSE ARRAY['B', 'A'] END;
    k text;
    lab text[] := '{}';
    ms double precision[] := '{}';
BEGIN
    FOR i IN 1..n LOOP
        FOREACH k IN ARRAY kinds LOOP
            t := clock_timestamp();
            IF k = 'A' THEN
                PERFORM dozor_prepare_batch(body, 'gzip');
            ELSE
                PERFORM length(dozor_gzip(dozor_gunzip(body), 3));
            END IF;
            lab := lab || k;
            ms := ms || EXTRACT(epoch FROM clock_timestamp() - t) * 1000;
        END LOOP;
    END LOOP;
    INSERT INTO bench_ms SELECT * FROM unnest(lab, ms);
    COMMIT;
END \$\$;
SQL
# one warm-up round, not recorded
q -c "CALL bench_round(0, 3)" -c "TRUNCATE bench_ms"
for ((r = 0; r < rounds; r++)); do q -c "CALL bench_round($r, $n)"; done

echo "ms per call, wall, one backend ($rounds rounds x $n calls of each, alternating):"
q -F ' ' <<'SQL'
SELECT format('  %-44s %8s %8s %8s', '', 'min', 'median', 'max');
SELECT format('  %-44s %8s %8s %8s',
              CASE kind WHEN 'A' THEN 'A dozor_prepare_batch' ELSE 'B inflate + deflate 3 (the codec)' END,
              round(min(ms)::numeric, 3), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3),
              round(max(ms)::numeric, 3))
FROM bench_ms GROUP BY kind ORDER BY kind;
SELECT format('  A/B median %s, A - B median %s ms',
              round((a / b)::numeric, 3), round((a - b)::numeric, 3))
FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE kind = 'A') AS a,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE kind = 'B') AS b FROM bench_ms) s;
SQL

if [ "${PREPARE_CALLGRIND:-1}" = 1 ] && command -v valgrind >/dev/null; then
  as=(); [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  pg_ctl -D "$DOZOR_PG_DATA" -m fast -w stop >/dev/null 2>&1 || "${as[@]}" pg_ctl -D "$DOZOR_PG_DATA" -m fast -w stop >/dev/null
  # Single-user mode reads one statement a line. The warm-up call of each
  # creates libdeflate's (de)compressors, which later calls reuse; it is
  # collected too, so it is run alone first and subtracted.
  body="(SELECT body FROM bench_body)"
  one="PERFORM dozor_prepare_batch(b, 'gzip'); PERFORM length(dozor_gzip(dozor_gunzip(b), 3));"
  echo "DO \$\$ DECLARE b bytea := $body; BEGIN $one END \$\$;" >"$work/q1.sql"
  echo "DO \$\$ DECLARE b bytea := $body; BEGIN $one FOR i IN 1..$calls LOOP $one END LOOP; END \$\$;" >"$work/qn.sql"
  for v in 1 n; do
    "${as[@]}" valgrind --tool=callgrind --collect-atstart=no \
      --toggle-collect=dozor_prepare_batch --toggle-collect=dozor_gzip --toggle-collect=dozor_gunzip \
      --callgrind-out-file="$work/cg.$v" "$(command -v postgres)" --single -D "$DOZOR_PG_DATA" postgres \
      <"$work/q$v.sql" >"$work/single.$v.log" 2>&1 || { cat "$work/single.$v.log"; exit 1; }
    callgrind_annotate --inclusive=yes --threshold=100 "$work/cg.$v" >"$work/cg.$v.txt"
  done
  ir() {  # file function
    awk -v f="$2" '$0 ~ "[ :*]" f " " { gsub(",", "", $1); print $1; exit }' "$1"
  }
  a=$(( ($(ir "$work/cg.n.txt" dozor_prepare_batch) - $(ir "$work/cg.1.txt" dozor_prepare_batch)) / calls ))
  b=$(( ($(ir "$work/cg.n.txt" dozor_gunzip) - $(ir "$work/cg.1.txt" dozor_gunzip) \
       + $(ir "$work/cg.n.txt" dozor_gzip) - $(ir "$work/cg.1.txt" dozor_gzip)) / calls ))
  echo "instructions per call, callgrind, single-user backend ($calls calls after a warm-up):"
  printf '  %-44s %12s\n' "A dozor_prepare_batch" "$a" "B inflate + deflate 3 (the codec)" "$b"
  awk -v a="$a" -v b="$b" 'BEGIN { printf "  A/B %.3f, A - B %d instructions\n", a / b, a - b }'
  if [ "${PREPARE_PROFILE:-0}" = 1 ]; then
    "${as[@]}" valgrind --tool=callgrind --collect-atstart=no --toggle-collect=dozor_prepare_batch \
      --callgrind-out-file="$work/cg.p" "$(command -v postgres)" --single -D "$DOZOR_PG_DATA" postgres \
      <"$work/qn.sql" >"$work/single.p.log" 2>&1 || { cat "$work/single.p.log"; exit 1; }
    echo "inside dozor_prepare_batch, $((calls + 1)) calls, instructions by function (self), callgrind:"
    callgrind_annotate "$work/cg.p" | sed -n '/file:function/,$p' | sed -n '3,32p'
  fi
fi
