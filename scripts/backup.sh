#!/usr/bin/env bash
# Back up Gather's PostgreSQL database and media folder.
#
# Usage: DATABASE_URL=postgres://... MEDIA_ROOT=/path/to/media scripts/backup.sh DEST
#
# Writes DEST/gather-backup-YYYYMMDDTHHMMSSZ/ (mode 700: it holds personal
# data) with:
#   database.dump  pg_dump --format=custom of the database
#   media.tar.gz   every file under MEDIA_ROOT
#   tables.tsv     rows per table ("schema.table<TAB>rows"), counted in the
#                  same snapshot pg_dump dumps, so they match the dump exactly
#                  even while the site is in use
#   media.sha256   sha256 of every file in media.tar.gz (sha256sum format)
#   MANIFEST       when, from where, tool versions, totals
#   SHA256SUMS     checksums of the files above, checked by restore.sh
# The folder is written as NAME.partial and renamed when complete. The last
# line printed is the folder's path. Needs bash, the PostgreSQL client tools
# (pg_dump at least the server's major version), GNU tar and coreutils; not
# Python or the app.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/backup_common.sh
. "$here/backup_common.sh"

[ $# -eq 1 ] || die "usage: DATABASE_URL=... MEDIA_ROOT=... $0 DEST"
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to back up}"
: "${MEDIA_ROOT:?set MEDIA_ROOT to the media folder to back up}"
[ -d "$MEDIA_ROOT" ] || die "MEDIA_ROOT $MEDIA_ROOT is not a folder"
dest_root=$1
pg_connect_env "$DATABASE_URL"

server=$(server_major) || die "cannot connect to the database"
dump_major=$(tool_major pg_dump)
[ "$dump_major" -ge "$server" ] ||
  die "pg_dump $dump_major is older than the server ($server): install the client tools for $server"

umask 077
mkdir -p "$dest_root"
name="gather-backup-$(date -u +%Y%m%dT%H%M%SZ)"
final="$dest_root/$name"
dir="$final.partial"
[ ! -e "$final" ] || die "$final already exists"
mkdir "$dir"
trap 'rm -rf "$dir"; [ -n "${SNAPSHOT_PID:-}" ] && kill "$SNAPSHOT_PID" 2>/dev/null; true' EXIT

# One read-only transaction holds a snapshot open; pg_dump dumps that
# snapshot and the row counts are taken inside it.
coproc SNAPSHOT { psql -X -q -t -A -v ON_ERROR_STOP=1; }
printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;" \
  "SELECT pg_export_snapshot();" >&"${SNAPSHOT[1]}"
read -r -t 30 snapshot <&"${SNAPSHOT[0]}" || die "could not export a snapshot"

echo "Dumping database $PGDATABASE (snapshot $snapshot)"
pg_dump --format=custom --snapshot="$snapshot" --file="$dir/database.dump"

printf '%s\n' "$TABLE_COUNTS_SQL" '\echo __end__' >&"${SNAPSHOT[1]}"
: >"$dir/tables.tsv"
line=""
while read -r -t 300 line <&"${SNAPSHOT[0]}"; do
  [ "$line" = "__end__" ] && break
  printf '%s\n' "$line" >>"$dir/tables.tsv"
done
[ "$line" = "__end__" ] || die "could not count the rows"
printf '%s\n' "COMMIT;" '\q' >&"${SNAPSHOT[1]}"
wait "$SNAPSHOT_PID" || die "the snapshot transaction failed"

# Media after the database, so every file a row names is in the archive
# (uploads are never changed in place, only added). The archive holds
# exactly the files hashed; one deleted in between fails the backup.
echo "Archiving media from $MEDIA_ROOT"
(cd "$MEDIA_ROOT" && find . -type f -print0 | LC_ALL=C sort -z) >"$dir/media.list"
(cd "$MEDIA_ROOT" && xargs -0 -r sha256sum <"$dir/media.list") | sed 's#  \./#  #' >"$dir/media.sha256"
media_bytes=$( (cd "$MEDIA_ROOT" && xargs -0 -r stat -c %s <"$dir/media.list") | awk '{n += $1} END {print n + 0}')
tar -czf "$dir/media.tar.gz" -C "$MEDIA_ROOT" --null --no-recursion -T "$dir/media.list"
rm "$dir/media.list"

tables=$(wc -l <"$dir/tables.tsv")
rows=$(awk -F '\t' '{n += $2} END {print n + 0}' "$dir/tables.tsv")
files=$(wc -l <"$dir/media.sha256")
{
  echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "database: $PGDATABASE on ${PGHOST:-local socket}:${PGPORT:-5432}"
  echo "server_version: $(psql -X -q -t -A -c 'SHOW server_version')"
  echo "pg_dump: $(pg_dump --version)"
  echo "tables: $tables"
  echo "rows: $rows"
  echo "media_files: $files"
  echo "media_bytes: $media_bytes"
} >"$dir/MANIFEST"
(cd "$dir" && sha256sum database.dump media.tar.gz tables.tsv media.sha256 MANIFEST >SHA256SUMS)

mv "$dir" "$final"
trap - EXIT
echo "Backed up $tables tables ($rows rows) and $files media files ($media_bytes bytes)"
echo "$final"
