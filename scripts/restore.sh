#!/usr/bin/env bash
# Restores a pg_dump -Fc archive of a database with dozor 0.2.0 or later:
#   scripts/restore.sh dump.fc target_db [pg_restore options...]
# Two things differ from a plain pg_restore, both because dozor's
# partitioned tables (dozor.event_batches, dozor.markers) belong to the
# extension while their day partitions do not:
#   * CREATE EXTENSION already makes the parents' indexes and keys, so
#     attaching a partition makes its indexes; the archive's own entries for
#     the partitions' indexes and keys are left out (-L), or they would fail
#     as duplicates;
#   * the parents' foreign keys to dozor.sessions exist before any row is
#     loaded, and pg_dump loads the partitions' rows before the sessions';
#     the restore runs with session_replication_role = replica so that the
#     rows are not checked one by one against a table not yet loaded (the
#     dump was consistent). This needs a superuser, as the extension does.
# Everything else is pg_restore's own; the target database must exist.
set -euo pipefail
dump=$1 db=$2
shift 2
list=$(mktemp)
trap 'rm -f "$list"' EXIT
pg_restore -l "$dump" \
  | grep -Ev ' (CONSTRAINT|INDEX|INDEX ATTACH) dozor (event_batches|markers)_(p[0-9]{8}|legacy)' >"$list"
PGOPTIONS="${PGOPTIONS:-} -c session_replication_role=replica" \
  pg_restore --exit-on-error -L "$list" -d "$db" "$@" "$dump"
