#!/usr/bin/env bash
# Builds and runs the C unit tests: test/unit/<name>_test.c is linked with
# src/<name>.c as frontend code (libpgcommon/libpgport provide palloc and
# StringInfo), so parsers are tested without a server.
set -euo pipefail
cd "$(dirname "$0")/../.."
PG_CONFIG=${PG_CONFIG:-pg_config}
inc=$($PG_CONFIG --includedir-server)
libdir=$($PG_CONFIG --libdir)
pkglibdir=$($PG_CONFIG --pkglibdir)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for t in test/unit/*_test.c; do
  name=$(basename "$t" _test.c)
  bin="$out/$name"
  cc -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
     -fsanitize=address,undefined -fno-sanitize-recover=all \
     -DFRONTEND -Isrc -I"$inc" "$t" "src/$name.c" \
     -L"$libdir" -L"$pkglibdir" -lpgcommon -lpgport -lm -o "$bin"
  if "$bin"; then echo "ok   $name"; else echo "FAIL $name"; status=1; fi
done
exit $status
