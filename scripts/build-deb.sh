#!/usr/bin/env bash
# Builds the Debian package postgresql-15-dozor (debian/, pg_buildext) into
# build/deb/ — what `make deb` runs. On a fresh Debian 12 machine as root it
# first installs what the build needs: debhelper, dpkg-dev,
# postgresql-server-dev-all, libdeflate-dev, zlib1g-dev (and PostgreSQL 15).
# Packages the working tree as it is, uncommitted changes included, but
# builds in a temporary copy: dpkg-buildpackage writes into the source tree
# (debian/files, debian/postgresql-15-dozor/, build-15/) and puts its output
# in the parent directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh debhelper dpkg-dev postgresql-server-dev-all

# One version in four places; a package whose name says 0.2.0 must hold
# the extension 0.2.0, and PGXN must say the same.
extversion=$(sed -n 's/^EXTVERSION *= *//p' Makefile)
control_version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" dozor.control)
deb_version=$(dpkg-parsechangelog -S Version)
meta_versions=$(perl -MJSON::PP -0777 -ne \
  '$m = decode_json($_); print "$m->{version} $m->{provides}{dozor}{version}"' META.json)
if [ "$extversion" != "$control_version" ] || [ "${deb_version%-*}" != "$extversion" ] \
   || [ "$meta_versions" != "$extversion $extversion" ]; then
  echo "version mismatch: Makefile EXTVERSION $extversion, dozor.control $control_version," \
       "debian/changelog $deb_version (its upstream part), META.json $meta_versions" \
       "(version, provides.dozor.version) must all agree" >&2
  exit 1
fi

tmp=$(mktemp -d /tmp/dozor-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked and new files, not build output or anything .gitignore hides.
  git ls-files -z -c -o --exclude-standard | tar -c --null -T - --ignore-failed-read 2>/dev/null \
    | tar -x -C "$tmp/src"
else
  # Not a checkout (a PGXN or release tarball): copy it and drop build output.
  cp -a . "$tmp/src"
  make -s -C "$tmp/src" clean >/dev/null 2>&1 || true
fi

echo "building postgresql-15-dozor $deb_version (log: build/deb/build.log)"
mkdir -p build/deb
rm -f build/deb/*.deb build/deb/*.ddeb build/deb/*.changes build/deb/*.buildinfo
if ! (cd "$tmp/src" && dpkg-buildpackage -b -us -uc -jauto) >build/deb/build.log 2>&1; then
  tail -n 40 build/deb/build.log >&2
  echo "dpkg-buildpackage failed; full log: $root/build/deb/build.log" >&2
  exit 1
fi
mv "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo build/deb/
# The debug symbols package, when dh_strip made one.
mv "$tmp"/*.ddeb build/deb/ 2>/dev/null || true
deb=build/deb/postgresql-15-dozor_${deb_version}_$(dpkg --print-architecture).deb
echo "built: $root/$deb"
dpkg-deb -f "$deb" Depends
dpkg-deb -c "$deb" | awk '$NF ~ /dozor[^\/]*$/ { print "  " $NF }'
