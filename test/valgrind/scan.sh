#!/usr/bin/env bash
# Reads the memcheck logs (vg.PID.log, one per server process) that
# scripts/with-temp-pg.sh writes under DOZOR_VALGRIND=1 and reports
#   - every error with a frame in dozor: count per kind, with the first stack
#     of each kind and the suppression valgrind generated for it. A frame in
#     the error's own stack or its "Address ..." stack makes it dozor's; one
#     only in the "Uninitialised value was created by" stack (with
#     --track-origins=yes) is reported as such, and counts too;
#   - warnings that carry a stack (valgrind prints one under -v, which the
#     wrapper passes), e.g. "invalid file descriptor in close()": the same;
#   - the other (PostgreSQL-internal) error kinds that postgres.supp left,
#     one line each: not failures, but candidates for the suppression file.
# Exits 1 if anything has a dozor frame, 0 otherwise.
#   test/valgrind/scan.sh LOGDIR
# A frame is dozor's if it reads "(in .../dozor.so)" or its source file lies
# in src/ of this tree or of the tree the installed dozor.so was built in
# (its DWARF comp_dir); valgrind runs with --fullpath-after= so frames carry
# the full path.
set -euo pipefail
logdir=${1:?usage: scan.sh LOGDIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
dirs=("$root")
so="$(pg_config --pkglibdir)/dozor.so"
if [ -r "$so" ] && command -v readelf >/dev/null; then
  while read -r d; do
    [ -n "$d" ] && [ "$d" != "$root" ] && dirs+=("$d")
  done < <(readelf --debug-dump=info "$so" 2>/dev/null \
             | sed -n 's/.*DW_AT_comp_dir *:.*: \(\/.*\)$/\1/p' | sort -u)
fi
re='dozor\.so\)'
for d in "${dirs[@]}"; do
  re="$re|\\($(printf '%s' "$d" | sed 's/[][\.*^$+?(){}|/]/\\&/g')/src/"
done
shopt -s nullglob
logs=("$logdir"/vg.*.log)
if [ ${#logs[@]} = 0 ]; then
  echo "valgrind: no logs in $logdir (did the server start under valgrind?)"
  exit 1
fi
awk -v dozor_re="$re" '
function frame_fn(line) {
  sub(/^ +(at|by) 0x[0-9A-Fa-f]+: /, "", line)
  sub(/:[0-9]+\)$/, ")", line)
  return line
}
function flush(   key, hdr, i, fr, set) {
  if (nb == 0 || !has_stack) { nb = 0; has_stack = 0; dz_main = 0; dz_origin = 0; return }
  hdr = blk[1]
  gsub(/0x[0-9A-Fa-f]+/, "0x..", hdr)
  gsub(/ [0-9][0-9,]*/, " N", hdr)
  # The site: the first dozor frame, else the first named PostgreSQL frame,
  # else the first frame.
  fr = ""
  for (i = 2; i <= nb && fr == ""; i++) if (blk[i] ~ /^ +(at|by) 0x/ && blk[i] ~ dozor_re) fr = blk[i]
  for (i = 2; i <= nb && fr == ""; i++) if (blk[i] ~ /^ +(at|by) 0x/ && blk[i] ~ /\(in \/usr\/lib\/postgresql\// && blk[i] !~ /\?\?\?/) fr = blk[i]
  for (i = 2; i <= nb && fr == ""; i++) if (blk[i] ~ /^ +(at|by) 0x/) fr = blk[i]
  key = hdr " @ " frame_fn(fr)
  if (dz_main || dz_origin) {
    set = "d"; dz_total++
    if (!dz_main) key = key " [dozor only in the origin stack]"
  } else { set = "o"; other_total++ }
  if (!((set, key) in count)) {
    order[set, ++n[set]] = key
    first[set, key] = "  [" FILENAME "]\n"
    for (i = 1; i <= nb; i++) first[set, key] = first[set, key] "  " blk[i] "\n"
    pending = set SUBSEP key     # the generated suppression that follows
  } else pending = ""
  count[set, key]++
  if (blk[1] ~ /^Process terminating/) crashes++
  nb = 0; has_stack = 0; dz_main = 0; dz_origin = 0
}
FNR == 1 { flush(); pending = ""; insupp = 0; files++; in_origin = 0 }
/^==[0-9]+==( |$)/ {
  line = $0; sub(/^==[0-9]+== ?/, "", line)
  if (line ~ /^ERROR SUMMARY:/ && match(line, /suppressed: [0-9]+/))
    suppressed += substr(line, RSTART + 12, RLENGTH - 12)
  if (line == "") { flush(); next }
  if (line !~ /^ /) { flush(); in_origin = 0 }
  if (line ~ /^ Uninitialised value was created/) in_origin = 1
  blk[++nb] = line
  if (line ~ /^ +(at|by) 0x/) {
    has_stack = 1
    if (line ~ dozor_re) { if (in_origin) dz_origin = 1; else dz_main = 1 }
  }
  next
}
# A generated suppression: lines without the ==PID== prefix, { to }.
/^\{$/ { flush(); insupp = 1; supp = $0 "\n"; next }
insupp {
  supp = supp $0 "\n"
  if ($0 == "}") { insupp = 0; if (pending != "" && !(pending in sup)) sup[pending] = supp; pending = "" }
  next
}
END {
  flush()
  printf "valgrind: %d server processes; %d errors/warnings with a dozor frame (%d kinds), %d other PostgreSQL-internal ones (%d kinds); %d errors suppressed by postgres.supp\n", \
    files, dz_total, n["d"], other_total, n["o"], suppressed
  if (crashes) printf "valgrind: %d processes died of a signal (their stacks are below)\n", crashes
  for (i = 1; i <= n["d"]; i++) {
    k = order["d", i]
    printf "\n=== DOZOR %d: %s  (x%d)\n%s", i, k, count["d", k], first["d", k]
    if (("d" SUBSEP k) in sup) printf "  suppression:\n%s", sup["d" SUBSEP k]
  }
  if (n["o"] > 0) printf "\nOther kinds (not failures; add to test/valgrind/postgres.supp if they are noise):\n"
  for (i = 1; i <= n["o"]; i++) { k = order["o", i]; printf "  %5d  %s\n", count["o", k], k }
  exit dz_total > 0 ? 1 : 0
}
' "${logs[@]}"
