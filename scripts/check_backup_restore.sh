#!/usr/bin/env bash
# Prove that scripts/backup.sh and scripts/restore.sh round-trip a site.
#
# Usage: scripts/check_backup_restore.sh   (run by .ci/run)
#
# Creates a scratch database gather_backup_src_<random> on the server at
# $BACKUP_CHECK_POSTGRES (default postgres://postgres@127.0.0.1:5432, a role
# that may create databases), migrates it and loads the demo with MEDIA_ROOT
# a temporary folder, adds media (a Wagtail image with a rendition, a
# document, a file with a space in its name) and an encrypted support need,
# backs it up, restores the backup into a second scratch database
# gather_backup_dst_<random> and an empty media folder, and compares the two
# sides directly: rows in every table of the source, every sequence's value,
# every media file's sha256, and that the app opens the copy (no unapplied
# migrations, encrypted fields decrypt, the image's file opens).
# Prints a short table; exits non-zero on any difference. Both databases and
# the temporary folders are always removed; no other database is touched.
# Each step is bounded by a timeout (BACKUP_CHECK_TIMEOUT seconds, 180).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=scripts/backup_common.sh
. scripts/backup_common.sh

server_url=${BACKUP_CHECK_POSTGRES:-postgres://postgres@127.0.0.1:5432}
server_url=${server_url%/}
limit=${BACKUP_CHECK_TIMEOUT:-180}
python=$root/.venv/bin/python
[ -x "$python" ] || die "no .venv: run make install first"

suffix=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
src=gather_backup_src_$suffix
dst=gather_backup_dst_$suffix
work=$(mktemp -d "${TMPDIR:-/tmp}/gather-backup-check.XXXXXX")
created=()

admin() { (pg_connect_env "$server_url/postgres" && psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"); }
cleanup() {
  local name
  for name in "${created[@]}"; do
    admin "DROP DATABASE IF EXISTS $name WITH (FORCE)" || echo "could not drop $name" >&2
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
bounded() { timeout --kill-after=10 "$limit" "$@"; }
step() { printf '[%3ds] %s\n' "$SECONDS" "$*"; }

for name in "$src" "$dst"; do
  created+=("$name")
  admin "CREATE DATABASE $name"
done
mkdir "$work/media-src" "$work/media-dst" "$work/backups"

# The app's own settings, pointed at the scratch database and folders; a
# local-memory cache so nothing is shared with a running site.
django() {
  DATABASE_URL="$server_url/$1" MEDIA_ROOT="$2" CACHE_URL=locmemcache:// \
    DJANGO_SETTINGS_MODULE=website.settings.dev bounded "$python" manage.py "${@:3}"
}

step "Migrating $src and loading the demo"
django "$src" "$work/media-src" migrate --noinput --skip-checks >"$work/migrate.log" ||
  { cat "$work/migrate.log"; die "migrate failed"; }
django "$src" "$work/media-src" load_demo --skip-checks
django "$src" "$work/media-src" shell --no-imports -c '
from io import BytesIO
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.documents.models import Document
from wagtail.images.models import Image

png = BytesIO()
PILImage.new("RGB", (120, 90), (40, 120, 90)).save(png, "PNG")
image = Image.objects.create(
    title="Backup check", file=ImageFile(png, name="backup-check.png")
)
image.get_rendition("fill-60x45")
Document.objects.create(
    title="Backup check", file=ContentFile(b"Venue access notes\n", name="backup-check.txt")
)
from events.models import Registration

registration = Registration.objects.order_by("pk").first()
registration.support_needs = "Backup check: a hearing loop"
registration.save(update_fields=["support_needs"])
'
printf 'not referenced by any row\n' >"$work/media-src/original_images/left over copy.txt"

step "Backing up"
DATABASE_URL="$server_url/$src" MEDIA_ROOT="$work/media-src" bounded scripts/backup.sh "$work/backups"
backup=$(find "$work/backups" -mindepth 1 -maxdepth 1 -type d -name 'gather-backup-*')
[ -n "$backup" ] || die "backup.sh wrote no folder"

step "Restoring into $dst"
DATABASE_URL="$server_url/$dst" MEDIA_ROOT="$work/media-dst" bounded scripts/restore.sh "$backup"
# The app opens the copy: no unapplied migrations, every encrypted value
# decrypts with the same keys, and the image's file is found in the media.
django "$dst" "$work/media-dst" shell --no-imports -c '
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from attendance.models import SessionNote
from events.models import Registration
from wagtail.images.models import Image

executor = MigrationExecutor(connection)
plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
assert not plan, f"unapplied migrations: {plan}"
needs = [r.support_needs for r in Registration.objects.exclude(support_needs="")]
notes = [n.follow_ups for n in SessionNote.objects.all()]
assert "Backup check: a hearing loop" in needs, "the support need did not come back"
image = Image.objects.get(title="Backup check")
with image.file.open() as file:
    assert file.read(8) == b"\x89PNG\r\n\x1a\n"
print(f"The app opens the copy: {len(needs)} support needs and {len(notes)} "
      "session notes decrypt, the image file opens.")
' || die "the app cannot use the restored copy"

step "Comparing $src with $dst"
SEQUENCES_SQL="SELECT format('%s.%s', schemaname, sequencename) || E'\t' || coalesce(last_value, 0)
FROM pg_sequences ORDER BY 1"
for side in src dst; do
  name=${!side}
  (
    pg_connect_env "$server_url/$name"
    table_counts >"$work/$side.tables"
    psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$SEQUENCES_SQL" >"$work/$side.sequences"
  )
  # "path<TAB>sha256", like the other two lists
  media_manifest "$work/media-$side" |
    awk '{hash = $1; sub(/^[^ ]+  /, ""); print $0 "\t" hash}' >"$work/$side.media"
done

failures=0
compare() { # LABEL KIND: a row of the table; the differing lines, if any
  local label=$1 kind=$2 differing
  # Names (first field) whose line is not the same on both sides.
  differing=$({ diff "$work/src.$kind" "$work/dst.$kind" || true; } |
    { grep '^[<>]' || true; } | cut -c3- | cut -f1 | sort -u | wc -l)
  printf '%-26s %10s %10s %10s\n' "$label" "$(wc -l <"$work/src.$kind")" \
    "$(wc -l <"$work/dst.$kind")" "$differing"
  if [ "$differing" -ne 0 ]; then
    failures=$((failures + 1))
    diff "$work/src.$kind" "$work/dst.$kind" | sed 's/^/    /' >&2 || true
  fi
}
total() { awk -F "$2" '{n += $'"$3"'} END {print n + 0}' "$1"; }
media_bytes() { (cd "$1" && find . -type f -printf '%s\n') | awk '{n += $1} END {print n + 0}'; }

printf '%-26s %10s %10s %10s\n' "" "source" "restored" "differing"
compare "tables (rows each)" tables
compare "sequences (value each)" sequences
compare "media files (sha256 each)" media
printf '%-26s %10s %10s\n' "rows, all tables" "$(total "$work/src.tables" '\t' 2)" \
  "$(total "$work/dst.tables" '\t' 2)"
printf '%-26s %10s %10s\n' "media bytes" "$(media_bytes "$work/media-src")" \
  "$(media_bytes "$work/media-dst")"
[ "$(wc -l <"$work/src.media")" -gt 0 ] || { echo "The source had no media files." >&2; failures=$((failures + 1)); }
[ "$(wc -l <"$work/src.tables")" -gt 0 ] || { echo "The source had no tables." >&2; failures=$((failures + 1)); }

if [ "$failures" -ne 0 ]; then
  echo "Backup and restore check FAILED: the restored copy differs (above)." >&2
  exit 1
fi
step "Backup and restore check passed; dropping $src and $dst"
