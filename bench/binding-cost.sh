#!/usr/bin/env bash
# What binding stored bytes to their rows costs dozor_events (benchmark, not
# a test): the 100k-event bench session read whole by the current build (A)
# and by the same source with the two gzip-trailer checks taken out (B),
# alternating A and B (ABBA) in one cluster so both see the same machine load.
# The seeded index checksum is in both (it is the stored format): it adds
# 12 bytes of CRC per batch. Prints median/min/max per build and A/B, and
# the instructions of one call per build under callgrind (which machine load
# does not change; BINDING_CALLGRIND=0 skips it).
#   bench/binding-cost.sh [rounds]     (default 12 rounds of 5 calls each)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
rounds=${1:-12}
work=$(mktemp -d /tmp/dozor-binding.XXXXXX)
trap 'rm -rf "$work"' EXIT
libdir=$(pg_config --pkglibdir)

node bench/gen-session.js --events 100k --seed "${BENCH_SEED:-dozor}" --out bench/data/s100k >/dev/null
make -s >/dev/null && make -s install >/dev/null
cp "$libdir/dozor.so" "$work/A.so"
mkdir "$work/b" && git ls-files | tar -cf - -T - | tar -xf - -C "$work/b"
sed -i '/BatchBlobCheck(&b->row/d' "$work/b/src/stream.c"
[ "$(grep -c 'BatchBlobCheck(&b->row' "$work/b/src/stream.c")" = 0 ]
make -s -C "$work/b" >/dev/null 2>&1
cp "$work/b/dozor.so" "$work/B.so"

cat >"$work/inner.sh" <<'INNER'
set -euo pipefail
psql -qX -c "CREATE EXTENSION dozor" >/dev/null
key=$(psql -qAtX -c "SELECT api_key FROM dozor_create_project('bench')")
for f in bench/data/s100k/batch-*.json.gz; do
  printf "SELECT dozor_ingest('%s', decode('%s', 'base64'), 'gzip');\n" "$key" "$(base64 -w0 "$f")"
done | psql -qAtX >/dev/null
sid=$(psql -qAtX -c "SELECT id FROM dozor.sessions")
echo "SELECT pg_column_size(dozor_events($sid));" >"$WORK/q.sql"
for r in $(seq 1 "$ROUNDS"); do
  # ABBA: neither build always goes first after the other's swap
  order="A B"; [ $((r % 2)) = 0 ] && order="B A"
  for v in $order; do
    # a new file, renamed over the old: a backend still exiting keeps its
    # mapping of the old one (copying over it in place crashes that backend)
    cp "$WORK/$v.so" "$LIBDIR/dozor.so.new" && mv -f "$LIBDIR/dozor.so.new" "$LIBDIR/dozor.so"
    ms=$(pgbench -n -t 5 -f "$WORK/q.sql" 2>>"$WORK/pgbench.err" | sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p')
    echo "$v $ms" >>"$WORK/times"
  done
done
cp "$WORK/A.so" "$LIBDIR/dozor.so.new" && mv -f "$LIBDIR/dozor.so.new" "$LIBDIR/dozor.so"
# Instructions, which machine load does not change: one call in a
# single-user backend under callgrind, per build.
if [ "${BINDING_CALLGRIND:-1}" = 1 ] && command -v valgrind >/dev/null; then
  as=(); [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  pg_ctl -D "$DOZOR_PG_DATA" -m fast -w stop >/dev/null 2>&1 || "${as[@]}" pg_ctl -D "$DOZOR_PG_DATA" -m fast -w stop >/dev/null
  chmod 777 "$WORK"
  for v in A B; do
    cp "$WORK/$v.so" "$LIBDIR/dozor.so.new" && mv -f "$LIBDIR/dozor.so.new" "$LIBDIR/dozor.so"
    echo "SELECT pg_column_size(dozor_events($sid));" | "${as[@]}" valgrind --tool=callgrind \
      --callgrind-out-file="$WORK/cg.$v" "$(command -v postgres)" --single -D "$DOZOR_PG_DATA" postgres >/dev/null 2>&1
    echo "$v $(sed -n 's/^summary: //p' "$WORK/cg.$v")" >>"$WORK/instructions"
  done
  cp "$WORK/A.so" "$LIBDIR/dozor.so.new" && mv -f "$LIBDIR/dozor.so.new" "$LIBDIR/dozor.so"
fi
INNER
WORK=$work ROUNDS=$rounds LIBDIR=$libdir scripts/with-temp-pg.sh bash "$work/inner.sh" || { cat "$work/pgbench.err"; exit 1; }
stats() { grep "^$1 " "$work/times" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f %.1f", a[int((NR+1)/2)], a[1], a[NR]}'; }
read -r am amin amax <<<"$(stats A)"
read -r bm bmin bmax <<<"$(stats B)"
echo "dozor_events, 100k-event session, ms per call (median min max over $rounds rounds of 5):"
echo "  with the binding checks (A):    $am $amin $amax"
echo "  without the trailer check (B):  $bm $bmin $bmax"
awk -v a="$am" -v b="$bm" 'BEGIN {printf "  A/B = %.3f (cost of the checks: %+.1f%%)\n", a / b, (a / b - 1) * 100}'
if [ -s "$work/instructions" ]; then
  ia=$(awk '$1 == "A" {print $2}' "$work/instructions")
  ib=$(awk '$1 == "B" {print $2}' "$work/instructions")
  echo "instructions of one single-user backend (start, the call, exit), callgrind:"
  echo "  A $ia  B $ib"
  awk -v a="$ia" -v b="$ib" 'BEGIN {printf "  A/B = %.5f (cost of the checks: %+.3f%%)\n", a / b, (a / b - 1) * 100}'
fi
