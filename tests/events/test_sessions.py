"""The session workflows: weekly series, moving, cancelling, reinstating."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError

from events.errors import EventsError
from events.models import MAX_SESSION_LENGTH, EventSession, SessionStatus
from events.sessions import (
    add_session,
    cancel_session,
    generate_weekly_series,
    reinstate_session,
    reschedule_session,
    weekly_starts,
)
from tests.conftest import make_event, make_session, make_venue

TORONTO = ZoneInfo("America/Toronto")
UTC = dt.UTC


def test_weekly_series_keeps_local_hour_across_daylight_saving_end():
    """Clocks go back on 2026-11-01 in Toronto: 6 pm stays 6 pm, UTC moves."""
    starts = weekly_starts(
        first_date=dt.date(2026, 10, 20), start_time=dt.time(18), weeks=3, zone=TORONTO
    )
    assert [s.date() for s in starts] == [
        dt.date(2026, 10, 20),
        dt.date(2026, 10, 27),
        dt.date(2026, 11, 3),
    ]
    assert {s.hour for s in starts} == {18}
    assert [s.astimezone(UTC).hour for s in starts] == [22, 22, 23]


def test_weekly_series_keeps_local_hour_across_daylight_saving_start():
    """Clocks go forward on 2027-03-14 in Toronto."""
    starts = weekly_starts(
        first_date=dt.date(2027, 3, 9),
        start_time=dt.time(10, 30),
        weeks=2,
        zone=TORONTO,
    )
    assert [s.astimezone(UTC).time() for s in starts] == [
        dt.time(15, 30),
        dt.time(14, 30),
    ]


def test_weekly_series_skips_given_dates():
    starts = weekly_starts(
        first_date=dt.date(2026, 12, 3),
        start_time=dt.time(18),
        weeks=4,
        skip_dates=[dt.date(2026, 12, 24)],
        zone=TORONTO,
    )
    assert [s.date() for s in starts] == [
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 10),
        dt.date(2026, 12, 17),
    ]


@pytest.mark.django_db
def test_generate_weekly_series_stores_sessions_across_dst(event_index):
    event = make_event(event_index)
    created = generate_weekly_series(
        event=event,
        first_date=dt.date(2026, 10, 20),
        start_time=dt.time(18),
        end_time=dt.time(19, 30),
        weeks=3,
    )
    assert len(created.created) == 3
    stored = list(event.sessions.order_by("start"))
    assert [s.start.astimezone(TORONTO).time() for s in stored] == [dt.time(18)] * 3
    assert [s.end.astimezone(TORONTO).time() for s in stored] == [dt.time(19, 30)] * 3
    assert len({s.uid for s in stored}) == 3
    assert all(s.sequence == 0 and s.status == SessionStatus.SCHEDULED for s in stored)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"weeks": 0}, "weeks_out_of_range"),
        ({"weeks": 105}, "weeks_out_of_range"),
        ({"end_time": dt.time(17)}, "end_before_start"),
        ({"weeks": 1, "skip_dates": [dt.date(2026, 12, 3)]}, "no_sessions"),
    ],
)
def test_generate_weekly_series_refuses_bad_input(event_index, kwargs, code):
    event = make_event(event_index)
    arguments = {
        "event": event,
        "first_date": dt.date(2026, 12, 3),
        "start_time": dt.time(18),
        "end_time": dt.time(19),
        "weeks": 4,
    } | kwargs
    with pytest.raises(EventsError) as error:
        generate_weekly_series(**arguments)
    assert error.value.code == code
    assert not EventSession.objects.exists()


def _tuesday_series(event, **overrides):
    """Weekly on Tuesdays at 6 pm from 23 February 2027 (clocks go forward
    on 14 March, between the weeks)."""
    arguments = {
        "event": event,
        "first_date": dt.date(2027, 2, 23),
        "start_time": dt.time(18),
        "end_time": dt.time(19, 30),
        "weeks": 6,
    } | overrides
    return generate_weekly_series(**arguments)


def _local_dates(event):
    return [
        s.start.astimezone(TORONTO).date() for s in event.sessions.order_by("start")
    ]


@pytest.mark.django_db
def test_adding_an_overlapping_series_skips_dates_already_scheduled(event_index):
    event = make_event(event_index)
    _tuesday_series(event)

    second = _tuesday_series(event, first_date=dt.date(2027, 3, 23), weeks=4)

    assert [s.start.astimezone(TORONTO).date() for s in second.created] == [
        dt.date(2027, 4, 6),
        dt.date(2027, 4, 13),
    ]
    assert second.already_scheduled == [dt.date(2027, 3, 23), dt.date(2027, 3, 30)]
    assert second.summary() == (
        "2 sessions added. 23 March and 30 March already had a session, so "
        "they were skipped."
    )
    dates = _local_dates(event)
    assert len(dates) == len(set(dates)) == 8


@pytest.mark.django_db
def test_a_cancelled_session_still_counts_as_already_scheduled(event_index):
    event = make_event(event_index)
    first = _tuesday_series(event, weeks=2)
    cancel_session(session=first.created[1], notify=False)

    second = _tuesday_series(event, first_date=dt.date(2027, 3, 2), weeks=2)

    assert second.already_scheduled == [dt.date(2027, 3, 2)]
    assert second.summary() == (
        "1 session added. 2 March already had a session, so it was skipped."
    )
    assert len(_local_dates(event)) == 3


@pytest.mark.django_db
def test_a_session_at_another_time_that_day_is_not_a_duplicate(event_index):
    """Only the same start is a duplicate; a morning group the same day is
    a different session."""
    event = make_event(event_index)
    _tuesday_series(event, start_time=dt.time(10), end_time=dt.time(11), weeks=1)

    second = _tuesday_series(event, weeks=1)

    assert (len(second.created), second.already_scheduled) == (1, [])


@pytest.mark.django_db
def test_a_series_that_is_all_duplicates_adds_nothing(event_index):
    event = make_event(event_index)
    _tuesday_series(event)

    with pytest.raises(EventsError) as error:
        _tuesday_series(event, first_date=dt.date(2027, 3, 16), weeks=2)

    assert error.value.code == "already_scheduled"
    assert str(error.value) == (
        "16 March and 23 March already have sessions at this time, so there "
        "is nothing to add."
    )
    assert event.sessions.count() == 6


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("skip_dates", "message"),
    [
        (
            [dt.date(2027, 3, 10)],
            "10 March 2027 is a Wednesday; this series meets on Tuesdays.",
        ),
        (
            [dt.date(2027, 2, 16), dt.date(2027, 4, 6)],
            "16 February 2027 is outside this series, which runs from "
            "23 February 2027 to 30 March 2027. 6 April 2027 is outside this "
            "series, which runs from 23 February 2027 to 30 March 2027.",
        ),
    ],
)
def test_a_skip_date_the_series_never_meets_on_is_refused(
    event_index, skip_dates, message
):
    """A skip date off the series is a typing slip: accepting it would keep
    the session the coordinator meant to skip."""
    event = make_event(event_index)

    with pytest.raises(EventsError) as error:
        _tuesday_series(event, skip_dates=skip_dates)

    assert (error.value.code, str(error.value)) == ("skip_date_not_in_series", message)
    assert not event.sessions.exists()


@pytest.mark.django_db
def test_skip_dates_on_the_first_and_last_week_are_accepted(event_index):
    event = make_event(event_index)
    _tuesday_series(event, skip_dates=[dt.date(2027, 2, 23), dt.date(2027, 3, 30)])
    assert _local_dates(event) == [
        dt.date(2027, 3, 2),
        dt.date(2027, 3, 9),
        dt.date(2027, 3, 16),
        dt.date(2027, 3, 23),
    ]


@pytest.mark.django_db
def test_reschedule_marks_moved_and_bumps_sequence_keeping_uid(event_index):
    session = make_session(make_event(event_index))
    new_venue = make_venue()
    later = session.start + dt.timedelta(days=1)

    moved = reschedule_session(
        session=session,
        start=later,
        end=later + dt.timedelta(hours=1),
        venue=new_venue,
        public_note="Room change",
    )

    moved.refresh_from_db()
    assert moved.uid == session.uid
    assert moved.sequence == 1
    assert moved.status == SessionStatus.MOVED
    assert (moved.start, moved.venue, moved.public_note) == (
        later,
        new_venue,
        "Room change",
    )


@pytest.mark.django_db
def test_reschedule_keeps_when_and_where_the_session_met_before_the_move(
    event_index,
):
    usual = make_venue(name="Library")
    session = make_session(make_event(event_index, venue=usual))
    first_start, first_end = session.start, session.end
    hall = make_venue(name="Hall")
    later = first_start + dt.timedelta(days=2)

    moved = reschedule_session(
        session=session, start=later, end=later + dt.timedelta(hours=1), venue=hall
    )
    moved.refresh_from_db()
    # The venue it met at: the event's, as the session had none of its own.
    assert (moved.previous_start, moved.previous_end, moved.previous_venue) == (
        first_start,
        first_end,
        usual,
    )

    noted = reschedule_session(
        session=moved, start=moved.start, end=moved.end, venue=hall, public_note="Hi"
    )
    noted.refresh_from_db()
    assert noted.previous_start == first_start  # a note alone is not a move

    again = later + dt.timedelta(days=1)
    moved_again = reschedule_session(
        session=noted, start=again, end=again + dt.timedelta(hours=1), venue=hall
    )
    moved_again.refresh_from_db()
    assert (
        moved_again.previous_start,
        moved_again.previous_end,
        moved_again.previous_venue,
    ) == (later, later + dt.timedelta(hours=1), hall)


@pytest.mark.django_db
def test_reschedule_without_change_keeps_sequence(event_index):
    session = make_session(make_event(event_index))
    same = reschedule_session(session=session, start=session.start, end=session.end)
    assert (same.sequence, same.status) == (0, SessionStatus.SCHEDULED)


@pytest.mark.django_db
def test_cancel_then_reinstate_bumps_sequence_each_time(event_index):
    session = make_session(make_event(event_index))

    cancelled = cancel_session(session=session, public_note="Snow day")
    assert (cancelled.status, cancelled.sequence, cancelled.public_note) == (
        SessionStatus.CANCELLED,
        1,
        "Snow day",
    )
    with pytest.raises(EventsError) as error:
        cancel_session(session=session)
    assert error.value.code == "already_cancelled"
    with pytest.raises(EventsError) as error:
        reschedule_session(session=session, start=session.start, end=session.end)
    assert error.value.code == "session_cancelled"

    reinstated = reinstate_session(session=session)
    assert (reinstated.status, reinstated.sequence) == (SessionStatus.SCHEDULED, 2)
    assert reinstated.uid == session.uid


@pytest.mark.django_db
def test_session_must_end_after_start(event_index):
    event = make_event(event_index)
    start = dt.datetime(2026, 12, 3, 18, tzinfo=TORONTO)
    with pytest.raises(EventsError):
        make_session(event, start=start, end=start)
    with pytest.raises(IntegrityError):
        EventSession.objects.create(event=event, start=start, end=start)


@pytest.mark.django_db
def test_a_session_may_last_a_week_but_no_longer(event_index):
    event = make_event(event_index)
    start = dt.datetime(2030, 6, 1, 9, tzinfo=TORONTO)
    week = add_session(event=event, start=start, end=start + MAX_SESSION_LENGTH)
    assert week.end - week.start == dt.timedelta(days=7)
    with pytest.raises(EventsError) as error:
        add_session(
            event=event,
            start=start,
            end=start + MAX_SESSION_LENGTH + dt.timedelta(minutes=1),
        )
    assert error.value.code == "session_too_long"
    with pytest.raises(EventsError) as error:
        reschedule_session(session=week, start=start, end=start + dt.timedelta(days=8))
    assert error.value.code == "session_too_long"
    assert EventSession.objects.filter(event=event).count() == 1
