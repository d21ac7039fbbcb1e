"""Audit entries written by the registration and session workflows: one per
change, whichever way it is made (admin screen, manage link, sign-up form,
spreadsheet or calendar import, automatic promotion), with who made it and
how, and never a participant's personal details."""

import datetime as dt
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry, PageLogEntry

from core import audit
from events.models import EventPage, EventSession, Registration
from events.registration import RegistrationBatch, manage_token
from events.sessions import add_session, generate_weekly_series
from tests.conftest import (
    make_event,
    make_registration_event,
    sign_up,
)
from tests.events.test_ics_import import BOOK_CLUB, ics
from tests.spreadsheets.conftest import EVENTS_PERMISSIONS, _staff
from tests.spreadsheets.support import csv_bytes, import_file, make_job

pytestmark = pytest.mark.django_db

PERSON = {
    "name": "Sam Rivera",
    "email": "sam.rivera@example.org",
    "phone": "416 555 0142",
    "support_needs": "Step-free access please",
}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def coordinator(django_user_model, home_page):
    """A coordinator as the spreadsheet tests make one."""
    return _staff(
        django_user_model, "coord", "Coordinators", home_page, EVENTS_PERMISSIONS
    )


def entries(action=None, **filters):
    """Log entries of the events workflows (optionally one action), oldest first."""
    found = ModelLogEntry.objects.filter(action__startswith="events.", **filters)
    if action:
        found = found.filter(action=action)
    return list(found.order_by("timestamp", "id"))


def assert_no_personal_data(entry, *people):
    """Neither the label nor the data holds anyone's name or contact details."""
    text = entry.label + " " + json.dumps(entry.data)
    for person in people:
        for value in (person.name, person.email, person.phone, person.support_needs):
            assert not value or str(value) not in text, (value, text)


def only(action, **filters):
    """The one entry of ``action``, failing when there are none or several."""
    found = entries(action, **filters)
    assert len(found) == 1, [(e.action, e.object_id) for e in entries()]
    return found[0]


# Registrations -------------------------------------------------------------------


def test_public_sign_up_is_logged_as_the_participant_s_with_a_neutral_label(
    site_client, event_index
):
    cache.clear()  # the sign-up rate limit
    event = make_registration_event(event_index, capacity=5, title="Tuesday group")
    form = PERSON | {"consent_email": "on", "website": ""}
    assert site_client.post(event.sign_up_url, form).status_code == 302

    registration = Registration.objects.get()
    assert "Sam Rivera" not in str(registration)
    entry = only("events.registration.created")
    assert entry.object_id == str(registration.pk)
    assert entry.user_id is None
    assert entry.label == f"Registration {registration.pk} for Tuesday group"
    assert entry.data == {"by": "participant", "event": event.pk, "status": "confirmed"}
    assert_no_personal_data(entry, registration)


def test_the_sign_up_post_pays_one_insert_for_its_entry(site_client, event_index):
    cache.clear()
    event = make_registration_event(event_index, capacity=5)
    ContentType.objects.get_for_model(Registration)  # cached, as in a warm process
    form = PERSON | {"website": ""}
    with CaptureQueriesContext(connection) as queries:
        assert site_client.post(event.sign_up_url, form).status_code == 302
    logging = [q["sql"] for q in queries if "wagtailcore_modellogentry" in q["sql"]]
    assert len(logging) == 1 and logging[0].startswith("INSERT")
    assert not [q for q in queries if "django_content_type" in q["sql"]]
    assert not [q for q in queries if '"auth_user"' in q["sql"]]


def test_a_repeat_sign_up_changes_nothing_and_logs_nothing(event_index):
    event = make_registration_event(event_index, capacity=5)
    sign_up(event, "Ana", email="ana@example.org")
    sign_up(event, "Ana", email="ANA@example.org")
    assert len(entries("events.registration.created")) == 1


def test_adding_someone_by_hand_is_logged_once_as_staff(
    admin_client, admin_user, event_index
):
    event = make_registration_event(event_index, capacity=5)
    ModelLogEntry.objects.all().delete()  # its session's
    response = admin_client.post(
        reverse("event_registrations:add"), {"event": event.pk} | PERSON
    )
    assert response.status_code == 302
    registration = Registration.objects.get()
    entry = only("events.registration.created")
    assert (entry.user_id, entry.data["by"]) == (admin_user.pk, "staff")
    assert entries() == [entry]
    assert_no_personal_data(entry, registration)


def test_staff_cancelling_a_place_logs_it_and_the_automatic_promotion(
    admin_client, admin_user, event_index
):
    event = make_registration_event(event_index, capacity=1)
    ana = sign_up(event, **PERSON)
    ben = sign_up(event, "Ben Okafor", email="ben@example.org", phone="4165550100")
    ModelLogEntry.objects.all().delete()

    admin_client.post(reverse("event_registrations:cancel", args=[ana.pk]))

    cancelled = only("events.registration.cancelled")
    assert cancelled.object_id == str(ana.pk)
    assert cancelled.user_id == admin_user.pk
    assert cancelled.data == {
        "by": "staff",
        "event": event.pk,
        "status": "cancelled",
        "was": "confirmed",
    }
    promoted = only("events.registration.promoted")
    assert promoted.object_id == str(ben.pk)
    assert promoted.user_id is None
    assert promoted.data == {
        "by": "system",
        "event": event.pk,
        "status": "confirmed",
        "automatic": True,
        "freed_by": ana.pk,
    }
    assert len(entries()) == 2
    for entry in entries():
        assert_no_personal_data(entry, ana, ben)


def test_staff_taking_someone_off_the_waitlist_logs_left_waitlist(
    admin_client, admin_user, event_index
):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event, "Ana")
    ben = sign_up(event, **PERSON)
    ModelLogEntry.objects.all().delete()
    admin_client.post(reverse("event_registrations:cancel", args=[ben.pk]))
    entry = only("events.registration.left_waitlist")
    assert (entry.object_id, entry.user_id) == (str(ben.pk), admin_user.pk)
    assert entry.data["was"] == "waitlisted"
    assert len(entries()) == 1


def test_cancelling_through_the_manage_link_is_the_participant_s(
    site_client, event_index
):
    event = make_registration_event(event_index, capacity=1)
    ana = sign_up(event, **PERSON)
    ben = sign_up(event, "Ben", email="ben@example.org")
    ModelLogEntry.objects.all().delete()

    site_client.post(f"/manage/{manage_token(ana)}/cancel/")

    cancelled = only("events.registration.cancelled")
    assert cancelled.object_id == str(ana.pk)
    assert (cancelled.user_id, cancelled.data["by"]) == (None, "participant")
    promoted = only("events.registration.promoted")
    assert promoted.object_id == str(ben.pk)
    assert (promoted.user_id, promoted.data["by"]) == (None, "system")
    assert promoted.data["freed_by"] == ana.pk
    assert len(entries()) == 2
    assert_no_personal_data(cancelled, ana)


def test_leaving_the_waitlist_through_the_manage_link(site_client, event_index):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event, "Ana")
    ben = sign_up(event, **PERSON)
    ModelLogEntry.objects.all().delete()
    site_client.post(f"/manage/{manage_token(ben)}/cancel/")
    entry = only("events.registration.left_waitlist")
    assert (entry.object_id, entry.user_id) == (str(ben.pk), None)
    assert entry.data["by"] == "participant"
    assert len(entries()) == 1


def test_staff_giving_a_place_out_of_turn(admin_client, admin_user, event_index):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event, "Ana")
    ben = sign_up(event, **PERSON)
    ModelLogEntry.objects.all().delete()
    response = admin_client.post(reverse("event_registrations:promote", args=[ben.pk]))
    assert response.status_code == 302
    assert entries() == []  # refused: full

    # Room without the automatic promotion that change_capacity would make.
    EventPage.objects.filter(pk=event.pk).update(capacity=3)
    admin_client.post(reverse("event_registrations:promote", args=[ben.pk]))
    entry = only("events.registration.promoted")
    assert (entry.object_id, entry.user_id) == (str(ben.pk), admin_user.pk)
    assert entry.data == {
        "by": "staff",
        "event": event.pk,
        "status": "confirmed",
        "automatic": False,
    }
    assert_no_personal_data(entry, ben)


def test_a_move_is_one_moved_entry_on_the_new_registration(
    admin_client, admin_user, event_index
):
    here = make_registration_event(event_index, capacity=1)
    there = make_registration_event(event_index, capacity=5, title="Thursday group")
    ana = sign_up(here, **PERSON)
    ben = sign_up(here, "Ben", email="ben@example.org")
    ModelLogEntry.objects.all().delete()

    admin_client.post(
        reverse("event_registrations:move", args=[ana.pk]), {"to_event": there.pk}
    )

    moved = Registration.objects.get(event=there)
    entry = only("events.registration.moved")
    assert entry.object_id == str(moved.pk)
    assert entry.user_id == admin_user.pk
    assert entry.label == f"Registration {moved.pk} for Thursday group"
    assert entry.data == {
        "by": "staff",
        "event": there.pk,
        "status": "confirmed",
        "from_event": here.pk,
        "from_registration": ana.pk,
        "was": "confirmed",
        "already_registered": False,
    }
    # The freed place went to Ben, automatically; nothing else is logged.
    assert only("events.registration.promoted").object_id == str(ben.pk)
    assert len(entries()) == 2
    assert_no_personal_data(entry, ana, moved)


def test_raising_capacity_logs_each_promotion_as_automatic(admin_client, event_index):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event, "Ana")
    ben, cy = sign_up(event, "Ben"), sign_up(event, "Cy")
    ModelLogEntry.objects.all().delete()
    admin_client.post(
        reverse("event_registrations:capacity", args=[event.pk]), {"capacity": "3"}
    )
    promoted = entries("events.registration.promoted")
    assert [e.object_id for e in promoted] == [str(ben.pk), str(cy.pk)]
    assert {(e.user_id, e.data["by"], e.data["freed_by"]) for e in promoted} == {
        (None, "system", "capacity")
    }


def test_a_spreadsheet_import_logs_each_row_s_change_as_the_importer_s(
    coordinator, event_index
):
    event = make_registration_event(event_index, capacity=1)
    ana = sign_up(event, "Ana", email="ana@example.org")
    ben = sign_up(event, "Ben", email="ben@example.org")  # waiting
    ModelLogEntry.objects.all().delete()
    rows = [
        ["name", "email", "phone", "status"],
        ["Ana", "ana@example.org", "", "cancelled"],
        [PERSON["name"], PERSON["email"], PERSON["phone"], ""],
    ]
    data = csv_bytes(rows)

    checked = make_job(coordinator, "registrations", data, options={"event": event.pk})
    assert checked.status == "previewed"
    # The preview's dry run rolled its entries back.
    assert entries() == []
    assert not PageLogEntry.objects.filter(action__startswith="events.").exists()

    job = import_file(coordinator, "registrations", data, options={"event": event.pk})
    assert job.status == "done", job.message
    sam = Registration.objects.get(email=PERSON["email"])

    cancelled = only("events.registration.cancelled")
    assert (cancelled.object_id, cancelled.user_id) == (str(ana.pk), coordinator.pk)
    assert cancelled.data["by"] == "import"
    promoted = only("events.registration.promoted")
    assert (promoted.object_id, promoted.user_id) == (str(ben.pk), None)
    assert promoted.data["by"] == "system"
    # New people: one entry for the event, on its page.
    [added] = PageLogEntry.objects.filter(action__startswith="events.")
    assert added.action == "events.registration.created_in_bulk"
    assert (added.page_id, added.user_id) == (event.pk, coordinator.pk)
    assert added.label == event.title
    assert added.data == {
        "by": "import",
        "event": event.pk,
        "count": 1,
        "confirmed": 0,
        "waitlisted": 1,
        "registrations": [sam.pk],
    }
    assert added.message == "1 registration added (0 with a place, 1 waiting)"
    assert len(entries()) == 2
    for entry in [*entries(), added]:
        assert_no_personal_data(entry, sam)


def test_a_batch_logs_one_entry_per_event_in_one_insert(event_index):
    first = make_registration_event(event_index, capacity=2)
    second = make_registration_event(event_index, capacity=5)
    ContentType.objects.get_for_model(first)
    with transaction.atomic():
        batch = RegistrationBatch([first, second], notify=False)
        for n in range(5):
            batch.add(event=first, name=f"P{n}", email=f"p{n}@example.org")
        batch.add(event=second, name="Q", email="q@example.org")
        with CaptureQueriesContext(connection) as queries:
            created = batch.save()
    logging = [q["sql"] for q in queries if "wagtailcore_pagelogentry" in q["sql"]]
    assert len(logging) == 1 and logging[0].startswith("INSERT")
    found = {
        e.page_id: e
        for e in PageLogEntry.objects.filter(
            action="events.registration.created_in_bulk"
        )
    }
    assert set(found) == {first.pk, second.pk}
    assert found[first.pk].data == {
        "by": "system",
        "event": first.pk,
        "count": 5,
        "confirmed": 2,
        "waitlisted": 3,
        "registrations": [r.pk for r in created if r.event_id == first.pk],
    }
    assert found[second.pk].user_id is None
    assert not entries("events.registration.created")
    for entry in found.values():
        assert_no_personal_data(entry, *created)


def test_a_batch_inside_acting_takes_its_user_and_way(event_index, admin_user):
    event = make_registration_event(event_index, capacity=2)
    with transaction.atomic(), audit.acting(by=audit.IMPORT, user=admin_user):
        batch = RegistrationBatch([event], notify=False)
        batch.add(event=event, name="Ana", email="ana@example.org")
        batch.save()
    entry = PageLogEntry.objects.get(action="events.registration.created_in_bulk")
    assert (entry.user_id, entry.data["by"]) == (admin_user.pk, "import")


def test_an_unknown_way_is_refused(event_index):
    event = make_registration_event(event_index)
    with pytest.raises(ValueError):
        sign_up(event, "Ana", by="robot")
    assert not Registration.objects.exists()


# Sessions ------------------------------------------------------------------------


def test_admin_session_screens_log_each_change_once(
    admin_client, admin_user, event_index
):
    event = make_event(event_index, title="Book club")
    response = admin_client.post(
        reverse("event_sessions:add"),
        {
            "event": event.pk,
            "start": "2031-03-04 18:00",
            "end": "2031-03-04 19:30",
            "venue": "",
            "public_note": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    session = EventSession.objects.get()
    first_start = session.start
    created = only("events.session.created")
    assert (created.object_id, created.user_id) == (str(session.pk), admin_user.pk)
    assert created.data == {"by": "staff", "event": event.pk}
    assert created.label == str(session) and created.label.startswith("Book club: ")

    edit = reverse("event_sessions:edit", args=[session.pk])
    form = {"start": "2031-03-06 18:00", "end": "2031-03-06 19:30", "venue": ""}
    admin_client.post(edit, form | {"public_note": ""})
    admin_client.post(edit, form | {"public_note": ""})  # nothing changed
    changed = only("events.session.changed")
    session.refresh_from_db()
    assert changed.user_id == admin_user.pk
    assert changed.data["moved"] is True and changed.data["note_changed"] is False
    assert changed.data["from"]["venue"] is None
    assert changed.data["from"]["start"] == first_start.isoformat()
    assert changed.data["to"]["start"] == session.start.isoformat()

    admin_client.post(reverse("event_sessions:cancel", args=[session.pk]))
    admin_client.post(reverse("event_sessions:reinstate", args=[session.pk]))
    for action in ("cancelled", "reinstated"):
        entry = only(f"events.session.{action}")
        assert (entry.object_id, entry.user_id) == (str(session.pk), admin_user.pk)
        assert entry.data == {"by": "staff", "event": event.pk}
    assert len(entries()) == 4


def test_a_weekly_series_logs_each_session_in_one_insert(
    admin_client, admin_user, event_index
):
    event = make_event(event_index)
    response = admin_client.post(
        reverse("event_sessions:series", args=[event.pk]),
        {
            "first_date": "2031-02-25",
            "start_time": "18:00",
            "end_time": "19:30",
            "frequency": "weekly",
            "ends": "count",
            "count": "3",
            "skip_dates": "",
        },
    )
    assert response.status_code == 302
    sessions = list(event.sessions.order_by("pk"))
    found = entries("events.session.created")
    assert [e.object_id for e in found] == [str(s.pk) for s in sessions]
    assert {e.user_id for e in found} == {admin_user.pk}
    for session in sessions:
        history = log_registry.get_logs_for_instance(session)
        assert history.latest_by_uuid_and_action().count() == 1

    ContentType.objects.get_for_model(EventSession)
    with CaptureQueriesContext(connection) as queries:
        generate_weekly_series(
            event=event,
            first_date=dt.date(2031, 6, 3),
            start_time=dt.time(18),
            end_time=dt.time(19),
            weeks=4,
        )
    logging = [q["sql"] for q in queries if "wagtailcore_modellogentry" in q["sql"]]
    assert len(logging) == 1


def test_a_calendar_import_logs_its_sessions_as_the_importer_s(
    admin_client, admin_user, event_index
):
    url = reverse("events_ics_import")

    def import_calendar(data):
        admin_client.post(
            url,
            {
                "calendar_file": SimpleUploadedFile("library.ics", data),
                "source": "",
                "parent": event_index.pk,
            },
        )
        assert admin_client.post(url, {"confirm": "1"}).status_code == 302

    import_calendar(ics(BOOK_CLUB))
    sessions = EventSession.objects.order_by("pk")
    created = entries("events.session.created")
    assert [e.object_id for e in created] == [str(s.pk) for s in sessions]
    assert {(e.user_id, e.data["by"]) for e in created} == {(admin_user.pk, "import")}
    assert len(entries()) == len(created)


def test_a_schedule_import_logs_its_sessions_as_the_importer_s(
    coordinator, event_index
):
    rows = [
        ["event", "kind", "venue", "start", "end", "capacity", "facilitators"],
        ["WRAP group", "group", "", "2031-09-14 18:00", "19:30", "12", ""],
        ["WRAP group", "", "", "2031-09-21 18:00", "19:30", "", ""],
    ]
    job = import_file(
        coordinator, "schedule", csv_bytes(rows), options={"parent": event_index.pk}
    )
    assert job.status == "done", job.message
    created = entries("events.session.created")
    assert len(created) == 2 == EventSession.objects.count()
    assert {(e.user_id, e.data["by"]) for e in created} == {(coordinator.pk, "import")}


def test_a_session_changed_with_nobody_named_is_the_system_s(event_index):
    """As a management command or a task changes it."""
    event = make_event(event_index)
    start = dt.datetime(2031, 1, 7, 23, tzinfo=dt.UTC)
    add_session(event=event, start=start, end=start + dt.timedelta(hours=1))
    entry = only("events.session.created")
    assert (entry.user_id, entry.data["by"]) == (None, "system")


def test_every_logged_action_has_a_plain_label():
    for action in [
        "events.registration.created",
        "events.registration.cancelled",
        "events.registration.left_waitlist",
        "events.registration.promoted",
        "events.registration.moved",
        "events.registration.created_in_bulk",
        "events.session.created",
        "events.session.changed",
        "events.session.cancelled",
        "events.session.reinstated",
    ]:
        assert log_registry.action_exists(action)
        assert log_registry.get_action_label(action)
