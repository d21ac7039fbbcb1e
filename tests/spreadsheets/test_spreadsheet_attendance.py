"""Attendance spreadsheets: registrants and walk-ins through
attendance.records, row errors, all-or-nothing, re-import, round trip,
permissions (facilitators: their own sessions) and the audit log."""

import datetime as dt

import pytest
from wagtail.models import ModelLogEntry

from attendance import tallies
from attendance.models import AttendanceRecord, ParticipantSpan, SessionTally
from events.registration import register
from events.sessions import cancel_session
from tests.conftest import make_event, make_registration_event, make_session, sign_up
from tests.spreadsheets.support import (
    actions,
    confirm,
    csv_bytes,
    errors,
    export,
    import_file,
    local,
    make_job,
)

pytestmark = pytest.mark.django_db

HEADER = ["session_uid", "name", "email", "walk_in", "status"]


@pytest.fixture
def session(event_index, time_machine):
    """A session, now under way, with two people confirmed and one waiting."""
    event = make_registration_event(event_index, capacity=2, title="Circle")
    sign_up(event, name="Sam Rivera", email="sam@example.org")
    sign_up(event, name="Kim Lee", email="kim@example.org")
    sign_up(event, name="Waiting", email="w@example.org")
    session = event.sessions.get()
    time_machine.move_to(session.start + dt.timedelta(minutes=10))
    return session


def _records(session):
    return {
        (r.registration.name if r.registration else r.walk_in_name, r.status, r.method)
        for r in AttendanceRecord.objects.filter(session=session).select_related(
            "registration"
        )
    }


def test_registrants_and_walk_ins_are_recorded(coordinator, session):
    rows = [
        HEADER,
        [session.uid, "", "SAM@example.org", "", "present"],
        [session.uid, "Kim Lee", "", "no", "Late"],
        [session.uid, "Jo", "", "yes", "present"],
        [session.uid, "Ravi", "", "yes", "left_early"],
    ]
    job = import_file(coordinator, "attendance", csv_bytes(rows))
    assert job.status == "done", (job.message, errors(job))
    assert set(actions(job).values()) == {"new"}
    assert _records(session) == {
        ("Sam Rivera", "present", "import"),
        ("Kim Lee", "late", "import"),
        ("Jo", "present", "import"),
        ("Ravi", "left_early", "import"),
    }


def test_an_import_keeps_the_reports_stored_counts(coordinator, session):
    rows = [
        HEADER,
        [session.uid, "", "sam@example.org", "", "absent"],
        [session.uid, "Kim Lee", "", "no", "late"],
        [session.uid, "Jo", "", "yes", "present"],
    ]
    job = import_file(coordinator, "attendance", csv_bytes(rows))
    assert job.status == "done", (job.message, errors(job))
    tally = SessionTally.objects.get(session=session)
    assert (tally.registrants_attended, tally.walk_ins_attended, tally.absent) == (
        1,
        1,
        1,
    )
    assert ParticipantSpan.objects.filter(event=session.event).count() == 1
    assert tallies.differences() == {"session tallies": 0, "participant spans": 0}


def test_by_event_title_and_start_instead_of_uid(coordinator, session):
    start = session.start.astimezone(local(2026, 1, 1, 0).tzinfo)
    rows = [
        ["event", "session", "name", "status"],
        ["circle", start.strftime("%Y-%m-%d %H:%M"), "Sam Rivera", "absent"],
    ]
    job = import_file(coordinator, "attendance", csv_bytes(rows))
    assert job.status == "done", errors(job)
    assert _records(session) == {("Sam Rivera", "absent", "import")}


def test_reimport_skips_then_updates(coordinator, session):
    rows = [
        HEADER,
        [session.uid, "", "sam@example.org", "", "present"],
        [session.uid, "Jo", "", "yes", "late"],
    ]
    import_file(coordinator, "attendance", csv_bytes(rows))
    logged = ModelLogEntry.objects.filter(action="attendance.record.changed").count()
    again = import_file(coordinator, "attendance", csv_bytes(rows))
    assert set(actions(again).values()) == {"skip"}
    rows[1][4] = "excused"
    rows[2][4] = "present"
    job = import_file(coordinator, "attendance", csv_bytes(rows))
    assert actions(job) == {2: "update", 3: "update"}
    assert AttendanceRecord.objects.count() == 2
    changes = ModelLogEntry.objects.filter(action="attendance.record.changed")
    assert changes.count() == logged + 2


def test_every_kind_of_row_error(coordinator, session, event_index):
    headcount = make_event(event_index, headcount_only=True)
    make_session(headcount, start=session.start)
    later = make_session(session.event, start=session.start + dt.timedelta(days=7))
    called_off = make_session(session.event, start=session.start - dt.timedelta(days=7))
    cancel_session(session=called_off, notify=False)
    rows = [
        HEADER,
        ["nope", "Sam", "", "", "present"],
        [session.uid, "Sam", "sam@example.org", "", "dancing"],
        [session.uid, "Sam", "sam@example.org", "", ""],
        [session.uid, "", "w@example.org", "", "present"],
        [session.uid, "", "who@example.org", "", "present"],
        [session.uid, "", "", "yes", "present"],
        [session.uid, "", "", "perhaps", "present"],
        [headcount.sessions.get().uid, "Jo", "", "yes", "present"],
        [session.uid, "Kim Lee", "", "", "present"],
        [session.uid, "", "KIM@example.org", "", "late"],
        [later.uid, "Kim Lee", "", "", "present"],
        [called_off.uid, "Kim Lee", "", "", "present"],
    ]
    job = make_job(coordinator, "attendance", csv_bytes(rows))
    found = errors(job)
    assert "No session you can see" in found[2]["session_uid"][0]
    assert "status must be one of" in found[3]["status"][0]
    assert "Say how they attended" in found[4]["status"][0]
    assert "no confirmed place" in found[5]["email"][0]
    assert "Nobody registered" in found[6]["email"][0]
    assert "walk-in's name" in found[7]["name"][0]
    assert "yes or no" in found[8]["walk_in"][0]
    assert "headcount-only" in found[9]["session_uid"][0]
    assert 10 not in found and "also on row 10" in found[11]["name"][0]
    assert "has not started yet" in found[12]["session_uid"][0]
    assert "was cancelled" in found[13]["session_uid"][0]
    assert not AttendanceRecord.objects.exists()
    assert confirm(job).status == "failed"
    assert not AttendanceRecord.objects.exists()


def test_round_trip_changes_nothing(client, coordinator, session):
    rows = [
        HEADER,
        [session.uid, "", "sam@example.org", "", "present"],
        [session.uid, "=Jo", "", "yes", "late"],
    ]
    import_file(coordinator, "attendance", csv_bytes(rows))
    before = list(AttendanceRecord.objects.order_by("pk").values())
    client.force_login(coordinator)
    for file_format in ("csv", "xlsx", "json"):
        response = export(client, "attendance", file_format)
        job = import_file(
            coordinator, "attendance", response.content, f"a.{file_format}"
        )
        assert job.status == "done", (file_format, errors(job))
        assert set(actions(job).values()) == {"skip"}
    assert list(AttendanceRecord.objects.order_by("pk").values()) == before
    assert "'=Jo" in export(client, "attendance").content.decode("utf-8-sig")


def test_facilitators_import_and_export_only_their_sessions(
    client, session, event_index, facilitators_group, django_user_model, time_machine
):
    from django.contrib.auth.models import Permission

    facilitator = django_user_model.objects.create_user("fac", password="pw")
    facilitator.groups.add(facilitators_group)
    facilitator.user_permissions.add(Permission.objects.get(codename="access_admin"))
    event = session.event
    event.facilitators.add(facilitator)
    event.save()
    other = make_registration_event(event_index, capacity=5)
    person = register(event=other, name="Other", email="o@example.org").registration
    other_session = other.sessions.get()
    rows = [
        HEADER,
        [session.uid, "", "sam@example.org", "", "present"],
        [other_session.uid, "", person.email, "", "present"],
    ]
    job = make_job(facilitator, "attendance", csv_bytes(rows))
    assert list(errors(job)) == [3]
    job = import_file(facilitator, "attendance", csv_bytes(rows[:2]))
    assert job.status == "done"
    from attendance.records import record_attendance

    time_machine.move_to(other_session.start)
    record_attendance(
        session=other_session, statuses={str(person.pk): "present"}, user=None
    )
    client.force_login(facilitator)
    text = export(client, "attendance").content.decode("utf-8-sig")
    assert "sam@example.org" in text and "o@example.org" not in text
    entry = ModelLogEntry.objects.get(action="spreadsheets.export")
    assert (entry.user, entry.data["rows"], entry.data["resource"]) == (
        facilitator,
        1,
        "attendance",
    )
