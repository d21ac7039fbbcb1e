"""Prove that a database made by an earlier Gather upgrades to this one.

Usage: check_upgrade.py [--from COMMIT] [--database sqlite|postgres]...

For each database: the code at COMMIT (by default the last commit before the
apps were split into layers) migrates an empty database and loads the demo,
with an import job, a spreadsheet export in the audit log and a group given
a permission on the site settings. Then this checkout migrates the same
database, and the script checks through the current models that every row
is still there: the site settings, the pages, the import job, the audit
entry (under its new action name), the group's permission (through the
renamed content type), and support needs and session notes, now
encrypted. Models that moved between apps keep their tables, so nothing is
copied and nothing is lost.

Run by ``.ci/run``; needs only ``.venv`` (``make install``) and, for
``postgres``, a server at ``$UPGRADE_POSTGRES`` (default
``postgres://postgres@127.0.0.1:5432``).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
#: The last commit before SiteSettings moved to ``core`` and ImportJob to
#: ``spreadsheets``.
BEFORE_LAYERS = "89f8dba"
DATABASE_NAME = "gather_upgrade_check"

#: Run by the old code once the demo is loaded: rows of every kind that moved.
SEED = """
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from wagtail.log_actions import log
from website.models import ImportJob, SiteSettings

job = ImportJob.objects.create(
    resource="venues", file_name="venues.csv", data=b"name\\n"
)
group = Group.objects.create(name="Upgrade check")
group.permissions.add(Permission.objects.get(codename="change_sitesettings"))
log(ContentType.objects.get_for_model(ImportJob), "website.export",
    title="Venues export: 4 rows", data={"resource": "venues", "rows": 4})
from attendance.models import AttendanceRecord
from events.models import Registration
from wagtail.models import Page
Registration.objects.filter(
    pk=Registration.objects.order_by("pk").values("pk")[:1]
).update(support_needs="Upgrade check: a hearing loop")
counts = [
    Page.objects.count(),
    Registration.objects.count(),
    AttendanceRecord.objects.count(),
]
print(",".join(map(str, counts)))
"""

#: Run by this checkout after migrating: the same rows, through the new models.
CHECK = """
from django.contrib.auth.models import Group
from wagtail.models import ModelLogEntry, Page
from core.models import SiteSettings
from spreadsheets.models import ImportJob

settings = SiteSettings.objects.get()
assert settings.organisation_name == "Riverside Peer Support", settings
from attendance.models import AttendanceRecord
from events.models import Registration
counts = [
    Page.objects.count(),
    Registration.objects.count(),
    AttendanceRecord.objects.count(),
]
assert ",".join(map(str, counts)) == COUNTS_BEFORE, (counts, COUNTS_BEFORE)
job = ImportJob.objects.get(file_name="venues.csv")
assert bytes(job.data) == b"name\\n", bytes(job.data)
group = Group.objects.get(name="Upgrade check")
assert group.permissions.filter(
    content_type__app_label="core", codename="change_sitesettings"
).exists(), "the group lost its permission on the site settings"
assert ModelLogEntry.objects.filter(action="spreadsheets.export").exists()
# Support needs and session notes stored in clear are encrypted, and read
# back as they were.
from django.db import connection
from attendance.models import SessionNote
from core.encryption import is_encrypted
encrypted = 0
for model, fields in [
    (Registration, ["support_needs"]),
    (SessionNote, ["covered", "attendance_summary", "follow_ups"]),
]:
    for field in fields:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {field} FROM {model._meta.db_table}")
            stored = [value for (value,) in cursor.fetchall() if value]
        assert all(is_encrypted(value) for value in stored), f"{field} in clear"
        encrypted += len(stored)
assert "Upgrade check: a hearing loop" in [
    person.support_needs for person in Registration.objects.all()
]
assert not ModelLogEntry.objects.filter(action__startswith="website.").exists()
print(f"upgraded: pages, registrations, attendance records {counts}; "
      f"{encrypted} support needs and note fields encrypted")
"""


def run(args, *, cwd, env, capture=False):
    """Run a command; on failure show its output and stop."""
    result = subprocess.run(args, cwd=cwd, env=env, text=True, capture_output=True)
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"Failed in {cwd}: {' '.join(args)}")
    return result.stdout


def manage(*args, cwd, env):
    return run([PYTHON, "manage.py", *args], cwd=cwd, env=env)


def database_url(kind, workdir):
    if kind == "sqlite":
        return f"sqlite:///{workdir}/upgrade.sqlite3"
    server = os.environ.get("UPGRADE_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    for statement in (
        f"DROP DATABASE IF EXISTS {DATABASE_NAME}",
        f"CREATE DATABASE {DATABASE_NAME}",
    ):
        run(["psql", f"{server}/postgres", "-qc", statement], cwd=workdir, env=None)
    return f"{server}/{DATABASE_NAME}"


def check(kind, commit):
    with tempfile.TemporaryDirectory(prefix="gather-upgrade-") as workdir:
        old = Path(workdir) / "old"
        old.mkdir()
        archive = subprocess.run(
            ["git", "archive", commit], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "website.settings.dev",
            "DATABASE_URL": database_url(kind, workdir),
        }
        env.pop("PYTHONPATH", None)
        manage("migrate", "--noinput", "-v0", cwd=old, env=env)
        manage("load_demo", cwd=old, env=env)
        seeded = manage("shell", "--no-imports", "-c", SEED, cwd=old, env=env)
        counts = seeded.strip().splitlines()[-1]
        sys.stdout.write(
            f"{kind}: made at {commit}; pages, registrations, "
            f"attendance records: {counts}\n"
        )
        sys.stdout.write(manage("migrate", "--noinput", cwd=ROOT, env=env))
        check_code = f"COUNTS_BEFORE = {counts!r}\n" + CHECK
        sys.stdout.write(
            manage("shell", "--no-imports", "-c", check_code, cwd=ROOT, env=env)
        )
        manage("makemigrations", "--check", "--dry-run", cwd=ROOT, env=env)
        if kind == "postgres":
            server = env["DATABASE_URL"].rsplit("/", 1)[0]
            run(
                ["psql", f"{server}/postgres", "-qc", f"DROP DATABASE {DATABASE_NAME}"],
                cwd=workdir,
                env=None,
            )
    sys.stdout.write(f"{kind}: a database made at {commit} upgraded, every row kept.\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="commit", default=BEFORE_LAYERS)
    parser.add_argument(
        "--database",
        action="append",
        choices=["sqlite", "postgres"],
        help="sqlite, postgres, or both (the default)",
    )
    options = parser.parse_args()
    for kind in options.database or ["sqlite", "postgres"]:
        check(kind, options.commit)


if __name__ == "__main__":
    main()
