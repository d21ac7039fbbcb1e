"""Consent per channel: the wording on the form, what is recorded, withdrawal
from the manage link, what withdrawal stops, and the data migration that
carried the old yes/no consent over."""

import datetime as dt
import importlib
import uuid

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone
from wagtail.models import ModelLogEntry

from events.consent import CONSENT_WORDING, CONSENT_WORDING_VERSION, withdraw
from events.models import Consent, Registration
from events.registration import cancel, manage_token, move
from events.reminders import send_due_reminders
from events.sessions import cancel_session
from tests.conftest import make_event, make_registration_event, sign_up

pytestmark = pytest.mark.django_db

PERSON = {
    "name": "Sam Rivera",
    "email": "sam@example.org",
    "phone": "416 555 0123",
    "support_needs": "",
    "website": "",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


def _manage(registration):
    return f"/manage/{manage_token(registration)}/"


def test_the_form_shows_the_wording_and_records_each_channel_with_its_version(
    site_client, event_index
):
    event = make_registration_event(event_index)
    html = site_client.get(event.sign_up_url).content.decode()
    for wording in CONSENT_WORDING.values():
        assert str(wording) in html
    before = timezone.now()

    site_client.post(
        event.sign_up_url, PERSON | {"consent_email": "on", "consent_call": "on"}
    )

    registration = Registration.objects.get()
    consents = {c.channel: c for c in registration.consents.all()}
    assert sorted(consents) == ["call", "email"]
    for consent in consents.values():
        assert consent.wording_version == CONSENT_WORDING_VERSION
        assert before <= consent.given_at <= timezone.now()
        assert consent.withdrawn_at is None


def test_no_box_ticked_records_no_consent_and_still_confirms_by_email(
    site_client, event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index)
    with django_capture_on_commit_callbacks(execute=True):
        site_client.post(event.sign_up_url, PERSON)

    assert not Consent.objects.exists()
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Your place is booked"]
    assert send_due_reminders(hours=48) == 0


def test_a_repeat_sign_up_changes_no_consent(site_client, event_index):
    event = make_registration_event(event_index)
    site_client.post(event.sign_up_url, PERSON | {"consent_email": "on"})
    site_client.post(event.sign_up_url, PERSON | {"consent_text": "on"})

    assert list(Consent.objects.values_list("channel", flat=True)) == ["email"]


def test_the_manage_page_shows_each_channel_and_withdrawal_is_recorded(
    site_client, event_index
):
    event = make_registration_event(event_index)
    person = sign_up(event, phone="416 555 0123", consent=["email", "text"])
    page = site_client.get(_manage(person)).content.decode()
    assert "How we may contact you" in page
    assert "Stop all emails" in page and "Stop text messages" in page
    assert "Stop phone calls" not in page  # never agreed to calls

    response = site_client.post(
        _manage(person) + "contact/", {"channel": "text"}, follow=True
    )

    html = response.content.decode()
    assert "We will not send you text messages about this event." in html
    assert "you asked us to stop on" in html
    text = Consent.objects.get(registration=person, channel="text")
    assert text.withdrawn_at is not None and text.given_at is not None
    assert Consent.objects.get(registration=person, channel="email").is_given


def test_withdrawing_needs_a_post_with_a_csrf_token(event_index):
    event = make_registration_event(event_index)
    person = sign_up(event, consent=["email"])
    strict = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")

    assert strict.get(_manage(person) + "contact/").status_code == 405
    assert (
        strict.post(_manage(person) + "contact/", {"channel": "email"}).status_code
        == 403
    )
    assert Consent.objects.get(registration=person).withdrawn_at is None


def test_a_channel_the_person_cannot_be_reached_on_is_refused(site_client, event_index):
    event = make_registration_event(event_index)
    person = sign_up(event)  # email only

    response = site_client.post(
        _manage(person) + "contact/", {"channel": "call"}, follow=True
    )
    site_client.post(_manage(person) + "contact/", {"channel": "nonsense"})

    assert "We do not contact you that way." in response.content.decode()
    assert not Consent.objects.exists()


def test_after_withdrawing_email_no_email_is_sent_at_all(
    site_client, event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=1)
    first = sign_up(event, consent=["email"])
    waiting = sign_up(event, consent=["email"])
    # Never agreed, yet asks for no emails at all: the same applies.
    withdraw(registration=waiting, channel="email")
    withdraw(registration=first, channel="email")
    mail.outbox.clear()

    assert send_due_reminders(hours=48) == 0
    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=event.sessions.get(), user=None)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(registration=first)  # promotes the waiting person

    assert mail.outbox == []
    assert Registration.objects.get(pk=waiting.pk).status == "confirmed"
    assert set(event.registrations.without_email()) == {first, waiting}
    page = site_client.get(_manage(waiting)).content.decode()
    assert "We send you no emails at all" in page


def test_withdrawing_twice_keeps_the_first_time_and_logs_once(event_index):
    event = make_registration_event(event_index, title="Tuesday group")
    person = sign_up(event, name="Sam Rivera", consent=["email"])
    first = withdraw(registration=person, channel="email").withdrawn_at

    again = withdraw(registration=person, channel="email")

    assert again.withdrawn_at == first
    [entry] = ModelLogEntry.objects.filter(
        action="events.registration.consent_withdrawn"
    )
    assert entry.user is None
    assert entry.data == {"by": "participant", "event": event.pk, "channel": "email"}
    assert entry.label == f"Registration {person.pk} for Tuesday group"
    assert person.email not in str(entry.data)


def test_a_moved_person_keeps_their_consent(event_index):
    event = make_registration_event(event_index)
    other = make_registration_event(event_index)
    person = sign_up(event, consent=["email"])
    withdraw(registration=person, channel="email")

    moved = move(registration=person, to_event=other)

    [consent] = moved.consents.all()
    assert consent.channel == "email" and consent.withdrawn_at is not None


# The data migration ------------------------------------------------------------


def _migration(suffix):
    """The events migration whose name ends with ``suffix``, found by name so a
    renumbering when branches merge does not break the test."""
    from pathlib import Path

    import events.migrations as package

    [name] = [
        path.stem
        for path in Path(package.__file__).parent.glob("0*.py")
        if path.stem.endswith(suffix)
    ]
    return name


def test_legacy_consents_cover_the_channels_each_person_gave():
    module = importlib.import_module(
        f"events.migrations.{_migration('_consent_from_legacy_boolean')}"
    )
    signed_up = dt.datetime(2026, 3, 1, 18, tzinfo=dt.UTC)

    rows = module.legacy_consents(
        [
            (1, "ana@example.org", "", True, signed_up),
            (2, "", "416 555 0123", True, signed_up),
            (3, "cy@example.org", "416 555 0199", False, signed_up),
        ]
    )

    assert [(row["registration_id"], row["channel"]) for row in rows] == [
        (1, "email"),
        (2, "text"),
        (2, "call"),
    ]
    assert {row["wording_version"] for row in rows} == {"legacy"}
    assert {row["given_at"] for row in rows} == {signed_up}


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_carries_existing_booleans_over(event_index):
    event = make_event(event_index)
    before = _migration("_consent")
    name = _migration("_consent_from_legacy_boolean")
    executor = MigrationExecutor(connection)
    executor.migrate([("events", before)])
    old_apps = executor.loader.project_state([("events", before)]).apps
    OldRegistration = old_apps.get_model("events", "Registration")
    signed_up = dt.datetime(2026, 3, 1, 18, tzinfo=dt.UTC)

    def old(name, email, phone, agreed):
        registration = OldRegistration.objects.create(
            event_id=event.pk,
            name=name,
            email=email,
            phone=phone,
            consent_to_contact=agreed,
            token_salt=uuid.uuid4().hex,
            manage_token_hash=uuid.uuid4().hex,
        )
        OldRegistration.objects.filter(pk=registration.pk).update(created_at=signed_up)
        return registration.pk

    ana = old("Ana", "ana@example.org", "416 555 0101", True)
    ben = old("Ben", "ben@example.org", "", False)

    module = importlib.import_module(f"events.migrations.{name}")
    module.carry_over_consent(old_apps, None)
    OldConsent = old_apps.get_model("events", "Consent")
    carried = sorted(
        OldConsent.objects.values_list(
            "registration_id", "channel", "given_at", "wording_version"
        )
    )
    OldConsent.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert carried == [
        (ana, "call", signed_up, "legacy"),
        (ana, "email", signed_up, "legacy"),
        (ana, "text", signed_up, "legacy"),
    ]
    # The migration itself, run forward, writes the same rows.
    assert sorted(
        Consent.objects.values_list("registration_id", "channel", "wording_version")
    ) == [(ana, "call", "legacy"), (ana, "email", "legacy"), (ana, "text", "legacy")]
    assert not Consent.objects.filter(registration_id=ben).exists()
