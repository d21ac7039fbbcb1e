"""Support needs and session notes are encrypted at rest under keys of their
own, rotate from one key to the next, and still read as plain text on the
screens allowed to show them."""

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from attendance import records
from attendance.models import SessionNote
from core import encryption
from events.models import Registration
from tests.conftest import make_registration_event, sign_up

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
NEEDS = "Hearing loop; my support worker Jo comes with me"


def raw_column(model, field, pk):
    """The column exactly as the database holds it, without the ORM."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(field)} FROM {quote(model._meta.db_table)} WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()[0]


def opens_with(key, token):
    """The text ``token`` holds under ``key`` alone, or None."""
    try:
        return Fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


@pytest.fixture
def event(event_index):
    return make_registration_event(event_index, capacity=5)


def make_note(session, **text):
    fields = {"covered": "", "attendance_summary": "", "follow_ups": ""} | text
    return records.save_note(
        session=session, needs_follow_up=False, user=None, **fields
    )


def test_support_needs_column_holds_a_token_not_the_text(event, settings):
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY_A]
    person = sign_up(event, "Ana", support_needs=NEEDS)

    stored = raw_column(Registration, "support_needs", person.pk)

    # Texts with spaces: a base64 token can never contain them by chance.
    assert NEEDS not in stored and "Hearing loop" not in stored
    assert opens_with(KEY_A, stored) == NEEDS
    assert Registration.objects.get(pk=person.pk).support_needs == NEEDS


def test_session_note_columns_hold_tokens_not_the_text(event, settings):
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY_A]
    text = {
        "covered": "Sam R. talked about the hospital stay",
        "attendance_summary": "Jo left early, upset",
        "follow_ups": "Call Ana about her housing",
    }
    note = make_note(event.sessions.get(), **text)

    for field, value in text.items():
        stored = raw_column(SessionNote, field, note.pk)
        assert value not in stored
        assert opens_with(KEY_A, stored) == value
    note = SessionNote.objects.get(pk=note.pk)
    assert (note.covered, note.attendance_summary, note.follow_ups) == tuple(
        text.values()
    )


def test_bulk_writes_are_encrypted_too(event):
    person = sign_up(event, "Ana")
    person.support_needs = NEEDS
    Registration.objects.bulk_update([person], ["support_needs"])
    assert opens_with(
        encryption.configured_keys()[0],
        raw_column(Registration, "support_needs", person.pk),
    )
    Registration.objects.filter(pk=person.pk).update(support_needs="Quiet room")
    stored = raw_column(Registration, "support_needs", person.pk)
    assert "Quiet room" not in stored
    assert Registration.objects.get(pk=person.pk).support_needs == "Quiet room"


def test_clearing_with_empty_string_stores_empty_and_can_be_filtered(event):
    """Retention and erasure clear the field with ``""``; listings can still
    tell who gave support needs without decrypting anything."""
    given = sign_up(event, "Ana", support_needs=NEEDS)
    cleared = sign_up(event, "Ben", support_needs=NEEDS)
    cleared.support_needs = ""
    cleared.save()
    none = sign_up(event, "Cy")
    Registration.objects.filter(pk=none.pk).update(support_needs="")

    assert raw_column(Registration, "support_needs", cleared.pk) == ""
    assert Registration.objects.get(pk=cleared.pk).support_needs == ""
    assert set(Registration.objects.filter(support_needs="")) == {cleared, none}
    assert list(Registration.objects.exclude(support_needs="")) == [given]


@pytest.mark.parametrize(
    "lookup",
    [
        {"support_needs": NEEDS},
        {"support_needs__icontains": "loop"},
        {"support_needs__in": [NEEDS]},
        {"support_needs__lower": "x"},
    ],
)
def test_sql_comparisons_with_ciphertext_are_refused(event, lookup):
    """They would match nothing, silently; a search must decrypt in Python."""
    sign_up(event, "Ana", support_needs=NEEDS)
    with pytest.raises(FieldError):
        list(Registration.objects.filter(**lookup))


def test_rotation_moves_every_value_to_the_first_key(event, settings):
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY_A]
    people = [sign_up(event, f"P{n}", support_needs=f"Need {n}") for n in range(3)]
    empty = sign_up(event, "No needs")
    note = make_note(event.sessions.get(), covered="Jo spoke", follow_ups="Call Jo")

    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    call_command("rotate_field_encryption", batch_size=2, stdout=io.StringIO())
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY_B]

    for n, person in enumerate(people):
        stored = raw_column(Registration, "support_needs", person.pk)
        assert opens_with(KEY_A, stored) is None
        assert Registration.objects.get(pk=person.pk).support_needs == f"Need {n}"
    assert Registration.objects.get(pk=empty.pk).support_needs == ""
    note = SessionNote.objects.get(pk=note.pk)
    assert (note.covered, note.attendance_summary, note.follow_ups) == (
        "Jo spoke",
        "",
        "Call Jo",
    )
    assert opens_with(KEY_A, raw_column(SessionNote, "covered", note.pk)) is None


def test_rotation_reports_counts_and_never_a_value(event, settings, capsys):
    sign_up(event, "Ana", support_needs=NEEDS)
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [
        KEY_B,
        *settings.GATHER_FIELD_ENCRYPTION_KEYS,
    ]
    call_command("rotate_field_encryption")
    output = capsys.readouterr().out
    assert "events.Registration: 1 rows re-encrypted (support_needs)." in output
    assert "attendance.SessionNote: 0 rows re-encrypted" in output
    assert "Hearing" not in output


def test_a_value_no_key_opens_is_an_error_not_ciphertext_on_screen(event, settings):
    """Dropping a key before rotating must fail loudly, not show tokens (and
    save them again, encrypted twice)."""
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY_A]
    person = sign_up(event, "Ana", support_needs=NEEDS)
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(encryption.DecryptionError) as raised:
        Registration.objects.get(pk=person.pk)
    assert NEEDS not in str(raised.value)


def test_no_keys_refuses_to_encrypt(event, settings):
    settings.GATHER_FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        sign_up(event, "Ana", support_needs=NEEDS)


def test_system_checks_on_the_keys(settings):
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY_A, KEY_B]
    assert encryption.check_keys() == []
    assert encryption.check_keys_deploy() == []

    settings.GATHER_FIELD_ENCRYPTION_KEYS = []
    assert [e.id for e in encryption.check_keys()] == ["core.E101"]
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY_A, "not-a-key"]
    assert [e.id for e in encryption.check_keys()] == ["core.E101"]

    settings.GATHER_FIELD_ENCRYPTION_KEYS = [settings.GATHER_DEV_FIELD_ENCRYPTION_KEY]
    assert [w.id for w in encryption.check_keys_deploy()] == ["core.W101"]


def test_keys_from_a_comma_separated_string(settings):
    settings.GATHER_FIELD_ENCRYPTION_KEYS = f" {KEY_B}, {KEY_A} ,"
    assert encryption.configured_keys() == (KEY_B, KEY_A)
    token = encryption.encrypt("x")
    assert opens_with(KEY_B, token) == "x"


def test_admin_inspect_and_edit_show_the_plain_text(admin_client, event):
    person = sign_up(event, "Ana", support_needs=NEEDS)

    inspect = admin_client.get(
        reverse("event_registrations:inspect", args=[person.pk])
    ).content.decode()
    edit = admin_client.get(
        reverse("event_registrations:edit", args=[person.pk])
    ).content.decode()

    token = raw_column(Registration, "support_needs", person.pk)
    for html in (inspect, edit):
        assert "Hearing loop; my support worker Jo comes with me" in html
        assert token not in html


def test_admin_edit_saves_encrypted(admin_client, event):
    person = sign_up(event, "Ana", email="ana@example.org")
    response = admin_client.post(
        reverse("event_registrations:edit", args=[person.pk]),
        {
            "name": "Ana",
            "email": "ana@example.org",
            "phone": "",
            "support_needs": NEEDS,
        },
    )
    assert response.status_code == 302
    stored = raw_column(Registration, "support_needs", person.pk)
    assert "Hearing loop" not in stored
    assert Registration.objects.get(pk=person.pk).support_needs == NEEDS


def test_admin_listing_and_search_never_decrypt_support_needs(
    admin_client, event, settings
):
    """The listing shows no support needs, so it opens none: under a key
    that opens none of them it still lists and searches."""
    sign_up(event, "Ana Searchable", support_needs=NEEDS)
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [KEY_B]

    response = admin_client.get(
        reverse("event_registrations:index"), {"q": "Searchable"}
    )

    assert response.status_code == 200
    assert "Ana Searchable" in response.content.decode()
