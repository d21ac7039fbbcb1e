"""Phone numbers: read with ``phonenumbers`` in the site's region, stored in
E.164, refused with one plain message, matched across formats; the call-list
answers that come with them; and the migration that carried the numbers
stored as typed over."""

import importlib
import re
import tomllib
import uuid
from pathlib import Path

import phonenumbers
import pytest
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from core.phones import INVALID_PHONE_MESSAGE, InvalidPhoneNumber, to_e164
from events.forms import SignUpForm
from events.models import Registration
from events.registration import register
from tests.conftest import make_event, make_registration_event, sign_up
from tests.privacy import registrant
from tests.spreadsheets.conftest import EVENTS_PERMISSIONS, _staff
from tests.spreadsheets.support import csv_bytes, errors, import_file, make_job

pytestmark = pytest.mark.django_db

#: The site's region is Canada (``GATHER_PHONE_REGION`` unset); the example is
#: ``phonenumbers``' Canadian example number.
MESSAGE = "Enter a phone number we can call or text, for example (506) 234-5678."
HELP = (
    "A mobile or landline number, for example (506) 234-5678. For a number in "
    "another country, start with + and its country code."
)

VALID = {
    "name": "Sam Rivera",
    "email": "",
    "phone": "416-555-0123",
    "support_needs": "",
    "website": "",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


@pytest.fixture
def coordinator(django_user_model, home_page):
    """A non-superuser in the Coordinators group, as the imports need."""
    return _staff(
        django_user_model, "coord", "Coordinators", home_page, EVENTS_PERMISSIONS
    )


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


# Reading a number ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("416-555-0123", "+14165550123"),
        ("(416) 555-0123", "+14165550123"),
        ("1 416 555 0123", "+14165550123"),
        ("+1.416.555.0123", "+14165550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_numbers_are_read_in_the_site_region_and_given_in_e164(typed, stored):
    assert to_e164(typed) == stored


@pytest.mark.parametrize(
    "typed", ["555-0123", "12", "123-456-7890", "+44 12", "not a number"]
)
def test_a_number_nobody_could_call_is_refused(typed):
    with pytest.raises(InvalidPhoneNumber):
        to_e164(typed)


def test_the_region_is_a_setting(settings):
    settings.PHONENUMBER_DEFAULT_REGION = "GB"
    assert to_e164("020 7946 0958") == "+442079460958"
    with pytest.raises(InvalidPhoneNumber):
        to_e164("416-555-0123")  # not a British number


# What a Phone field says ----------------------------------------------------------


def _phone_help(html):
    """The help text shown with the Phone field, on the site (``<p
    id="id_phone_helptext">``) or in Wagtail's admin (``<div
    id="id_phone-helptext">`` around ``<div class="help">``)."""
    match = re.search(
        r'id="id_phone[-_]helptext"[^>]*>\s*(?:<div class="help">)?(.*?)</(?:p|div)>',
        html,
        re.DOTALL,
    )
    assert match, "no help text next to the Phone field"
    return " ".join(match.group(1).split())


def test_the_admin_phone_field_explains_itself_in_plain_words(
    coordinator_client, event_index
):
    """The add and edit screens say what to type, with an example, and name
    no standard or setting."""
    event = make_event(event_index)
    person = registrant(event, "Cy", email="cy@example.org")
    for url in (
        reverse("event_registrations:add"),
        reverse("event_registrations:edit", args=[person.pk]),
    ):
        html = coordinator_client.get(url).content.decode()
        assert _phone_help(html) == HELP
        assert "E.164" not in html and "PHONENUMBER_DEFAULT_REGION" not in html


def test_the_sign_up_form_gives_the_same_phone_advice(site_client, event_index):
    event = make_registration_event(event_index)
    html = site_client.get(event.sign_up_url).content.decode()
    assert _phone_help(html).startswith(HELP + " If you have no email")
    assert "E.164" not in html and "PHONENUMBER_DEFAULT_REGION" not in html


def test_the_phone_advice_follows_the_region(settings):
    """A British site shows a British example, in the help and the error."""
    settings.PHONENUMBER_DEFAULT_REGION = "GB"
    assert str(SignUpForm().fields["phone"].help_text).startswith(
        "A mobile or landline number, for example 07400 123456. For a number in "
        "another country, start with + and its country code."
    )
    assert str(INVALID_PHONE_MESSAGE) == (
        "Enter a phone number we can call or text, for example 07400 123456."
    )


# The sign-up form ---------------------------------------------------------------


@pytest.mark.parametrize("typed", ["416-555-01", "555-0123", "call me"])
def test_the_form_answers_a_bad_number_next_to_the_field(
    site_client, event_index, typed
):
    event = make_registration_event(event_index)
    response = site_client.post(
        event.sign_up_url,
        VALID | {"phone": typed, "call_times": "weekday mornings"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<p class="field__error" id="id_phone_error">{MESSAGE}</p>' in html
    # What was typed is kept, call times included.
    assert f'value="{typed}"' in html
    assert 'value="weekday mornings"' in html
    assert not Registration.objects.exists()


def test_a_number_without_its_area_code_is_refused_by_the_form():
    form = SignUpForm(data=VALID | {"phone": "555-0123"})
    assert not form.is_valid()
    assert form.errors["phone"] == [MESSAGE]


def test_an_international_number_is_accepted_and_stored_in_e164(
    site_client, event_index
):
    event = make_registration_event(event_index)
    response = site_client.post(
        event.sign_up_url, VALID | {"phone": "+44 20 7946 0958"}
    )
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert str(registration.phone) == "+442079460958"
    assert Registration.objects.filter(phone="+442079460958").exists()


def test_the_form_stores_a_local_number_in_e164_with_the_call_list_answers(
    site_client, event_index
):
    event = make_registration_event(event_index)
    response = site_client.post(
        event.sign_up_url,
        VALID
        | {
            "phone": "(416) 555-0123",
            "call_times": "  weekday mornings ",
            "voicemail_ok": "yes",
        },
    )
    assert response.status_code == 302
    stored = Registration.objects.values_list(
        "phone", "call_times", "voicemail_ok"
    ).get()
    assert stored == ("+14165550123", "weekday mornings", True)


def test_voicemail_is_no_unless_the_person_says_yes(site_client, event_index):
    event = make_registration_event(event_index)
    page = site_client.get(event.sign_up_url).content.decode()
    assert 'name="voicemail_ok" value="no" id="id_voicemail_ok_0" checked' in page
    site_client.post(event.sign_up_url, VALID)
    assert Registration.objects.get().voicemail_ok is False


def test_call_times_are_not_kept_without_a_phone_number(site_client, event_index):
    event = make_registration_event(event_index)
    site_client.post(
        event.sign_up_url,
        VALID
        | {
            "email": "sam@example.org",
            "phone": "",
            "call_times": "evenings",
            "voicemail_ok": "yes",
        },
    )
    registration = Registration.objects.get()
    assert (registration.call_times, registration.voicemail_ok) == ("", False)


def test_call_times_longer_than_100_characters_are_refused_and_kept():
    form = SignUpForm(data=VALID | {"call_times": "x" * 101})
    assert not form.is_valid()
    assert "call_times" in form.errors
    assert 'value="' + "x" * 101 + '"' in str(form["call_times"])


# Matching a repeat sign-up ------------------------------------------------------


def test_a_repeat_sign_up_by_phone_matches_across_formats(event_index):
    event = make_registration_event(event_index)
    first = register(event=event, name="Sam", phone="416-555-0123")
    again = register(event=event, name="Sam", phone="+1 (416) 555 0123")
    other = register(event=event, name="Kim", phone="416-555-0124")
    assert first.created and not again.created and other.created
    assert again.registration.pk == first.registration.pk
    assert Registration.objects.filter(phone="+14165550123").count() == 1


# Imports ------------------------------------------------------------------------


def test_an_import_row_with_a_bad_number_is_named_and_nothing_is_imported(
    coordinator, event_index
):
    event = make_registration_event(event_index)
    rows = [
        ["name", "email", "phone", "status"],
        ["Kim", "kim@example.org", "+1 416 555 0100", ""],
        ["Ana", "", "555-0101", ""],
    ]
    job = make_job(
        coordinator, "registrations", csv_bytes(rows), options={"event": event.pk}
    )
    assert errors(job) == {3: {"phone": [MESSAGE]}}
    assert not Registration.objects.exists()


def test_an_import_stores_numbers_in_e164_and_finds_people_across_formats(
    coordinator, event_index
):
    event = make_registration_event(event_index)
    sign_up(event, "Ana", email="", phone="416-555-0101")
    rows = [
        ["name", "email", "phone", "status"],
        ["Ana", "", "+1 (416) 555-0101", ""],
        ["Kim", "", "416.555.0102", ""],
    ]
    job = import_file(
        coordinator, "registrations", csv_bytes(rows), options={"event": event.pk}
    )
    assert job.status == "done", job.message
    assert sorted(Registration.objects.values_list("name", "phone")) == [
        ("Ana", "+14165550101"),
        ("Kim", "+14165550102"),
    ]


@pytest.mark.parametrize("bulk", [True, False])
def test_an_import_with_a_checked_number_clears_the_flag(
    coordinator, event_index, bulk, monkeypatch
):
    from events.resources.registrations import RegistrationResource

    monkeypatch.setattr(RegistrationResource._meta, "use_bulk", bulk)
    event = make_registration_event(event_index)
    kept = registrant(event, "Cy", email="cy@example.org", phone_as_typed="0102")
    rows = [
        ["name", "email", "phone", "status"],
        ["Cy", "cy@example.org", "416 555 0102", ""],
    ]
    job = import_file(
        coordinator, "registrations", csv_bytes(rows), options={"event": event.pk}
    )
    assert job.status == "done", job.message
    kept.refresh_from_db()
    assert (str(kept.phone), kept.phone_as_typed) == ("+14165550102", "")


# Staff screens ------------------------------------------------------------------


def test_numbers_to_check_are_flagged_for_staff(coordinator_client, event_index):
    event = make_event(event_index)
    kept = registrant(event, "Cy", email="cy@example.org", phone_as_typed="ext 22")
    registrant(event, "Dee", phone="416-555-0123", call_times="after 5")

    assert list(Registration.objects.phone_needs_check()) == [kept]

    def flagged_rows(html):
        return len(re.findall(r"<td >\s*Phone number to check\s*</td>", html))

    listing = coordinator_client.get(reverse("event_registrations:index"))
    assert flagged_rows(listing.content.decode()) == 1
    filtered = coordinator_client.get(
        reverse("event_registrations:index"), {"phone_to_check": "true"}
    ).content.decode()
    assert flagged_rows(filtered) == 1
    assert "Cy" in filtered and "Dee" not in filtered
    inspect = coordinator_client.get(
        reverse("event_registrations:inspect", args=[kept.pk])
    ).content.decode()
    assert "ext 22" in inspect
    assert "check it with the person" in inspect


def test_staff_typing_a_checked_number_clears_the_flag(coordinator_client, event_index):
    event = make_event(event_index)
    kept = registrant(event, "Cy", phone_as_typed="555-0102 (home)")
    edit_url = reverse("event_registrations:edit", args=[kept.pk])

    bad = coordinator_client.post(
        edit_url, {"name": "Cy", "email": "", "phone": "555-0102"}
    )
    assert MESSAGE in bad.content.decode()
    assert 'value="555-0102"' in bad.content.decode()
    coordinator_client.post(
        edit_url,
        {"name": "Cy", "email": "", "phone": "416 555 0102", "call_times": "noon"},
    )

    kept.refresh_from_db()
    assert (str(kept.phone), kept.phone_as_typed, kept.call_times) == (
        "+14165550102",
        "",
        "noon",
    )
    assert not Registration.objects.phone_needs_check().exists()


def test_a_moved_person_keeps_their_call_list_answers(event_index):
    from events.registration import move

    first = make_registration_event(event_index)
    second = make_registration_event(event_index)
    person = sign_up(
        first,
        "Dee",
        email="",
        phone="416-555-0123",
        call_times="after 5",
        voicemail_ok=True,
    )
    moved = move(registration=person, to_event=second)
    assert (str(moved.phone), moved.call_times, moved.voicemail_ok) == (
        "+14165550123",
        "after 5",
        True,
    )


def test_the_inspect_screen_and_the_export_show_the_call_list_answers(
    coordinator_client, event_index
):
    event = make_registration_event(event_index)
    dee = sign_up(
        event,
        "Dee",
        phone="416-555-0123",
        call_times="after 5",
        voicemail_ok=True,
    )
    inspect = coordinator_client.get(
        reverse("event_registrations:inspect", args=[dee.pk])
    ).content.decode()
    assert "(416) 555-0123" in inspect and "after 5" in inspect
    response = coordinator_client.get(
        reverse("spreadsheets_export", args=["registrations"]),
        {"format": "csv", "event": event.pk},
    )
    text = response.content.decode("utf-8-sig")
    assert "(416) 555-0123,confirmed,after 5,yes," in text


# The migration ------------------------------------------------------------------


def _migration(suffix):
    import events.migrations as package

    [name] = [
        path.stem
        for path in Path(package.__file__).parent.glob("0*.py")
        if path.stem.endswith(suffix)
    ]
    return name


@pytest.mark.django_db(transaction=True)
def test_the_migration_stores_e164_and_keeps_what_it_cannot_read(event_index):
    event = make_event(event_index)
    name = _migration("_registration_phone_e164")
    before = importlib.import_module(f"events.migrations.{name}").Migration
    [(_app, previous)] = before.dependencies
    executor = MigrationExecutor(connection)
    executor.migrate([("events", previous)])
    old_apps = executor.loader.project_state([("events", previous)]).apps
    OldRegistration = old_apps.get_model("events", "Registration")

    def old(phone):
        return OldRegistration.objects.create(
            event_id=event.pk,
            name="Someone",
            phone=phone,
            token_salt=uuid.uuid4().hex,
            manage_token_hash=uuid.uuid4().hex,
        ).pk

    local, abroad, short, words, none = (
        old("(416) 555-0101"),
        old("+44 20 7946 0958"),
        old("555-0102"),
        old("ask at the front desk"),
        old(""),
    )

    executor = MigrationExecutor(connection)
    executor.migrate([("events", name)])
    new_apps = executor.loader.project_state([("events", name)]).apps
    NewRegistration = new_apps.get_model("events", "Registration")
    migrated = {
        pk: str(phone or "")
        for pk, phone in NewRegistration.objects.values_list("pk", "phone")
    }
    typed = dict(NewRegistration.objects.values_list("pk", "phone_as_typed"))
    assert migrated == {
        local: "+14165550101",
        abroad: "+442079460958",
        short: "",
        words: "",
        none: "",
    }
    assert typed == {
        local: "",
        abroad: "",
        short: "555-0102",
        words: "ask at the front desk",
        none: "",
    }

    # Back: every number is in ``phone`` again, nothing lost.
    executor = MigrationExecutor(connection)
    executor.migrate([("events", previous)])
    back = dict(OldRegistration.objects.values_list("pk", "phone"))
    assert back == {
        local: "+14165550101",
        abroad: "+442079460958",
        short: "555-0102",
        words: "ask at the front desk",
        none: "",
    }

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert set(
        Registration.objects.phone_needs_check().values_list("pk", flat=True)
    ) == {short, words}


# Demo data ----------------------------------------------------------------------


def test_the_demo_phone_numbers_are_valid_for_the_default_region(settings):
    root = Path(__file__).resolve().parents[2] / "website" / "demo" / "content"
    numbers = []
    for path in root.glob("*.toml"):
        data = tomllib.loads(path.read_text())
        numbers += [p["phone"] for p in data.get("people", []) if p.get("phone")]
        if data.get("settings", {}).get("phone"):
            numbers.append(data["settings"]["phone"])
    assert len(numbers) >= 7
    for number in numbers:
        parsed = phonenumbers.parse(number, settings.PHONENUMBER_DEFAULT_REGION)
        assert phonenumbers.is_valid_number(parsed), number
