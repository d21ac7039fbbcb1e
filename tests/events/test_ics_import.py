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


def _admin_preview(client, user, data, index) -> str:
    """The admin's preview page for ``data`` uploaded as ``user``."""
    client.force_login(user)
    response = client.post(
        reverse("events_ics_import"),
        {
            "calendar_file": SimpleUploadedFile("library.ics", data),
            "source": "",
            "parent": index.pk,
        },
    )
    return response.content.decode()


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


def test_all_day_event_becomes_a_working_day_session_and_the_preview_says_so(
    event_index,
):
    plan, _ = _import(ics(FAIR), event_index)
    (fair,) = plan.events
    assert fair.all_day_note == (
        "All-day event: imported as 9 a.m. to 5 p.m.; change the session's times "
        "if they differ."
    )
    session = EventSession.objects.get(event__import_uid="fair@library")
    assert session.start == dt.datetime(2026, 12, 5, 9, tzinfo=TORONTO)
    assert session.end == dt.datetime(2026, 12, 5, 17, tzinfo=TORONTO)


def _vevent(uid, *lines):
    return "\r\n".join(
        ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261101T000000Z", *lines, "END:VEVENT"]
    )


def test_multi_day_all_day_event_becomes_one_session_a_day(event_index):
    festival = _vevent(
        "festival@library",
        "DTSTART;VALUE=DATE:20261210",
        "DTEND;VALUE=DATE:20261213",
        "SUMMARY:Winter festival",
    )
    plan, result = _import(ics(festival), event_index)
    assert plan.events[0].all_day_note == (
        "All-day event over 3 days: imported as one session a day, 9 a.m. to "
        "5 p.m.; change the sessions' times if they differ."
    )
    sessions = EventSession.objects.filter(event__import_uid="festival@library")
    assert [
        (s.start.astimezone(TORONTO), s.end.astimezone(TORONTO))
        for s in sessions.order_by("start")
    ] == [
        (
            dt.datetime(2026, 12, day, 9, tzinfo=TORONTO),
            dt.datetime(2026, 12, day, 17, tzinfo=TORONTO),
        )
        for day in (10, 11, 12)
    ]
    again, second = _import(ics(festival), event_index)
    assert (second.sessions_added, second.sessions_changed) == (0, 0)
    assert sessions.count() == 3


def test_all_day_event_with_a_duration_or_no_end(event_index):
    two_days = _vevent(
        "walk@library", "DTSTART;VALUE=DATE:20261210", "DURATION:P2D", "SUMMARY:Walk"
    )
    one_day = _vevent("day@library", "DTSTART;VALUE=DATE:20261215", "SUMMARY:Day")
    _import(ics(two_days, one_day), event_index)
    assert EventSession.objects.filter(event__import_uid="walk@library").count() == 2
    (day,) = EventSession.objects.filter(event__import_uid="day@library")
    assert day.start == dt.datetime(2026, 12, 15, 9, tzinfo=TORONTO)


def test_a_timed_event_without_an_end_lasts_an_hour_not_a_day(event_index):
    talk = _vevent(
        "talk@library", "DTSTART;TZID=America/Toronto:20261210T180000", "SUMMARY:Talk"
    )
    _import(ics(talk), event_index)
    session = EventSession.objects.get(event__import_uid="talk@library")
    assert session.end - session.start == dt.timedelta(hours=1)


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
    ).replace("DTEND;VALUE=DATE:20261206", "DTEND;VALUE=DATE:20261205")

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


def test_admin_upload_preview_confirm_and_import_twice(
    client, admin_user, event_index, time_machine
):
    # At ``NOW``, as the other tests: an import reads occurrences from a
    # day back (``_window``), so once the book club's first evening (1
    # December 2026) is more than a day past, the file gives one fewer.
    time_machine.move_to(NOW, tick=False)
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


def _talk(*lines, uid="talk@library"):
    return _vevent(
        uid,
        "DTSTART;TZID=America/Toronto:20261210T180000",
        "DTEND;TZID=America/Toronto:20261210T193000",
        "SUMMARY:Talk",
        *lines,
    )


@pytest.mark.parametrize(
    "location",
    [
        "riverside hall",
        "RIVERSIDE HALL.",
        "Riverside Hall, 12 Main St\\, Toronto",
        "Riverside Hall\\, Room 2",
    ],
)
def test_a_location_naming_one_venue_becomes_the_event_s_venue(event_index, location):
    from tests.conftest import make_venue

    hall = make_venue(
        name="Riverside Hall", room="Room 2", address="12 Main St, Toronto"
    )
    make_venue(name="Riverside Library")
    plan, _ = _import(ics(_talk(f"LOCATION:{location}")), event_index)
    assert plan.events[0].venue == hall
    event = EventPage.objects.get(import_uid="talk@library")
    assert event.venue == hall
    assert "Riverside" not in event.what_to_expect


@pytest.mark.parametrize(
    "location",
    [
        "Riverside Hall annex",  # a different place that starts the same
        "Hall",
        "Riverside Hall, 99 Other Rd",  # the name, but another address
    ],
)
def test_a_location_matching_no_venue_exactly_is_kept_as_text(event_index, location):
    from tests.conftest import make_venue

    make_venue(name="Riverside Hall", address="12 Main St, Toronto")
    plan, _ = _import(ics(_talk(f"LOCATION:{location}")), event_index)
    assert plan.events[0].venue is None
    event = EventPage.objects.get(import_uid="talk@library")
    assert event.venue is None
    assert f"Where: {location}" in event.what_to_expect


def test_a_location_two_venues_could_be_matches_neither(event_index):
    from tests.conftest import make_venue

    make_venue(name="Community Centre", room="Room A")
    make_venue(name="Community Centre", room="Room B")
    plan, _ = _import(ics(_talk("LOCATION:Community Centre")), event_index)
    assert plan.events[0].venue is None
    assert "Where: Community Centre" in EventPage.objects.get().what_to_expect


def test_the_url_becomes_a_more_information_link_and_text_is_escaped(event_index):
    plan, _ = _import(
        ics(
            _talk(
                "LOCATION:<b>Back room</b> & garden",
                "URL:https://library.example.org/events/talk?id=1&lang=en",
            )
        ),
        event_index,
    )
    assert plan.events[0].url == "https://library.example.org/events/talk?id=1&lang=en"
    html = EventPage.objects.get().what_to_expect
    assert "<p>Where: &lt;b&gt;Back room&lt;/b&gt; &amp; garden</p>" in html
    assert '<a href="https://library.example.org/events/talk?id=1&amp;lang=en">' in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "soon"])
def test_a_url_that_is_not_a_web_address_is_not_made_a_link(event_index, url):
    plan, _ = _import(ics(_talk(f"URL:{url}")), event_index)
    assert plan.events[0].url == ""
    assert "<a " not in EventPage.objects.get().what_to_expect


def test_a_location_that_is_a_link_is_shown_in_the_preview_but_not_published(
    event_index,
):
    link = "https://meet.example.org/j/123?pwd=secret"
    plan, _ = _import(ics(_talk(f"LOCATION:{link}")), event_index)
    assert plan.events[0].location == link and plan.events[0].location_is_link
    assert "meet.example.org" not in EventPage.objects.get().what_to_expect


def test_a_reimport_leaves_the_event_s_details_as_edited(event_index):
    _import(ics(_talk("LOCATION:Back room")), event_index)
    event = EventPage.objects.get()
    EventPage.objects.filter(pk=event.pk).update(what_to_expect="<p>Edited</p>")
    _import(ics(_talk("LOCATION:Front room")), event_index)
    event.refresh_from_db()
    assert event.what_to_expect == "<p>Edited</p>"


def test_admin_preview_shows_location_url_and_all_day_note(
    client, admin_user, event_index
):
    from tests.conftest import make_venue

    make_venue(name="Riverside Hall")
    data = ics(
        _talk("LOCATION:Riverside Hall", "URL:https://library.example.org/talk"),
        _talk("LOCATION:Back room", uid="other@library"),
        _talk("LOCATION:https://meet.example.org/j/1", uid="online@library"),
        _talk("URL:https://zoom.us/j/9", uid="zoom@library"),
        FAIR,
    )
    html = _admin_preview(client, admin_user, data, event_index)
    assert "Venue: Riverside Hall" in html
    assert '<a href="https://library.example.org/talk"' in html
    assert "No venue has this name: kept as text" in html
    assert "This location has a web address in it" in html
    assert "so it was left off the event page" in html
    assert "All-day event: imported as 9 a.m. to 5 p.m." in html
    assert "This is a video meeting link." in html


def test_a_date_of_a_series_meeting_elsewhere_keeps_its_place(
    client, admin_user, event_index
):
    from tests.conftest import make_venue

    hall = make_venue(name="Riverside Hall")
    annex = make_venue(name="Riverside Annex")
    series = _vevent(
        "series@library",
        "DTSTART;TZID=America/Toronto:20261201T180000",
        "DTEND;TZID=America/Toronto:20261201T190000",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "LOCATION:Riverside Hall",
        "SUMMARY:Group",
    )

    def moved(day, location):
        return _vevent(
            "series@library",
            f"RECURRENCE-ID;TZID=America/Toronto:202612{day}T180000",
            f"DTSTART;TZID=America/Toronto:202612{day}T180000",
            f"DTEND;TZID=America/Toronto:202612{day}T190000",
            f"LOCATION:{location}",
            "SUMMARY:Group",
        )

    data = ics(
        series,
        moved("08", "riverside annex"),
        moved("15", "The park by the river"),
        moved("22", "https://meet.example.org/j/1"),
    )
    plan, _ = _import(data, event_index)
    assert plan.events[0].elsewhere_count == 2
    event = EventPage.objects.get(import_uid="series@library")
    assert event.venue == hall
    places = [
        (s.start.astimezone(TORONTO).day, s.venue, s.public_note)
        for s in event.sessions.order_by("start")
    ]
    assert places == [
        (1, None, ""),
        (8, annex, ""),
        (15, None, "Meets at: The park by the river"),
        (22, None, ""),
    ]
    html = _admin_preview(client, admin_user, data, event_index)
    assert "2 sessions meet somewhere else" in html
    assert plan.events[0].link_elsewhere_count == 1
    assert "1 session has a web address in its location" in html


def test_a_location_or_url_given_twice_is_read_as_text_not_a_list(event_index):
    plan, _ = _import(
        ics(
            _talk(
                "LOCATION:Back room",
                "LOCATION:Garden",
                "URL:https://library.example.org/a",
                "URL:https://library.example.org/b",
            )
        ),
        event_index,
    )
    assert plan.events[0].location == "Back room; Garden"
    assert plan.events[0].url == "https://library.example.org/a"
    assert "Where: Back room; Garden" in EventPage.objects.get().what_to_expect


def test_a_summary_or_description_given_twice_is_read_as_text(event_index):
    twice = _vevent(
        "twice@library",
        "DTSTART;TZID=America/Toronto:20261210T180000",
        "SUMMARY:Book club",
        "SUMMARY:Club de lecture",
        "DESCRIPTION:Read and talk.",
        "DESCRIPTION:Lire et parler.",
    )
    _import(ics(twice), event_index)
    event = EventPage.objects.get()
    assert (event.title, event.summary) == (
        "Book club; Club de lecture",
        "Read and talk.",
    )


def test_the_all_day_note_counts_the_days_as_imported(event_index):
    """The expander reads an end before the start as the other way round:
    the preview counts the sessions that will be made, not the raw dates."""
    backwards = _vevent(
        "back@library",
        "DTSTART;VALUE=DATE:20261212",
        "DTEND;VALUE=DATE:20261210",
        "SUMMARY:Backwards",
    )
    plan, _ = _import(ics(backwards), event_index)
    assert plan.events[0].all_day_days == len(plan.events[0].occurrences) == 2


@pytest.mark.parametrize(
    "location",
    [
        "Zoom: https://zoom.us/j/123?pwd=abc",
        "Online – https://meet.google.com/xyz",
        "meet.google.com/abc-defg-hij",
        "www.example.org/room",
        "Join at zoom.us/j/123 (passcode 42)",
        "HTTPS://TEAMS.MICROSOFT.COM/l/meetup-join/1",
    ],
)
def test_a_location_with_a_web_address_in_it_never_reaches_the_page(
    event_index, location
):
    plan, _ = _import(ics(_talk(f"LOCATION:{location}")), event_index)
    assert plan.events[0].location == location and plan.events[0].location_is_link
    html = EventPage.objects.get().what_to_expect
    assert "Where" not in html and location.split()[-1] not in html


@pytest.mark.parametrize(
    "location", ["St. Paul Hall", "Room 1.05/1.06", "Unit 4/5, 12 Main St."]
)
def test_a_place_with_dots_or_slashes_is_not_taken_for_a_link(event_index, location):
    _import(ics(_talk(f"LOCATION:{location}")), event_index)
    assert f"Where: {location}" in EventPage.objects.get().what_to_expect


def test_a_date_of_a_series_moved_online_gets_no_public_note(event_index):
    series = _vevent(
        "series@library",
        "DTSTART;TZID=America/Toronto:20261201T180000",
        "DTEND;TZID=America/Toronto:20261201T190000",
        "RRULE:FREQ=WEEKLY;COUNT=2",
        "LOCATION:Back room",
        "SUMMARY:Group",
    )
    online = _vevent(
        "series@library",
        "RECURRENCE-ID;TZID=America/Toronto:20261208T180000",
        "DTSTART;TZID=America/Toronto:20261208T180000",
        "DTEND;TZID=America/Toronto:20261208T190000",
        "LOCATION:Online – meet.google.com/abc-defg-hij",
        "SUMMARY:Group",
    )
    plan, _ = _import(ics(series, online), event_index)
    assert plan.events[0].link_elsewhere_count == 1
    notes = [s.public_note for s in EventSession.objects.order_by("start")]
    assert notes == ["", ""]


def test_a_description_with_a_web_address_is_not_copied_to_the_summary(
    client, admin_user, event_index
):
    data = ics(
        _talk(
            "DESCRIPTION:Join: https://zoom.us/j/1 Passcode 42\\n\\nSee you there.",
        ),
        _talk("DESCRIPTION:Bring a friend.", uid="plain@library"),
    )
    plan, _ = _import(data, event_index)
    assert [e.description_has_link for e in plan.events] == [True, False]
    assert EventPage.objects.get(import_uid="talk@library").summary == "Talk"
    assert EventPage.objects.get(import_uid="plain@library").summary == (
        "Bring a friend."
    )
    EventPage.objects.all().delete()
    html = _admin_preview(client, admin_user, data, event_index)
    assert html.count("The description has a web address in it") == 1


def _all_day(uid, first, end, *lines, title="Fair"):
    return _vevent(
        uid,
        f"DTSTART;VALUE=DATE:{first}",
        f"DTEND;VALUE=DATE:{end}",
        f"SUMMARY:{title}",
        *lines,
    )


def test_days_of_an_all_day_event_already_past_are_not_imported(event_index):
    """Like a timed occurrence, a day counts until a day after it; each day
    keeps its UID as earlier days drop out, so a later import changes
    nothing."""
    week = _all_day("week@library", "20261119", "20261124")
    _import(ics(week), event_index)
    sessions = EventSession.objects.order_by("start")
    assert [s.start.astimezone(TORONTO).day for s in sessions] == [21, 22, 23]
    before = {s.uid: s.sequence for s in sessions}

    plan = plan_import(ics(week), source="Riverside Library", now=NOW + dt.timedelta(1))
    assert len(plan.events[0].occurrences) == 2
    result = apply_import(plan, index=event_index)
    assert (result.sessions_added, result.sessions_changed) == (0, 0)
    assert result.sessions_cancelled == 0
    assert {s.uid: s.sequence for s in sessions.all()} == before


def test_days_of_an_all_day_event_past_the_horizon_are_not_imported(event_index):
    late = _all_day("late@library", "20271120", "20271130")
    plan, _ = _import(ics(late), event_index)
    assert [s.start.astimezone(TORONTO).day for s in EventSession.objects.all()] == [
        20,
        21,
        22,
    ]


def test_an_all_day_event_over_14_days_is_reported_and_the_rest_imports(
    client, admin_user, event_index
):
    fortnight = _all_day("fortnight@library", "20261201", "20261215")
    term = _all_day("term@library", "20261201", "20270105", title="Winter term")
    data = ics(fortnight, term, BOOK_CLUB)
    plan, result = _import(data, event_index)
    assert [e.uid for e in plan.events] == ["fortnight@library", "book-club@library"]
    assert [s.message for s in plan.skipped] == [
        "“Winter term” runs for 35 days. Gather imports all-day events of up to "
        "14 days; add its sessions by hand."
    ]
    assert not EventPage.objects.filter(import_uid="term@library").exists()
    assert (
        EventSession.objects.filter(event__import_uid="fortnight@library").count() == 14
    )
    EventPage.objects.all().delete()
    html = _admin_preview(client, admin_user, data, event_index)
    assert "Not imported" in html and "“Winter term” runs for 35 days." in html


def test_an_event_with_times_longer_than_a_session_can_be_is_reported(event_index):
    retreat = "\r\n".join(
        [
            "BEGIN:VEVENT",
            "UID:retreat@library",
            "DTSTAMP:20261101T000000Z",
            "DTSTART;TZID=America/Toronto:20261201T090000",
            "DTEND;TZID=America/Toronto:20261211T170000",
            "SUMMARY:Long retreat",
            "END:VEVENT",
        ]
    )
    plan, _ = _import(ics(retreat, BOOK_CLUB), event_index)
    assert [e.uid for e in plan.events] == ["book-club@library"]
    assert [s.message for s in plan.skipped] == [
        "“Long retreat” lasts longer than 7 days, the longest a session can "
        "be; add its sessions by hand."
    ]
    assert not EventPage.objects.filter(import_uid="retreat@library").exists()


def test_a_century_long_all_day_event_is_refused(event_index):
    """A crafted file: one all-day event of 100 years, and one of 30 days
    repeated daily, must not turn into tens of thousands of sessions: both
    are set aside before any expansion (a benchmark, not this test, says how
    long that takes)."""
    century = _all_day("century@library", "20261201", "21261201", title="Century")
    daily = _all_day(
        "daily@library", "20261101", "20261201", "RRULE:FREQ=DAILY;COUNT=3650"
    )
    plan = plan_import(ics(century, daily, BOOK_CLUB), source="Library", now=NOW)
    assert [e.uid for e in plan.events] == ["book-club@library"]
    assert plan.skipped[0].message.startswith("“Century” runs for 36524 days.")
    assert [s.uid for s in plan.skipped] == ["century@library", "daily@library"]

    with pytest.raises(EventsError) as error:
        plan_import(ics(century), source="Library", now=NOW)
    assert error.value.code == "all_day_too_long"
    assert "runs for 36524 days" in error.value.message


@pytest.mark.parametrize(
    ("url", "published"),
    [
        ("https://us02web.zoom.us/j/123?pwd=abc", False),
        ("https://meet.google.com/abc-defg-hij", False),
        ("https://library.example.org/events/talk", True),
        ("https://notzoom.us/events", True),
    ],
)
def test_a_url_on_a_video_meeting_service_is_not_published(event_index, url, published):
    plan, _ = _import(ics(_talk(f"URL:{url}")), event_index)
    assert plan.events[0].url == url and plan.events[0].url_is_link is not published
    assert (url in EventPage.objects.get().what_to_expect) is published


def test_a_date_meeting_elsewhere_keeps_its_venue_when_the_calendar_moves_it(
    event_index,
):
    """A re-import changes a session's times only: its place may have been
    set or edited here, so it stays."""
    from tests.conftest import make_venue

    make_venue(name="Riverside Hall")
    annex = make_venue(name="Riverside Annex")
    series = _vevent(
        "series@library",
        "DTSTART;TZID=America/Toronto:20261201T180000",
        "DTEND;TZID=America/Toronto:20261201T190000",
        "RRULE:FREQ=WEEKLY;COUNT=2",
        "LOCATION:Riverside Hall",
        "SUMMARY:Group",
    )

    def in_the_annex(hour):
        return _vevent(
            "series@library",
            "RECURRENCE-ID;TZID=America/Toronto:20261208T180000",
            f"DTSTART;TZID=America/Toronto:20261208T{hour}0000",
            f"DTEND;TZID=America/Toronto:20261208T{hour + 1}0000",
            "LOCATION:Riverside Annex",
            "SUMMARY:Group",
        )

    _import(ics(series, in_the_annex(18)), event_index)
    _, result = _import(ics(series, in_the_annex(19)), event_index)

    assert result.sessions_changed == 1
    moved = EventSession.objects.order_by("start")[1]
    assert (moved.start.astimezone(TORONTO).hour, moved.status) == (19, "moved")
    assert moved.venue == annex
