#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a fresh database and media
# folder, then check the result against the backup's manifest.
#
# Usage: DATABASE_URL=postgres://... MEDIA_ROOT=/path/to/media scripts/restore.sh BACKUP_DIR
#
# The database must exist and hold no tables (createdb it first); MEDIA_ROOT
# must be missing or empty. Nothing is overwritten: the script refuses
# otherwise. It checks SHA256SUMS before touching anything, restores the dump
# in one transaction (all or nothing; objects are owned by the user in
# DATABASE_URL, so restore as the role the app uses), unpacks the media, and
# compares the restored database's rows per table and the media files'
# sha256 with tables.tsv and media.sha256. Exits non-zero on any difference.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/backup_common.sh
. "$here/backup_common.sh"

[ $# -eq 1 ] || die "usage: DATABASE_URL=... MEDIA_ROOT=... $0 BACKUP_DIR"
: "${DATABASE_URL:?set DATABASE_URL to the fresh database to restore into}"
: "${MEDIA_ROOT:?set MEDIA_ROOT to the (empty) media folder to restore into}"
backup=$1
[ -f "$backup/SHA256SUMS" ] || die "$backup is not a complete backup (no SHA256SUMS)"

echo "Checking $backup"
(cd "$backup" && sha256sum --quiet --strict -c SHA256SUMS) || die "the backup's files do not match SHA256SUMS"

pg_connect_env "$DATABASE_URL"
existing=$(psql -X -q -t -A -v ON_ERROR_STOP=1 -c \
  "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')") ||
  die "cannot connect to the database (create it first: createdb NAME)"
[ "$existing" -eq 0 ] || die "database $PGDATABASE already has $existing tables: restore into a fresh one"
if [ -e "$MEDIA_ROOT" ]; then
  [ -d "$MEDIA_ROOT" ] || die "MEDIA_ROOT $MEDIA_ROOT is not a folder"
  [ -z "$(find "$MEDIA_ROOT" -mindepth 1 -print -quit)" ] || die "MEDIA_ROOT $MEDIA_ROOT is not empty"
fi

echo "Restoring the database into $PGDATABASE"
pg_restore --exit-on-error --single-transaction --no-owner --no-privileges \
  --dbname="$PGDATABASE" "$backup/database.dump"

echo "Unpacking media into $MEDIA_ROOT"
mkdir -p "$MEDIA_ROOT"
tar -xzf "$backup/media.tar.gz" -C "$MEDIA_ROOT"

status=0
if ! diff -u "$backup/tables.tsv" <(table_counts) >&2; then
  echo "The restored database's row counts differ from the backup's (above)." >&2
  status=1
fi
if ! diff -u "$backup/media.sha256" <(media_manifest "$MEDIA_ROOT") >&2; then
  echo "The restored media differ from the backup's (above)." >&2
  status=1
fi
[ "$status" -eq 0 ] || exit "$status"
echo "Restored $(wc -l <"$backup/tables.tsv") tables and $(wc -l <"$backup/media.sha256") media files; rows and files match the backup"
