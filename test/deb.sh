#!/usr/bin/env bash
# The Debian package end to end, as a user installs it: builds it
# (scripts/build-deb.sh, what `make deb` runs), installs it with apt into the
# system PostgreSQL 15, checks the installed files are the package's, and
# runs the pg_regress suite against them in a fresh cluster. Called by
# test/run.sh; writes nothing into the repository but build/deb/ (ignored).
#
# Runs as root (apt needs it) and only when the tests target the system
# PostgreSQL, i.e. pg_config on PATH is in /usr/lib/postgresql/15: with a
# relocated PostgreSQL on PATH the package would land beside what is being
# tested. DOZOR_SKIP_DEB=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sysbin=/usr/lib/postgresql/15/bin
if [ "${DOZOR_SKIP_DEB:-0}" = 1 ]; then
  echo "skipped: DOZOR_SKIP_DEB=1"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "skipped: installing the package needs root"; exit 0
fi
# No pg_config at all is a fresh machine: install-deps gives it the system's.
if command -v pg_config >/dev/null && [ "$(pg_config --bindir)" != "$sysbin" ]; then
  echo "skipped: pg_config on PATH is $(command -v pg_config), not the system PostgreSQL 15"; exit 0
fi
scripts/install-deps.sh debhelper dpkg-dev postgresql-server-dev-all

bash scripts/build-deb.sh
version=$(dpkg-parsechangelog -S Version)
deb=$root/build/deb/postgresql-15-dozor_${version}_$(dpkg --print-architecture).deb

work=$(mktemp -d /tmp/dozor-debtest.XXXXXX)
chmod 755 "$work"   # with-temp-pg.sh runs initdb as postgres from here
trap 'rm -rf "$work"' EXIT
# --reinstall: the same version may be installed already, and test/run.sh
# has just put its own build over the package's files with `make install`.
echo "installing $(basename "$deb")"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall --no-install-recommends \
       "$deb" </dev/null >"$work/apt.log" 2>&1; then
  cat "$work/apt.log"; exit 1
fi

# The files on disk are the package's, byte for byte (dpkg's md5sums)...
bad=$(dpkg --verify postgresql-15-dozor || true)
if [ -n "$bad" ]; then
  echo "installed files differ from the package:"; echo "$bad"; exit 1
fi
# ...and the package holds the library, the control file, the install script
# and every upgrade script of the tree.
extdir=/usr/share/postgresql/15/extension
expect=(/usr/lib/postgresql/15/lib/dozor.so "$extdir/dozor.control" "$extdir/dozor--${version%-*}.sql")
for f in upgrade/dozor--*--*.sql; do
  [ -e "$f" ] && expect+=("$extdir/$(basename "$f")")
done
listed=$(dpkg -L postgresql-15-dozor)
for f in "${expect[@]}"; do
  grep -qxF "$f" <<<"$listed" || { echo "not in the package: $f"; exit 1; }
done
echo "package holds ${#expect[@]} files; dpkg --verify clean"

# pg_regress against the installed package: a fresh cluster of the system
# PostgreSQL, the tests read from the repository (VPATH), results written
# to a temporary directory.
echo "pg_regress against the installed package"
cd "$work"
export PATH=$sysbin:$PATH
if ! "$root/scripts/with-temp-pg.sh" \
       make -s -f "$root/Makefile" VPATH="$root" USE_PGXS=1 installcheck; then
  cat regression.diffs 2>/dev/null || true
  exit 1
fi
