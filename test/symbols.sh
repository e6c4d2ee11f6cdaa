#!/usr/bin/env bash
# dozor.so must not define a global symbol that the postgres binary also
# defines: the dynamic linker would bind dozor's own calls to PostgreSQL's
# function of that name (this once sent SessionStream pointers to
# PostgreSQL's StreamClose(pgsocket), found under valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
postgres="$(pg_config --bindir)/postgres"
clash=$(comm -12 <(nm -D --defined-only dozor.so | awk '{print $3}' | sort -u) \
                 <(nm -D --defined-only "$postgres" | awk '{print $3}' | sort -u) \
        | grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' || true)
if [ -n "$clash" ]; then
  echo "dozor.so defines symbols that postgres defines too:"; echo "$clash"; exit 1
fi
echo "symbols: no clash between dozor.so and postgres"
