"""Calendar files that repeat too often: planning stops at the cap, quickly,
with a message naming the event and the cap, and nothing is imported."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.errors import EventsError
from events.ics_import import plan_import
from events.models import EventPage, EventSession
from tests.events.test_ics_import import NOW, ics

pytestmark = pytest.mark.django_db

#: How long planning one crafted file may take at most.
SECONDS = 5


def _vevent(uid, *lines, start="20261201T180000", title="Drop-in"):
    return "\r\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20261101T000000Z",
            f"DTSTART;TZID=America/Toronto:{start}",
            f"SUMMARY:{title}",
            *lines,
            "END:VEVENT",
        ]
    )


def _refused(data):
    """The EventsError planning ``data`` raises, timed."""
    began = time.perf_counter()
    with pytest.raises(EventsError) as error:
        plan_import(data, source="Riverside Library", now=NOW)
    took = time.perf_counter() - began
    assert took < SECONDS, f"took {took:.1f} s"
    assert not EventPage.objects.exists()
    assert not EventSession.objects.exists()
    return error.value


EVENT_CAP = (
    "“Drop-in” repeats more than 200 times in the coming year. Gather imports "
    "at most 200 sessions an event, so nothing was imported"
)


@pytest.mark.parametrize(
    "rule",
    [
        "RRULE:FREQ=MINUTELY",
        "RRULE:FREQ=SECONDLY",
        "RRULE:FREQ=HOURLY",
        "RRULE:FREQ=DAILY;COUNT=1000000000",
        "RRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12;BYMINUTE=0,30",
        # Two rules, each under the cap, together over it.
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE\r\nRRULE:FREQ=WEEKLY;BYDAY=TH,FR",
    ],
)
def test_an_event_repeating_more_than_the_cap_is_refused_quickly(rule):
    error = _refused(ics(_vevent("drop-in@library", rule)))
    assert error.code == "too_many_occurrences"
    assert error.message.startswith(EVENT_CAP)


def test_the_238_byte_minutely_file_is_refused_quickly():
    data = (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20261201T000000Z\r\n"
        b"SUMMARY:Drop-in\r\nRRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert len(data) < 238
    assert _refused(data).code == "too_many_occurrences"


def test_a_minutely_rule_since_1970_is_refused_without_stepping_through_it():
    error = _refused(
        ics(_vevent("old@library", "RRULE:FREQ=MINUTELY", start="19700101T000000"))
    )
    assert error.code == "too_complex"
    assert "nothing was imported" in error.message


def test_many_old_series_are_refused_without_stepping_through_them_all():
    old = [
        _vevent(
            f"old-{n}@library",
            "RRULE:FREQ=DAILY;UNTIL=20200101T000000Z",
            start="19900101T180000",
        )
        for n in range(30)
    ]
    assert _refused(ics(*old)).code == "too_complex"


def test_more_sessions_than_the_file_cap_is_refused(settings):
    settings.GATHER_ICS_MAX_SESSIONS = 50
    weekly = [
        _vevent(f"group-{n}@library", "RRULE:FREQ=WEEKLY;COUNT=10") for n in range(6)
    ]
    error = _refused(ics(*weekly))
    assert error.code == "too_many_sessions"
    assert error.message.startswith(
        "The file has more than 50 sessions in the coming year."
    )


def test_many_one_off_events_over_the_file_cap_are_refused():
    one_offs = [
        _vevent(
            f"talk-{n}@library", start=f"2027{1 + n // 500:02}{1 + n % 28:02}T180000"
        )
        for n in range(1001)
    ]
    assert _refused(ics(*one_offs)).code == "too_many_sessions"


def test_the_upload_form_says_what_the_caps_are(client, admin_user, settings):
    settings.GATHER_ICS_MAX_OCCURRENCES = 52
    settings.GATHER_ICS_MAX_SESSIONS = 2500
    client.force_login(admin_user)
    page = client.get(reverse("events_ics_import")).content.decode()
    assert "at most 52 sessions an event and 2,500 in all" in page


def test_the_caps_are_settings_and_a_file_at_the_cap_imports(settings):
    settings.GATHER_ICS_MAX_OCCURRENCES = 10
    at_cap = ics(_vevent("drop-in@library", "RRULE:FREQ=WEEKLY;COUNT=10"))
    assert (
        len(plan_import(at_cap, source="Library", now=NOW).events[0].occurrences) == 10
    )
    error = _refused(ics(_vevent("drop-in@library", "RRULE:FREQ=WEEKLY;COUNT=11")))
    assert "repeats more than 10 times" in error.message


def test_overridden_dates_count_towards_the_cap(settings):
    """Dates given as overrides of a series are sessions too."""
    settings.GATHER_ICS_MAX_OCCURRENCES = 3
    series = _vevent("drop-in@library", "RRULE:FREQ=WEEKLY;COUNT=3")
    moved = [
        _vevent(
            "drop-in@library",
            f"RECURRENCE-ID;TZID=America/Toronto:2027010{day}T180000",
            start=f"2027010{day}T180000",
        )
        for day in (4, 5)
    ]
    assert _refused(ics(series, *moved)).code == "too_many_occurrences"


def test_the_admin_shows_the_cap_next_to_the_field(client, admin_user, event_index):
    client.force_login(admin_user)
    response = client.post(
        reverse("events_ics_import"),
        {
            "calendar_file": SimpleUploadedFile(
                "library.ics", ics(_vevent("drop-in@library", "RRULE:FREQ=HOURLY"))
            ),
            "parent": event_index.pk,
        },
    )
    assert response.status_code == 200
    assert "repeats more than 200 times" in response.content.decode()
    assert not EventPage.objects.exists()
    assert "events.ics_import" not in client.session


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("library.pdf", ics(_vevent("talk@library")), "its name ends in .ics"),
        ("library.ics", b"PK\x03\x04" + bytes(100), "This is not a calendar (.ics)"),
        ("library.ics", b"%PDF-1.7\n" + ics(_vevent("talk@library")), "not a calendar"),
        # Found by tests/test_fuzz.py on PostgreSQL, which cannot store it.
        (
            "library.ics",
            ics(_vevent("talk@library", title="Ta\x00lk")),
            "not a calendar",
        ),
    ],
)
def test_a_file_that_is_not_a_calendar_gets_a_message_next_to_the_field(
    client, admin_user, event_index, name, data, message
):
    client.force_login(admin_user)
    response = client.post(
        reverse("events_ics_import"),
        {"calendar_file": SimpleUploadedFile(name, data), "parent": event_index.pk},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not EventPage.objects.exists()


@pytest.mark.parametrize("name", ["DTSTART", "DTEND", "RECURRENCE-ID", "UID"])
def test_a_property_given_twice_that_may_be_given_once_is_refused(name):
    """Found by tests/test_fuzz.py: a second DTSTART was a server error."""
    line = f"{name}:20261208T180000" if name != "UID" else "UID:again@library"
    # The event has a DTSTART, a UID and a DTEND of its own.
    twice = [line, line] if name == "RECURRENCE-ID" else [line]
    event = _vevent("talk@library", "DTEND:20261201T190000Z", *twice)
    error = _refused(ics(event))
    assert error.code == "malformed"
    assert f"has more than one {name}" in error.message


@pytest.mark.parametrize(
    "rule",
    [
        "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
        "RRULE:FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31",
        "RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=10",
    ],
)
def test_a_rule_that_never_gives_a_date_is_refused_quickly(rule):
    """dateutil would look for its first date up to the year 9999 (seconds
    for a daily rule, twice: once counting, once expanding)."""
    error = _refused(ics(_vevent("never@library", rule)))
    assert error.code == "never_repeats"
    assert error.message.startswith("“Drop-in” repeats by a rule that never gives")


def test_a_rule_that_rarely_gives_a_date_is_not_refused():
    """Every 29 February is rare, not impossible: it imports what falls in
    the coming year (one date or none)."""
    plan = plan_import(
        ics(_vevent("leap@library", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29")),
        source="Riverside Library",
        now=NOW,
    )
    assert sum(len(event.occurrences) for event in plan.events) <= 1


def test_a_file_whose_rules_take_too_long_to_check_is_refused(monkeypatch):
    monkeypatch.setattr("events.ics_import.MAX_PLANNING_SECONDS", 0)
    events = [_vevent(f"e{n}@library", "RRULE:FREQ=WEEKLY") for n in range(3)]
    error = _refused(ics(*events))
    assert error.code == "too_complex"
