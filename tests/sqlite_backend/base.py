"""SQLite for the tests: the in-memory test database is copied from a
migrated template kept between runs, instead of migrated every time.

Migrating a new test database runs about 220 migrations (most of them
Wagtail's) and takes about ten seconds in each test process: a sixth of the
suite. The first run migrates as usual and saves the result with SQLite's
backup API; later runs copy that file into their in-memory database, which
takes milliseconds. The template is named after a hash of every installed
app's migration files and of the Django version, so a new or changed
migration (or an upgraded Wagtail) gets a new template: a stale schema is
never used. ``GATHER_TEST_DB_TEMPLATE=0`` turns it off.

Only in-memory test databases (the default for SQLite) use it; the
PostgreSQL run migrates as before.
"""

import hashlib
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db.backends.sqlite3 import base, creation

#: Where templates are kept between runs.
TEMPLATE_DIR = Path(tempfile.gettempdir()) / "gather-test-db"
#: A template nobody has used for this long is deleted (other checkouts and
#: branches keep theirs while they are in use).
UNUSED_FOR = 7 * 24 * 3600


def migrations_digest() -> str:
    """A hash of every installed app's migration files, Django's version and
    this module, which changes whenever the migrated schema could."""
    digest = hashlib.sha256(django.get_version().encode())
    digest.update(Path(__file__).read_bytes())
    for app_config in apps.get_app_configs():
        folder = Path(app_config.path) / "migrations"
        for path in sorted(folder.glob("*.py")):
            digest.update(str(path.relative_to(app_config.path)).encode())
            digest.update(app_config.label.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


class DatabaseCreation(creation.DatabaseCreation):
    """Creates the in-memory test database from the migrated template."""

    def create_test_db(
        self, verbosity=1, autoclobber=False, serialize=True, keepdb=False
    ):
        test_name = self._get_test_db_name()
        if os.environ.get("GATHER_TEST_DB_TEMPLATE") == "0" or not (
            self.is_in_memory_db(test_name)
        ):
            return super().create_test_db(verbosity, autoclobber, serialize, keepdb)
        template = TEMPLATE_DIR / f"{migrations_digest()}.sqlite3"
        if not template.exists():
            test_name = super().create_test_db(
                verbosity, autoclobber, serialize, keepdb
            )
            self._save_template(template)
            return test_name
        # As Django's create_test_db does, with the template's copy in place
        # of ``migrate``.
        self._create_test_db(verbosity, autoclobber, keepdb)
        self.connection.close()
        settings.DATABASES[self.connection.alias]["NAME"] = test_name
        self.connection.settings_dict["NAME"] = test_name
        self.connection.ensure_connection()
        source = sqlite3.connect(template)
        try:
            source.backup(self.connection.connection)
        finally:
            source.close()
        os.utime(template)  # in use: not deleted as unused
        if serialize:
            self.connection._test_serialized_contents = self.serialize_db_to_string()
        call_command("createcachetable", database=self.connection.alias)
        return test_name

    def _save_template(self, template: Path) -> None:
        """Save the migrated database as ``template``, atomically (several
        test processes may save the same one at once), and delete templates
        unused for a week."""
        TEMPLATE_DIR.mkdir(exist_ok=True)
        partial = template.with_name(f"{template.stem}.{os.getpid()}.partial")
        self.connection.ensure_connection()
        target = sqlite3.connect(partial)
        try:
            self.connection.connection.backup(target)
        finally:
            target.close()
        os.replace(partial, template)
        for old in TEMPLATE_DIR.glob("*.sqlite3"):
            try:
                if time.time() - old.stat().st_mtime > UNUSED_FOR:
                    old.unlink()
            except FileNotFoundError:  # deleted by another test process
                pass


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
