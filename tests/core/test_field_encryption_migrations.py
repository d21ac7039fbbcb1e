"""The data migrations that encrypt support needs and session notes already
stored in clear, run through their own functions against the historical
models (plain text fields), forwards, again, and backwards."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from attendance import records
from attendance.models import SessionNote
from events.models import Registration
from tests.conftest import make_registration_event, sign_up
from tests.core.test_field_encryption import opens_with, raw_column

KEY = Fernet.generate_key().decode()


def migration_and_state_before(app, suffix):
    """The migration named ``*_<suffix>`` (whatever number a merge gives it)
    and the app registry just before it, where the fields are plain."""
    loader = MigrationLoader(connection)
    (name,) = [n for a, n in loader.disk_migrations if a == app and n.endswith(suffix)]
    state = loader.project_state((app, name), at_end=False)
    return loader.get_migration(app, name), state.apps


def write_raw(model, field, pk, value):
    """Put ``value`` in the column as a database from before the migration
    would hold it."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {quote(field)} = %s "
            "WHERE id = %s",
            [value, pk],
        )


def run_data_step(migration, old_apps, *, backwards=False):
    (step,) = [op for op in migration.operations if hasattr(op, "code")]
    function = step.reverse_code if backwards else step.code
    # The data steps change rows only and never use the schema editor (which
    # SQLite will not open inside the test's transaction).
    function(old_apps, None)


@pytest.fixture
def event(event_index, settings):
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY]
    return make_registration_event(event_index, capacity=5)


def test_support_needs_migration_encrypts_clear_values(event):
    clear = sign_up(event, "Ana")
    write_raw(Registration, "support_needs", clear.pk, "Step-free access")
    already = sign_up(event, "Ben", support_needs="Quiet room")
    token_before = raw_column(Registration, "support_needs", already.pk)
    empty = sign_up(event, "Cy")
    migration, old_apps = migration_and_state_before("events", "_encrypt_support_needs")

    run_data_step(migration, old_apps)

    stored = raw_column(Registration, "support_needs", clear.pk)
    assert (
        "Step-free access" not in stored
        and opens_with(KEY, stored) == "Step-free access"
    )
    assert Registration.objects.get(pk=clear.pk).support_needs == "Step-free access"
    # A value already encrypted (a run that stopped half-way) is left alone.
    assert raw_column(Registration, "support_needs", already.pk) == token_before
    assert raw_column(Registration, "support_needs", empty.pk) == ""

    run_data_step(migration, old_apps)  # again: nothing changes
    assert raw_column(Registration, "support_needs", clear.pk) == stored

    run_data_step(migration, old_apps, backwards=True)
    assert raw_column(Registration, "support_needs", clear.pk) == "Step-free access"
    assert raw_column(Registration, "support_needs", already.pk) == "Quiet room"
    assert raw_column(Registration, "support_needs", empty.pk) == ""


def test_session_notes_migration_encrypts_clear_values(event):
    note = records.save_note(
        session=event.sessions.get(),
        covered="",
        attendance_summary="",
        follow_ups="",
        needs_follow_up=False,
        user=None,
    )
    text = {
        "covered": "Ana shared her story",
        "attendance_summary": "9 came",
        "follow_ups": "Ben asked for a call",
    }
    for field, value in text.items():
        write_raw(SessionNote, field, note.pk, value)
    migration, old_apps = migration_and_state_before(
        "attendance", "_encrypt_session_notes"
    )

    run_data_step(migration, old_apps)

    for field, value in text.items():
        stored = raw_column(SessionNote, field, note.pk)
        assert value not in stored and opens_with(KEY, stored) == value
    note.refresh_from_db()
    assert note.follow_ups == "Ben asked for a call"

    run_data_step(migration, old_apps, backwards=True)
    for field, value in text.items():
        assert raw_column(SessionNote, field, note.pk) == value
