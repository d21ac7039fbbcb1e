"""Schedule spreadsheets: rows grouped by event title create or update draft
events and their sessions through events.sessions; times in the site's
zone (Excel date cells or ISO text); row errors by column; all-or-nothing;
re-import; round trip; permissions and the audit log."""

import datetime as dt

import pytest
from wagtail.models import ModelLogEntry, PageLogEntry

from events.models import EventPage, EventSession
from tests.conftest import make_event, make_session, make_venue
from tests.spreadsheets.support import (
    actions,
    csv_bytes,
    errors,
    export,
    import_file,
    local,
    make_job,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

HEADER = ["event", "kind", "venue", "start", "end", "capacity", "facilitators"]


@pytest.fixture
def facilitator(django_user_model, facilitators_group):
    user = django_user_model.objects.create_user("fran", email="fran@example.org")
    user.groups.add(facilitators_group)
    return user


def _plan(venue):
    return [
        HEADER,
        ["WRAP group", "group", venue, "2026-09-14 18:00", "19:30", "12", "fran"],
        ["WRAP group", "", venue, "2026-09-21 18:00", "2026-09-21 19:30", "", ""],
        ["WRAP group", "", "Library", "2026-09-28 18:00", "19:30", "", ""],
        ["Naloxone", "Education session", "", "2026-09-15T10:00", "11:00", "", ""],
    ]


def _import(user, rows, index, **kwargs):
    return import_file(
        user, "schedule", csv_bytes(rows), options={"parent": index.pk}, **kwargs
    )


def test_rows_become_draft_events_with_sessions(coordinator, event_index, facilitator):
    hall = make_venue(name="Hall")
    library = make_venue(name="Library")
    job = _import(coordinator, _plan("Hall"), event_index)
    assert job.status == "done", (job.message, errors(job))
    assert set(actions(job).values()) == {"new"}
    assert "2 new draft events" in job.message
    wrap = EventPage.objects.get(title="WRAP group")
    assert not wrap.live and wrap.get_parent().pk == event_index.pk
    assert (wrap.kind, wrap.capacity, wrap.venue) == ("group", 12, hall)
    assert list(wrap.facilitators.all()) == [facilitator]
    sessions = list(wrap.sessions.order_by("start"))
    assert [s.start for s in sessions] == [
        local(2026, 9, 14, 18),
        local(2026, 9, 21, 18),
        local(2026, 9, 28, 18),
    ]
    assert sessions[0].end == local(2026, 9, 14, 19, 30)
    assert [s.venue for s in sessions] == [None, None, library]
    assert EventPage.objects.get(title="Naloxone").kind == "education"
    assert PageLogEntry.objects.filter(page=wrap, action="wagtail.create").exists()


def test_reimport_changes_nothing_then_moves_and_cancels(
    coordinator, event_index, facilitator
):
    make_venue(name="Hall")
    make_venue(name="Library")
    _import(coordinator, _plan("Hall"), event_index)
    again = _import(coordinator, _plan("Hall"), event_index)
    assert set(actions(again).values()) == {"skip"}
    assert EventPage.objects.count() == 2

    client_plan = [
        ["event", "start", "end", "status", "capacity"],
        ["WRAP group", "2026-09-14 18:00", "20:00", "", "10"],
        ["WRAP group", "2026-09-21 18:00", "19:30", "cancelled", ""],
    ]
    job = _import(coordinator, client_plan, event_index)
    assert actions(job) == {2: "update", 3: "update"}
    wrap = EventPage.objects.get(title="WRAP group")
    first, second = wrap.sessions.order_by("start")[:2]
    assert (first.end, first.status, first.sequence) == (
        local(2026, 9, 14, 20),
        "moved",
        1,
    )
    assert (second.status, second.sequence) == ("cancelled", 1)
    # The capacity change is a draft for the editor to publish.
    assert wrap.capacity == 12
    assert wrap.get_latest_revision_as_object().capacity == 10
    assert "draft" in job.preview["rows"][0][4]


def test_xlsx_with_excel_date_cells(coordinator, event_index):
    data = xlsx_bytes(
        [
            ["Event title", "Starts", "Ends"],
            ["Walk", dt.datetime(2026, 11, 1, 9, 59, 59, 999_000), dt.time(11, 0)],
        ]
    )
    job = import_file(
        coordinator, "schedule", data, "plan.xlsx", options={"parent": event_index.pk}
    )
    assert job.status == "done", errors(job)
    session = EventSession.objects.get()
    assert (session.start, session.end) == (
        local(2026, 11, 1, 10),
        local(2026, 11, 1, 11),
    )


def test_every_kind_of_row_error(
    coordinator, event_index, facilitator, django_user_model
):
    make_venue(name="Hall")
    make_venue(name="Twin", room="A")
    make_venue(name="Twin", room="B")
    django_user_model.objects.create_user("notfac", email="n@example.org")
    make_event(event_index, title="Dup title")
    make_event(event_index, title="Dup title")
    rows = [
        [*HEADER, "status", "uid"],
        ["", "", "", "2026-09-14 18:00", "19:00", "", "", "", ""],
        ["A", "", "", "next week", "19:00", "", "", "", ""],
        ["B", "", "", "2026-09-14 18:00", "17:00", "", "", "", ""],
        ["C", "", "Castle", "2026-09-14 18:00", "19:00", "", "", "", ""],
        ["D", "", "Twin", "2026-09-14 18:00", "19:00", "", "", "", ""],
        ["E", "", "", "2026-09-14 18:00", "19:00", "", "nobody", "", ""],
        ["F", "", "", "2026-09-14 18:00", "19:00", "", "notfac", "", ""],
        ["G", "", "", "2026-09-14 18:00", "19:00", "5", "", "", ""],
        ["G", "", "", "2026-09-21 18:00", "19:00", "6", "", "", ""],
        ["H", "castle", "", "2026-09-14 18:00", "19:00", "", "", "", ""],
        ["I", "", "", "2026-09-14 18:00", "19:00", "-1", "", "", ""],
        ["J", "", "", "2026-09-14 18:00", "19:00", "", "", "postponed", ""],
        ["K", "", "", "2026-09-14 18:00", "19:00", "", "", "", "no-such-uid"],
        ["L", "", "", "2026-09-14 18:00", "19:00", "", "", "", ""],
        ["L", "", "", "2026-09-14 18:00", "19:30", "", "", "", ""],
        ["Dup title", "", "", "2026-09-14 18:00", "19:00", "", "", "", ""],
        ["M", "", "", "", "", "", "", "", ""],
    ]
    job = make_job(
        coordinator, "schedule", csv_bytes(rows), options={"parent": event_index.pk}
    )
    found = errors(job)
    assert "event's title" in found[2]["event"][0]
    assert "start date and time" in found[3]["start"][0]
    assert "end after it starts" in found[4]["end"][0]
    assert "No venue is called" in found[5]["venue"][0]
    assert "“Name, Room”" in found[6]["venue"][0]
    assert "No active user" in found[7]["facilitators"][0]
    assert "not in the Facilitators group" in found[8]["facilitators"][0]
    assert 9 not in found and "must agree" in found[10]["capacity"][0]
    assert "kind must be one of" in found[11]["kind"][0]
    assert "whole number" in found[12]["capacity"][0]
    assert "status must be one of" in found[13]["status"][0]
    assert "No session has this uid" in found[14]["uid"][0]
    assert 15 not in found and "same session" in found[16]["start"][0]
    assert "More than one event" in found[17]["event"][0]
    assert set(found[18]) == {"start", "end"}
    assert EventPage.objects.count() == 2  # checking created nothing


def test_one_bad_row_creates_nothing(coordinator, event_index):
    rows = [
        HEADER,
        ["Good", "", "", "2026-09-14 18:00", "19:00", "", ""],
        ["", "", "", "", "", "", ""],
    ]
    rows[2][0] = "Bad"
    rows[2][3] = "soon"
    job = _import(coordinator, rows, event_index)
    assert job.status == "failed"
    assert not EventPage.objects.filter(title="Good").exists()
    assert not EventSession.objects.exists()


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "json"])
def test_round_trip_changes_nothing(
    client, coordinator, event_index, facilitator, file_format
):
    hall = make_venue(name="Hall", room="=2")
    other = make_venue(name="Other")
    event = make_event(
        event_index, title="-Published", venue=hall, capacity=8, kind="social"
    )
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    make_session(event, start=local(2026, 10, 1, 18))
    make_session(event, start=local(2026, 10, 8, 18), venue=other)
    cancelled = make_session(event, start=local(2026, 10, 15, 18))
    from events.sessions import cancel_session

    cancel_session(session=cancelled)
    draft = make_event(event_index, title="Draft", publish=False)
    make_session(draft, start=local(2026, 10, 2, 9, 30))
    before = list(EventSession.objects.order_by("pk").values())
    client.force_login(coordinator)
    response = export(client, "schedule", file_format)
    assert response.status_code == 200
    job = import_file(
        coordinator,
        "schedule",
        response.content,
        f"s.{file_format}",
        options={"parent": event_index.pk},
    )
    assert job.status == "done", (job.message, errors(job))
    assert set(actions(job).values()) == {"skip"}
    assert list(EventSession.objects.order_by("pk").values()) == before
    assert EventPage.objects.count() == 2
    entry = ModelLogEntry.objects.get(action="spreadsheets.export")
    assert entry.data["rows"] == 4 and entry.data["resource"] == "schedule"


def test_export_keeps_the_listing_filters(client, coordinator, event_index):
    one = make_event(event_index, title="One")
    two = make_event(event_index, title="Two")
    make_session(one)
    make_session(two)
    client.force_login(coordinator)
    text = export(client, "schedule", event=one.pk).content.decode("utf-8-sig")
    assert "One," in text and "Two," not in text


def test_events_the_user_cannot_edit_are_refused(
    coordinator, event_index, home_page, django_user_model
):
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission

    from tests.conftest import make_event_index

    locked = make_event(event_index, title="Locked")
    mine = make_event_index(home_page, title="Mine")
    group = Group.objects.create(name="Limited")
    group.permissions.add(
        *Permission.objects.filter(
            codename__in=["access_admin", "add_eventsession", "change_eventsession"]
        )
    )
    for codename in ("add_page", "change_page"):
        GroupPagePermission.objects.create(
            group=group, page=mine, permission=Permission.objects.get(codename=codename)
        )
    user = django_user_model.objects.create_user("limited")
    user.groups.add(group)
    session = make_session(locked)
    rows = [
        ["event", "start", "end", "uid"],
        ["Locked", "2026-09-14 18:00", "19:00", session.uid],
    ]
    job = make_job(user, "schedule", csv_bytes(rows), options={"parent": mine.pk})
    assert "not allowed to change this event" in errors(job)[2]["event"][0]
    refused = make_job(
        user, "schedule", csv_bytes(rows), options={"parent": event_index.pk}
    )
    assert refused.status == "failed" and "cannot add events" in refused.message


def test_times_the_clocks_skip_are_refused_and_valid_rows_still_import(
    coordinator, event_index
):
    """2:30 a.m. on the night the clocks go forward (Toronto, 2027-03-14)
    does not exist; 02:30-03:30 would be an hour long on the clock face and
    no time at all."""
    rows = [
        HEADER,
        ["Night group", "", "", "2027-03-14 02:30", "03:30", "", ""],
        ["Night group", "", "", "2027-03-13 23:00", "2027-03-14 03:30", "", ""],
        ["Day group", "", "", "2027-03-14 10:00", "11:00", "", ""],
    ]
    job = _import(coordinator, rows, event_index, skip_invalid=True)
    assert job.status == "done", job.message
    found = errors(job)
    assert list(found) == [2]
    assert "There is no 02:30 on 2027-03-14" in found[2]["start"][0]
    day, night = EventPage.objects.order_by("title")
    assert [s.end - s.start for s in night.sessions.all()] == [
        dt.timedelta(hours=3, minutes=30)
    ]
    assert day.sessions.count() == 1
