"""The SQLite test database template (tests/sqlite_backend): renamed by any
change to a migration, and never missing one."""

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.sqlite_backend.base import migrations_digest


class _App:
    label = "library"

    def __init__(self, path):
        self.path = str(path)


def test_the_template_name_changes_with_any_migration(tmp_path, monkeypatch):
    folder = tmp_path / "migrations"
    folder.mkdir()
    first = folder / "0001_initial.py"
    first.write_text("operations = []\n")
    monkeypatch.setattr(apps, "get_app_configs", lambda: [_App(tmp_path)])

    names = [migrations_digest()]
    first.write_text("operations = [1]\n")
    names.append(migrations_digest())
    (folder / "0002_more.py").write_text("")
    names.append(migrations_digest())

    assert len(set(names)) == 3
    assert migrations_digest() == names[-1]  # the same files, the same name


@pytest.mark.django_db
def test_the_test_database_has_every_migration_applied():
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
