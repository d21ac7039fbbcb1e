"""Importing partner calendars: recurrence, all-day, cancellations, bad files,
and re-imports that update instead of duplicating."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.errors import EventsError
from events.ics_import import MAX_ICS_BYTES, apply_import, plan_import
from events.models import EventPage, EventSession

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")
NOW = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)


def ics(*events, name="Riverside Library"):
    body = "\r\n".join(events)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Partner//EN\r\n"
        f"X-WR-CALNAME:{name}\r\n{body}\r\nEND:VCALENDAR\r\n"
    ).encode()


BOOK_CLUB = "\r\n".join(
    [
        "BEGIN:VEVENT",
        "UID:book-club@library",
        "DTSTAMP:20261101T000000Z",
        "DTSTART;TZID=America/Toronto:20261201T180000",
        "DTEND;TZID=America/Toronto:20261201T193000",
        "RRULE:FREQ=WEEKLY;COUNT=5",
        "EXDATE;TZID=America/Toronto:20261215T180000",
        "RDATE;TZID=America/Toronto:20270120T180000",
        "SUMMARY:Book club",
        "DESCRIPTION:Read and talk.",
        "END:VEVENT",
    ]
)
BOOK_CLUB_CANCELLED_ON_22ND = "\r\n".join(
    [
        "BEGIN:VEVENT",
        "UID:book-club@library",
        "RECURRENCE-ID;TZID=America/Toronto:20261222T180000",
        "DTSTAMP:20261101T000000Z",
        "DTSTART;TZID=America/Toronto:20261222T180000",
        "DTEND;TZID=America/Toronto:20261222T193000",
        "STATUS:CANCELLED",
        "SUMMARY:Book club",
        "END:VEVENT",
    ]
)
FAIR = "\r\n".join(
    [
        "BEGIN:VEVENT",
        "UID:fair@library",
        "DTSTAMP:20261101T000000Z",
        "DTSTART;VALUE=DATE:20261205",
        "DTEND;VALUE=DATE:20261206",
        "SUMMARY:Wellness fair",
        "END:VEVENT",
    ]
)


def _import(data, index, source="Riverside Library"):
    plan = plan_import(data, source=source, now=NOW)
    return plan, apply_import(plan, index=index)


def _local_starts(event):
    return [
        (s.start.astimezone(TORONTO).date(), s.status)
        for s in event.sessions.order_by("start")
    ]


def test_recurring_event_expands_with_rrule_exdate_rdate_and_cancelled_override(
    event_index,
):
    plan, result = _import(ics(BOOK_CLUB, BOOK_CLUB_CANCELLED_ON_22ND), event_index)

    assert [e.action for e in plan.events] == ["create"]
    event = EventPage.objects.get(import_uid="book-club@library")
    assert not event.live  # a draft
    assert event.title == "Book club" and event.summary == "Read and talk."
    assert _local_starts(event) == [
        (dt.date(2026, 12, 1), "scheduled"),
        (dt.date(2026, 12, 8), "scheduled"),
        (dt.date(2026, 12, 22), "cancelled"),
        (dt.date(2026, 12, 29), "scheduled"),
        (dt.date(2027, 1, 20), "scheduled"),
    ]
    assert {s.start.astimezone(TORONTO).time() for s in event.sessions.all()} == {
        dt.time(18)
    }
    assert (result.created, result.sessions_added, result.sessions_cancelled) == (
        1,
        5,
        1,
    )


def test_all_day_event_becomes_a_whole_day_session(event_index):
    _import(ics(FAIR), event_index)
    session = EventSession.objects.get(event__import_uid="fair@library")
    assert session.start == dt.datetime(2026, 12, 5, tzinfo=TORONTO)
    assert session.end == dt.datetime(2026, 12, 6, tzinfo=TORONTO)


def test_reimporting_the_same_file_creates_nothing_new(event_index):
    data = ics(BOOK_CLUB, FAIR)
    _import(data, event_index)
    sessions_before = {s.uid: s.sequence for s in EventSession.objects.all()}

    plan, result = _import(data, event_index)

    assert [e.action for e in plan.events] == ["update", "update"]
    assert EventPage.objects.count() == 2
    assert {s.uid: s.sequence for s in EventSession.objects.all()} == sessions_before
    assert (result.created, result.sessions_added, result.sessions_changed) == (0, 0, 0)


def test_reimport_cancels_what_the_file_cancelled_or_dropped_and_moves_what_moved(
    event_index,
):
    _import(ics(BOOK_CLUB, FAIR), event_index)
    moved_fair = FAIR.replace(
        "DTSTART;VALUE=DATE:20261205", "DTSTART;VALUE=DATE:20261204"
    )

    _import(ics(BOOK_CLUB, BOOK_CLUB_CANCELLED_ON_22ND, moved_fair), event_index)
    fair = EventSession.objects.get(event__import_uid="fair@library")
    assert fair.start.date() == dt.date(2026, 12, 4) and fair.sequence == 1
    club = EventPage.objects.get(import_uid="book-club@library")
    assert "cancelled" in dict(_local_starts(club)).values()

    cancelled_fair = moved_fair.replace("SUMMARY:", "STATUS:CANCELLED\r\nSUMMARY:")
    _import(ics(BOOK_CLUB, cancelled_fair), event_index)
    fair.refresh_from_db()
    assert fair.status == "cancelled"


def test_events_missing_from_a_later_file_are_left_alone(event_index):
    """A partner may export a shorter range; absence is not cancellation."""
    _import(ics(BOOK_CLUB, FAIR), event_index)
    plan, _ = _import(ics(BOOK_CLUB), event_index)
    assert plan.untouched == 1
    assert (
        EventSession.objects.get(event__import_uid="fair@library").status == "scheduled"
    )


def test_same_uid_from_another_source_is_a_different_event(event_index):
    _import(ics(FAIR), event_index, source="Library")
    _import(ics(FAIR), event_index, source="Community centre")
    assert EventPage.objects.filter(import_uid="fair@library").count() == 2


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"this is not a calendar", "malformed"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no_events"),
        (ics(FAIR.replace("UID:fair@library\r\n", "")), "malformed"),
        (
            ics(
                BOOK_CLUB.replace("America/Toronto", "Mars/Olympus_Mons"),
            ),
            "unknown_timezone",
        ),
        (ics(FAIR) + b" " * MAX_ICS_BYTES, "too_large"),
        (ics(BOOK_CLUB.replace("20261201T180000", "2026121")), "malformed"),
        (ics(BOOK_CLUB.replace("FREQ=WEEKLY", "FREQ=SOMETIMES")), "malformed"),
        (ics(BOOK_CLUB.replace("COUNT=5", "COUNT=five")), "malformed"),
        (
            ics(FAIR.replace("20261205", "20201205").replace("20261206", "20201206")),
            "no_events",
        ),
    ],
)
def test_bad_files_give_a_clear_error_and_create_nothing(event_index, data, code):
    with pytest.raises(EventsError) as error:
        _import(data, event_index)
    assert error.value.code == code
    assert error.value.message
    assert not EventPage.objects.exists()


def test_admin_upload_preview_confirm_and_import_twice(client, admin_user, event_index):
    client.force_login(admin_user)
    url = reverse("events_ics_import")
    data = ics(BOOK_CLUB, FAIR)

    def upload():
        return client.post(
            url,
            {
                "calendar_file": SimpleUploadedFile("library.ics", data),
                "source": "",
                "parent": event_index.pk,
            },
        )

    preview = upload()
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Preview: Riverside Library" in html and "Book club" in html
    assert not EventPage.objects.exists()  # nothing until confirmed

    assert client.post(url, {"confirm": "1"}).status_code == 302
    assert EventPage.objects.count() == 2

    again = upload().content.decode()
    assert again.count("<td>Update</td>") == 2 and "<td>New</td>" not in again
    client.post(url, {"confirm": "1"})
    assert EventPage.objects.count() == 2
    assert EventSession.objects.count() == 6


def test_admin_upload_shows_file_errors_next_to_the_field(
    client, admin_user, event_index
):
    client.force_login(admin_user)
    response = client.post(
        reverse("events_ics_import"),
        {
            "calendar_file": SimpleUploadedFile("x.ics", b"garbage"),
            "parent": event_index.pk,
        },
    )
    assert response.status_code == 200
    assert "This is not a calendar" in response.content.decode()
    assert not EventPage.objects.exists()
