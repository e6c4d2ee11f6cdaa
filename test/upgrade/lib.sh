# Shared by test/upgrade/run.sh and bench/upgrade.sh (sourced, not run):
# a private PostgreSQL copy to install old and new builds into, and the
# builds themselves. The copy keeps the upgrade away from the PostgreSQL the
# PATH names, whose dozor files belong to whoever installed them.

# upg_die MESSAGE: stops the script with a message that names the cause.
upg_die() { echo "upgrade: $*" >&2; exit 1; }

# upg_pg_copy DIR: copies the PostgreSQL that `pg_config` (from PATH) names
# into DIR, laid out as the original relative to the common root of its
# directories, so that the copied binaries find the copied share/ and lib/
# (PostgreSQL locates them relative to its own binary). Headers are linked,
# not copied. Prints the copy's bin directory. Any dozor already installed
# in the original is left out, so the copy starts with none.
upg_pg_copy() {
  local dest=$1 bindir sharedir pkglibdir incdir root d rel
  bindir=$(pg_config --bindir) sharedir=$(pg_config --sharedir)
  pkglibdir=$(pg_config --pkglibdir) incdir=$(pg_config --pkgincludedir)
  # the deepest directory that holds bin, share and lib
  root=$bindir
  while [ "$root" != / ] && { [[ $sharedir != "$root"/* ]] || [[ $pkglibdir != "$root"/* ]]; }; do
    root=$(dirname "$root")
  done
  [ "$root" != / ] || upg_die "cannot relocate $bindir: bin, share and lib have no common root"
  for d in "$bindir" "$sharedir" "$pkglibdir"; do
    rel=${d#"$root"/}
    mkdir -p "$dest/$(dirname "$rel")"
    [ -e "$dest/$rel" ] || cp -a "$d" "$dest/$rel"
  done
  rel=${incdir#"$root"/}
  if [[ $incdir == "$root"/* ]] && [ ! -e "$dest/$rel" ]; then
    mkdir -p "$dest/$(dirname "$rel")"
    ln -s "$(readlink -f "$incdir")" "$dest/$rel"
  fi
  rm -f "$dest/${sharedir#"$root"/}"/extension/dozor[-.]* "$dest/${pkglibdir#"$root"/}"/dozor.so
  rm -rf "$dest/${pkglibdir#"$root"/}"/bitcode/dozor*
  # the copy must really be separate: its pg_config names its own share/
  [ "$("$dest/${bindir#"$root"/}/pg_config" --sharedir)" = "$dest/${sharedir#"$root"/}" ] \
    || upg_die "the PostgreSQL copy in $dest does not relocate (its pg_config names another share/)"
  # the server runs as postgres when we are root: it must reach the copy
  chmod 755 "$dest"
  echo "$dest/${bindir#"$root"/}"
}

# upg_release_commit TAG HASH: the full commit of a release, by its tag or,
# in a clone without tags (CI), by its abbreviated hash.
upg_release_commit() {
  local tag=$1 hash=$2 c
  c=$(git rev-parse -q --verify "refs/tags/$tag^{commit}" 2>/dev/null) \
    || c=$(git rev-parse -q --verify "$hash^{commit}" 2>/dev/null) \
    || upg_die "release $tag: neither the tag nor commit $hash is in this clone (git fetch --tags, or a deeper clone)"
  echo "$c"
}

# upg_install_release COMMIT BUILDDIR PG_CONFIG: builds that commit of dozor
# from git history and installs it with that pg_config.
upg_install_release() {
  local commit=$1 dir=$2 pgc=$3
  mkdir -p "$dir"
  git archive "$commit" | tar -x -C "$dir"
  make -s -C "$dir" -j"$(nproc)" PG_CONFIG="$pgc" >/dev/null \
    || upg_die "building release $commit failed"
  make -s -C "$dir" install PG_CONFIG="$pgc" >/dev/null
}

# upg_install_current PG_CONFIG: the working tree's build, installed with
# that pg_config (over the release: same library name, new scripts).
upg_install_current() {
  local pgc=$1 top
  top=$(git rev-parse --show-toplevel)
  make -s -C "$top" -j"$(nproc)" PG_CONFIG="$pgc" >/dev/null
  make -s -C "$top" install PG_CONFIG="$pgc" >/dev/null
}
