"""Calendar files and feeds: round trips, time zones, updates in place,
conditional requests, privacy."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from events.calendars import feed_token, regenerate_feed_token, site_feed_horizon
from events.listing import filtered_sessions
from events.sessions import cancel_session, generate_weekly_series, reschedule_session
from tests.conftest import make_event, make_session, make_venue, sign_up

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")
FEED = "/calendar/events.ics"


def _parse(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def _by_uid(calendar):
    return {str(event["UID"]): event for event in calendar.events}


def _start(days, hour=18):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_each_session_has_its_own_events_url_and_its_venue(site_client, event_index):
    hall = make_venue(name="Community Hall", room="", address="1 Main St")
    ward = make_venue(name="Unit 4", room="Day room", address="2 Hospital Rd")
    first = make_event(event_index, title="Group one", venue=hall)
    second = make_event(event_index, title="Group two", venue=None)
    at_hall = make_session(first, start=_start(1))
    on_ward = make_session(first, start=_start(2), venue=ward)
    nowhere = make_session(second, start=_start(3))

    events = _by_uid(_parse(site_client.get(FEED)))

    assert str(events[at_hall.uid]["URL"]) == "http://testserver" + first.url
    assert str(events[nowhere.uid]["URL"]) == "http://testserver" + second.url
    assert first.url != second.url
    assert str(events[at_hall.uid]["LOCATION"]) == "Community Hall, 1 Main St"
    assert str(events[on_ward.uid]["LOCATION"]) == "Unit 4, Day room, 2 Hospital Rd"
    assert "LOCATION" not in events[nowhere.uid]
    assert str(events[nowhere.uid]["SUMMARY"]) == "Group two"


def test_round_trip_gives_back_sessions_times_and_statuses(site_client, event_index):
    venue = make_venue(name="Community Hall", room="Room 2", address="1 Main St")
    event = make_event(event_index, title="WRAP group", venue=venue)
    sessions = [make_session(event, start=_start(d)) for d in (1, 8)]
    cancel_session(session=sessions[1])

    calendar = _parse(site_client.get(FEED))

    assert calendar["PRODID"] and calendar["VERSION"] == "2.0"
    events = _by_uid(calendar)
    assert set(events) == {s.uid for s in sessions}
    for session in sessions:
        session.refresh_from_db()
        vevent = events[session.uid]
        assert vevent.DTSTART == session.start
        assert vevent.DTEND == session.end
        assert str(vevent["SUMMARY"]) == "WRAP group"
        assert vevent["SEQUENCE"] == session.sequence
        assert "DTSTAMP" in vevent
        assert str(vevent["URL"]) == "http://testserver" + event.url
        assert str(vevent["URL"]) in str(vevent["DESCRIPTION"])
        assert str(vevent["LOCATION"]) == "Community Hall, Room 2, 1 Main St"
    assert str(events[sessions[0].uid]["STATUS"]) == "CONFIRMED"
    assert str(events[sessions[1].uid]["STATUS"]) == "CANCELLED"


def test_times_carry_tzid_and_vtimezone_across_daylight_saving(
    site_client, event_index
):
    event = make_event(event_index)
    generate_weekly_series(
        event=event,
        first_date=dt.date(2026, 10, 20),
        start_time=dt.time(18),
        end_time=dt.time(19),
        weeks=3,
    )
    response = site_client.get(event.calendar_url)
    raw = response.content.decode()
    assert "DTSTART;TZID=America/Toronto:20261020T180000" in raw
    assert "DTSTART;TZID=America/Toronto:20261103T180000" in raw
    calendar = icalendar.Calendar.from_ical(response.content)
    assert [str(tz["TZID"]) for tz in calendar.timezones] == ["America/Toronto"]
    assert [e.DTSTART.astimezone(dt.UTC).hour for e in calendar.events] == [22, 22, 23]


def test_moved_session_keeps_uid_and_raises_sequence(site_client, event_index):
    event = make_event(event_index)
    session = make_session(event, start=_start(2))
    before = _by_uid(_parse(site_client.get(event.calendar_url)))[session.uid]

    later = session.start + dt.timedelta(days=1)
    reschedule_session(session=session, start=later, end=later + dt.timedelta(hours=1))
    after = _by_uid(_parse(site_client.get(event.calendar_url)))[session.uid]

    assert after["SEQUENCE"] == before["SEQUENCE"] + 1
    assert after.DTSTART == later


def test_session_file_has_just_that_session(site_client, event_index):
    event = make_event(event_index)
    first, second = (
        make_session(event, start=_start(1)),
        make_session(event, start=_start(8)),
    )
    calendar = _parse(site_client.get(f"/calendar/session-{second.pk}.ics"))
    assert list(_by_uid(calendar)) == [second.uid]
    other = make_event(event_index)
    assert (
        site_client.get(f"{other.url}sessions/{first.pk}/calendar.ics").status_code
        == 404
    )


def test_site_feed_filters_like_the_listing_and_ignores_bad_values(
    site_client, event_index
):
    make_session(
        make_event(event_index, title="Talk", kind="education"), start=_start(2)
    )
    make_session(make_event(event_index, title="Group", kind="group"), start=_start(2))
    titles = lambda r: {str(e["SUMMARY"]) for e in _parse(r).events}  # noqa: E731
    assert titles(site_client.get(FEED, {"kind": "education"})) == {"Talk"}
    assert titles(site_client.get(FEED, {"kind": "bogus", "topic": "x"})) == {
        "Talk",
        "Group",
    }


def test_drafts_stay_out_of_the_site_feed(site_client, event_index):
    make_session(make_event(event_index, title="Draft", publish=False), start=_start(2))
    assert _parse(site_client.get(FEED)).events == []


def test_site_feed_covers_its_horizon_and_the_event_feed_everything(
    site_client, event_index
):
    event = make_event(event_index)
    long_ago = make_session(event, start=_start(-40))
    recent = make_session(event, start=_start(-20))
    soon = make_session(event, start=_start(300))
    far_ahead = make_session(event, start=_start(400))

    in_site_feed = _by_uid(_parse(site_client.get(FEED)))
    in_event_feed = _by_uid(_parse(site_client.get(f"/calendar/event-{event.pk}.ics")))

    assert set(in_site_feed) == {recent.uid, soon.uid}
    assert set(in_event_feed) == {long_ago.uid, recent.uid, soon.uid, far_ahead.uid}
    filtered = _by_uid(_parse(site_client.get(FEED, {"kind": event.kind})))
    assert set(filtered) == {recent.uid, soon.uid}


def test_site_feed_horizon_follows_the_settings(site_client, event_index, settings):
    event = make_event(event_index)
    long_ago = make_session(event, start=_start(-40))
    far_ahead = make_session(event, start=_start(400))
    soon = make_session(event, start=_start(3))

    settings.GATHER_SITE_FEED_DAYS_BACK = 45
    settings.GATHER_SITE_FEED_DAYS_AHEAD = 500
    assert set(_by_uid(_parse(site_client.get(FEED)))) == {
        long_ago.uid,
        soon.uid,
        far_ahead.uid,
    }
    settings.GATHER_SITE_FEED_DAYS_BACK = 0
    settings.GATHER_SITE_FEED_DAYS_AHEAD = 2
    assert _parse(site_client.get(FEED)).events == []


def test_site_feed_horizon_is_whole_local_days():
    horizon = site_feed_horizon(dt.datetime(2026, 3, 10, 15, 30, tzinfo=TORONTO))
    assert horizon.earliest == dt.datetime(2026, 2, 8, tzinfo=TORONTO)
    assert horizon.latest == dt.datetime(2027, 3, 11, tzinfo=TORONTO)
    assert horizon.moved_at == dt.datetime(2026, 3, 10, tzinfo=TORONTO)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_site_feed_selects_by_the_start_index(event_index):
    """The horizon is a range on ``start``, read through its index: the
    database stops at the window's edges instead of reading all history
    (as planned for a large programme)."""
    from tests.query_plans import LARGE_PROGRAMME_STATISTICS, plan, planned_as

    horizon = site_feed_horizon()
    sessions = filtered_sessions(
        filters={}, starting_between=(horizon.earliest, horizon.latest)
    )
    with planned_as(LARGE_PROGRAMME_STATISTICS):
        steps = plan(sessions)
    assert "(start>? AND start<?)" in steps, steps


def test_conditional_get_answers_304_until_something_changes(
    site_client, event_index, django_capture_on_commit_callbacks
):
    event = make_event(event_index)
    session = make_session(event, start=_start(2))
    first = site_client.get(FEED)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert "max-age" in first["Cache-Control"]

    assert site_client.get(FEED, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert site_client.get(FEED, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304

    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=session)
    changed = site_client.get(FEED, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_site_feed_answers_200_once_its_horizon_moves(
    site_client, event_index, time_machine
):
    """Sessions leaving and entering the window change nothing about the
    sessions (here neither their count nor the latest change): the window's
    own move must change the ETag and Last-Modified."""
    event = make_event(event_index)
    # Made last, the session in the window both days is the latest change.
    entering = make_session(event, start=_start(366))
    leaving = make_session(event, start=_start(-29))
    staying = make_session(event, start=_start(5))
    today = site_client.get(FEED)
    assert set(_by_uid(_parse(today))) == {leaving.uid, staying.uid}
    etag, modified = today["ETag"], today["Last-Modified"]

    time_machine.move_to(timezone.now() + dt.timedelta(days=2))
    assert site_client.get(FEED, HTTP_IF_NONE_MATCH=etag).status_code == 200
    later = site_client.get(FEED, HTTP_IF_MODIFIED_SINCE=modified)
    assert set(_by_uid(_parse(later))) == {staying.uid, entering.uid}
    assert site_client.get(FEED, HTTP_IF_NONE_MATCH=later["ETag"]).status_code == 304


def test_feed_query_count_does_not_grow_with_sessions(
    site_client,
    event_index,
    settings,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    """Guards against a query per session or per event (URLs, venues)."""
    settings.GATHER_PUBLIC_CACHE_SECONDS = 0  # measures the page being built
    venue = make_venue()

    def add(count):
        for _ in range(count):
            make_session(
                make_event(event_index, venue=venue), start=_start(3), venue=venue
            )

    add(2)
    site_client.get(FEED)
    with django_assert_max_num_queries(10) as small:
        site_client.get(FEED)
    add(20)
    with django_assert_num_queries(len(small.captured_queries)):
        response = site_client.get(FEED)
    assert len(_parse(response).events) == 22


def test_no_participant_data_or_joining_link_in_public_feeds(site_client, event_index):
    online = make_venue(
        setting="online", online_joining_link="https://meet.example/secret"
    )
    event = make_event(
        event_index, venue=online, registration_mode="required", capacity=5
    )
    session = make_session(event, start=_start(2))
    person = sign_up(
        event,
        "Unique Person Name",
        email="unique.person@example.org",
        phone="4165550199",
    )
    # A move emails an update naming the person; the feeds stay as they were.
    reschedule_session(session=session, start=_start(3), end=_start(3, hour=20))
    for url in (FEED, event.calendar_url):
        response = site_client.get(url)
        published = _by_uid(_parse(response))[session.uid]
        assert str(published["SUMMARY"]) == event.title
        assert str(published["URL"]) == "http://testserver" + event.url
        raw = response.content.decode()
        assert "METHOD:PUBLISH" in raw
        for secret in (person.name, person.email, "4165550199", "meet.example/secret"):
            assert secret not in raw
        assert "ATTENDEE" not in raw and "ORGANIZER" not in raw


def test_facilitator_feed_is_secret_regenerable_and_has_only_their_sessions(
    client, event_index, facilitators_group
):
    user = get_user_model().objects.create_user("fac", password="pw")
    user.groups.add(facilitators_group)
    online = make_venue(
        setting="online", online_joining_link="https://meet.example/room"
    )
    mine = make_event(event_index, title="Mine", venue=online)
    mine.facilitators.add(user)
    mine.save_revision().publish()
    make_session(mine, start=_start(2))
    make_session(make_event(event_index, title="Not mine"), start=_start(2))

    token = feed_token(user)
    url = reverse("facilitator_calendar_feed", args=[token])
    response = client.get(url)
    calendar = _parse(response)
    assert [str(e["SUMMARY"]) for e in calendar.events] == ["Mine"]
    assert "meet.example/room" in response.content.decode()
    assert response["Cache-Control"].startswith("private")

    new_token = regenerate_feed_token(user)
    assert new_token != token
    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("facilitator_calendar_feed", args=[new_token])).status_code
        == 200
    )
    assert (
        client.get(reverse("facilitator_calendar_feed", args=["f" * 64])).status_code
        == 404
    )


def test_facilitator_sees_and_regenerates_their_address(client, django_user_model):
    assert client.get("/facilitate/calendar/").status_code == 302  # login first
    user = django_user_model.objects.create_user("fac", password="pw")
    client.force_login(user)
    html = client.get("/facilitate/calendar/").content.decode()
    token = feed_token(user)
    assert token in html and "webcal://" in html
    client.post("/facilitate/calendar/")
    assert feed_token(user) != token
