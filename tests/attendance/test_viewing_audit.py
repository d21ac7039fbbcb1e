"""Looking at people is logged: a roster opened, a list of people printed,
attendance taken, the registrations listing and one registration viewed;
each entry has the user, the object and a count, and no name. Coordinators
read and filter these in Wagtail's site history; editors and facilitators
see none of them."""

import json

import pytest
from django.urls import reverse
from wagtail.models import ModelLogEntry

from events.groups import COORDINATORS_GROUP, EDITORS_GROUP, FACILITATORS_GROUP
from tests.conftest import make_registration_event, role_group, sign_up

pytestmark = pytest.mark.django_db

NAMES = ("Robin Example", "Ash Sample")


def user_in(django_user_model, username, group_name):
    user = django_user_model.objects.create_user(username, password="pw")
    user.groups.add(role_group(group_name))
    return user


@pytest.fixture
def coordinator(django_user_model):
    return user_in(django_user_model, "coord", COORDINATORS_GROUP)


@pytest.fixture
def session(event_index):
    event = make_registration_event(event_index, capacity=5, title="WRAP group")
    for name in NAMES:
        sign_up(event, name)
    return event.sessions.get()


def only(action):
    found = list(ModelLogEntry.objects.filter(action=action))
    assert len(found) == 1, [e.action for e in ModelLogEntry.objects.all()]
    return found[0]


def assert_names_nobody(entry):
    text = entry.label + json.dumps(entry.data)
    for name in NAMES:
        for part in name.split():
            assert part not in text, text


def test_opening_a_roster_is_logged_with_a_count(client, coordinator, session):
    client.force_login(coordinator)
    assert client.get(reverse("facilitate_session", args=[session.pk])).status_code == (
        200
    )
    entry = only("attendance.roster.viewed")
    assert entry.user_id == coordinator.pk
    assert entry.object_id == str(session.pk)
    assert entry.data == {"by": "staff", "count": 2, "event": session.event_id}
    assert_names_nobody(entry)


def test_printing_a_full_name_sheet_or_register_is_logged(client, coordinator, session):
    client.force_login(coordinator)
    sheet = reverse("facilitate_pdf", args=[session.pk, "sign-in-sheet"])
    assert client.get(sheet + "?names=full").status_code == 200
    entry = only("attendance.document.printed")
    assert entry.user_id == coordinator.pk
    assert entry.object_id == str(session.pk)
    assert entry.data["count"] == 2
    assert entry.data["document"] == "sign-in-sheet"
    assert entry.data["full_names"] is True
    assert_names_nobody(entry)

    client.get(reverse("facilitate_pdf", args=[session.pk, "register"]))
    assert ModelLogEntry.objects.filter(
        action="attendance.document.printed", data__document="register"
    ).exists()
    # A flyer names nobody: not logged.
    client.get(reverse("facilitate_pdf", args=[session.pk, "flyer"]))
    assert (
        ModelLogEntry.objects.filter(action="attendance.document.printed").count() == 2
    )


def test_taking_attendance_is_logged_once_per_save_with_how_many_changed(
    client, django_user_model, event_index, time_machine
):
    facilitator = user_in(django_user_model, "fac", FACILITATORS_GROUP)
    event = make_registration_event(event_index, capacity=5)
    people = [sign_up(event, name) for name in NAMES]
    event.facilitators.add(facilitator)
    event.save()
    session = event.sessions.get()
    time_machine.move_to(session.start)
    client.force_login(facilitator)
    url = reverse("facilitate_attendance", args=[session.pk])
    statuses = {f"status-{person.pk}": "present" for person in people}
    assert client.post(url, statuses).status_code == 302

    entry = only("attendance.session.recorded")
    assert entry.user_id == facilitator.pk
    assert entry.object_id == str(session.pk)
    assert entry.data == {
        "by": "staff",
        "count": 2,
        "how": "statuses",
        "event": event.pk,
    }
    assert_names_nobody(entry)
    # Saving the same again changes nothing and logs nothing more.
    client.post(url, statuses)
    assert (
        ModelLogEntry.objects.filter(action="attendance.session.recorded").count() == 1
    )


def test_the_registrations_listing_and_a_registration_viewed_are_logged(
    client, coordinator, session
):
    client.force_login(coordinator)
    listing = reverse("event_registrations:index")
    assert client.get(listing, {"event": session.event_id}).status_code == 200
    entry = only("events.registrations.viewed")
    assert entry.user_id == coordinator.pk
    assert entry.data["count"] == 2
    assert entry.data["events"] == [str(session.event_id)]
    assert_names_nobody(entry)

    # Whatever else the query string holds (a NUL, which PostgreSQL refuses
    # in JSON, words, a page that is no number) only ids are logged.
    ModelLogEntry.objects.all().delete()
    query = {"event": [session.event_id, "x\x00y"], "p": "\x00", "q": "\x00"}
    assert client.get(listing, query).status_code == 200
    entry = only("events.registrations.viewed")
    assert (entry.data["events"], entry.data["page"]) == ([str(session.event_id)], "1")

    registration = session.event.registrations.first()
    inspect = reverse("event_registrations:inspect", args=[registration.pk])
    assert client.get(inspect).status_code == 200
    entry = only("events.registration.viewed")
    assert entry.object_id == str(registration.pk)
    assert entry.label == f"Registration {registration.pk} for WRAP group"
    assert_names_nobody(entry)


def test_a_registration_s_label_names_nobody(session):
    registration = session.event.registrations.first()
    assert str(registration) == f"Registration {registration.pk} for WRAP group"


def test_a_coordinator_filters_the_site_history_by_these_actions(
    client, coordinator, session, django_user_model
):
    client.force_login(coordinator)
    client.get(reverse("facilitate_session", args=[session.pk]))
    client.get(reverse("spreadsheets_export", args=["registrations"]))
    history = reverse("wagtailadmin_reports:site_history")

    page = client.get(history)
    assert page.status_code == 200
    choices = dict(page.context["filters"].form.fields["action"].choices)
    assert choices["attendance.roster.viewed"] == "View a roster"
    assert choices["spreadsheets.export"] == "Export a spreadsheet"
    assert "events.registration.created" in choices

    filtered = client.get(history, {"action": "attendance.roster.viewed"})
    body = filtered.content.decode()
    assert f"Roster of session {session.pk}" in body
    assert "Registration added" not in body
    exports = client.get(history, {"action": "spreadsheets.export"}).content.decode()
    assert "Registrations export: 2 rows" in exports

    for group_name in (EDITORS_GROUP, FACILITATORS_GROUP):
        other = user_in(django_user_model, group_name.lower(), group_name)
        client.force_login(other)
        body = client.get(history).content.decode()
        assert "Roster of session" not in body
        assert "Registrations export" not in body
        assert "Registration added" not in body
