"""Repeat patterns and closures: ``events.sessions.generate_series``,
``plan_series`` and ``RepeatPattern``, in the site's zone (America/Toronto,
where the clocks go back on 1 November 2026 and forward on 14 March 2027)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from events.errors import EventsError
from events.models import Closure, EventSession
from events.sessions import (
    MAX_SERIES_SESSIONS,
    Frequency,
    RepeatPattern,
    generate_series,
    plan_series,
)
from tests.conftest import make_event

TORONTO = ZoneInfo("America/Toronto")

pytestmark = pytest.mark.django_db


def _series(event, pattern, **overrides):
    arguments = {
        "event": event,
        "pattern": pattern,
        "first_date": dt.date(2026, 10, 1),
        "start_time": dt.time(18),
        "end_time": dt.time(19, 30),
    } | overrides
    return generate_series(**arguments)


def _local(event):
    """The event's sessions as local (date, start time, end time), in order."""
    return [
        (
            s.start.astimezone(TORONTO).date(),
            s.start.astimezone(TORONTO).time(),
            s.end.astimezone(TORONTO).time(),
        )
        for s in event.sessions.order_by("start")
    ]


def _utc_hours(event):
    return [s.start.astimezone(dt.UTC).hour for s in event.sessions.order_by("start")]


def test_monthly_first_thursday_keeps_six_pm_across_the_november_change(
    event_index,
):
    event = make_event(event_index)
    pattern = RepeatPattern(
        frequency=Frequency.MONTHLY_BY_WEEKDAY, weekday_position=1, count=4
    )

    series = _series(event, pattern)

    assert _local(event) == [
        (day, dt.time(18), dt.time(19, 30))
        for day in (
            dt.date(2026, 10, 1),
            dt.date(2026, 11, 5),
            dt.date(2026, 12, 3),
            dt.date(2027, 1, 7),
        )
    ]
    # 6 pm is 22:00 UTC in daylight time and 23:00 UTC after the change.
    assert _utc_hours(event) == [22, 23, 23, 23]
    assert len(series.created) == 4
    assert all(session.pk for session in series.created)


def test_monthly_last_tuesday_from_a_date_that_is_not_one(event_index):
    """The series starts at the first matching date on or after the first
    date, and the weekday may differ from the first date's."""
    event = make_event(event_index)
    pattern = RepeatPattern(
        frequency=Frequency.MONTHLY_BY_WEEKDAY,
        weekday_position=-1,
        weekday=1,
        until=dt.date(2027, 3, 31),
    )

    _series(event, pattern, first_date=dt.date(2026, 10, 1))

    assert [day for day, _, _ in _local(event)] == [
        dt.date(2026, 10, 27),
        dt.date(2026, 11, 24),
        dt.date(2026, 12, 29),
        dt.date(2027, 1, 26),
        dt.date(2027, 2, 23),
        dt.date(2027, 3, 30),
    ]
    assert {start for _, start, _ in _local(event)} == {dt.time(18)}
    # The March session is after the clocks go forward: 22:00 UTC again.
    assert _utc_hours(event) == [22, 23, 23, 23, 23, 22]


def test_every_two_weeks_across_the_november_change(event_index):
    event = make_event(event_index)
    pattern = RepeatPattern(frequency=Frequency.WEEKLY, interval=2, count=4)

    _series(event, pattern, first_date=dt.date(2026, 10, 20))

    assert _local(event) == [
        (day, dt.time(18), dt.time(19, 30))
        for day in (
            dt.date(2026, 10, 20),
            dt.date(2026, 11, 3),
            dt.date(2026, 11, 17),
            dt.date(2026, 12, 1),
        )
    ]
    assert _utc_hours(event) == [22, 23, 23, 23]


def test_weekly_across_the_march_change(event_index):
    event = make_event(event_index)
    pattern = RepeatPattern(frequency=Frequency.WEEKLY, count=3)

    _series(
        event,
        pattern,
        first_date=dt.date(2027, 3, 9),
        start_time=dt.time(10, 30),
        end_time=dt.time(12),
    )

    assert {start for _, start, _ in _local(event)} == {dt.time(10, 30)}
    assert [s.start.astimezone(dt.UTC).time() for s in event.sessions.all()] == [
        dt.time(15, 30),
        dt.time(14, 30),
        dt.time(14, 30),
    ]


def test_monthly_by_date_across_both_changes(event_index):
    event = make_event(event_index)
    pattern = RepeatPattern(
        frequency=Frequency.MONTHLY_BY_DATE, month_day=15, until=dt.date(2027, 4, 15)
    )

    _series(event, pattern, first_date=dt.date(2026, 10, 1))

    assert [day for day, _, _ in _local(event)] == [
        dt.date(2026, 10, 15),
        dt.date(2026, 11, 15),
        dt.date(2026, 12, 15),
        dt.date(2027, 1, 15),
        dt.date(2027, 2, 15),
        dt.date(2027, 3, 15),
        dt.date(2027, 4, 15),
    ]
    assert {start for _, start, _ in _local(event)} == {dt.time(18)}
    assert _utc_hours(event) == [22, 23, 23, 23, 23, 22, 22]


def test_count_and_until_give_the_same_dates_and_until_is_included():
    first = dt.date(2026, 12, 1)
    by_count = RepeatPattern(frequency=Frequency.WEEKLY, count=5).dates(first)
    by_until = RepeatPattern(frequency=Frequency.WEEKLY, until=dt.date(2026, 12, 29))

    assert by_until.dates(first) == by_count
    assert by_count[-1] == dt.date(2026, 12, 29)
    # A day before the last date: one date fewer.
    shorter = RepeatPattern(frequency=Frequency.WEEKLY, until=dt.date(2026, 12, 28))
    assert len(shorter.dates(first)) == 4


def test_monthly_on_the_31st_skips_short_months_and_says_so(event_index):
    event = make_event(event_index)
    pattern = RepeatPattern(frequency=Frequency.MONTHLY_BY_DATE, count=4)

    series = _series(event, pattern, first_date=dt.date(2027, 1, 31))

    assert [day for day, _, _ in _local(event)] == [
        dt.date(2027, 1, 31),
        dt.date(2027, 3, 31),
        dt.date(2027, 5, 31),
        dt.date(2027, 7, 31),
    ]
    assert series.short_months == [
        dt.date(2027, 2, 1),
        dt.date(2027, 4, 1),
        dt.date(2027, 6, 1),
    ]
    assert series.summary() == (
        "4 sessions added. February 2027, April 2027 and June 2027 have no "
        "day 31, so they have no session."
    )


def test_closures_skip_their_dates_and_are_reported(event_index):
    event = make_event(event_index)
    Closure.objects.create(
        name="Winter holidays",
        first_day=dt.date(2026, 12, 21),
        last_day=dt.date(2027, 1, 3),
    )
    Closure.objects.create(
        name="Staff training day",
        first_day=dt.date(2027, 1, 12),
        last_day=dt.date(2027, 1, 12),
    )
    # Outside the series: neither used nor reported.
    Closure.objects.create(
        name="Summer break",
        first_day=dt.date(2027, 7, 1),
        last_day=dt.date(2027, 8, 31),
    )
    pattern = RepeatPattern(frequency=Frequency.WEEKLY, count=7)

    series = _series(event, pattern, first_date=dt.date(2026, 12, 8))

    assert [day for day, _, _ in _local(event)] == [
        dt.date(2026, 12, 8),
        dt.date(2026, 12, 15),
        dt.date(2027, 1, 5),
        dt.date(2027, 1, 19),
    ]
    assert [(c.closure.name, c.dates) for c in series.closed] == [
        ("Winter holidays", [dt.date(2026, 12, 22), dt.date(2026, 12, 29)]),
        ("Staff training day", [dt.date(2027, 1, 12)]),
    ]
    assert series.summary() == (
        "4 sessions added. 22 December and 29 December fall in the closure "
        "“Winter holidays”, so they were skipped. 12 January falls in the "
        "closure “Staff training day”, so it was skipped."
    )


def test_a_skip_date_inside_a_closure_is_reported_as_skipped_once(event_index):
    event = make_event(event_index)
    Closure.objects.create(
        name="Winter holidays",
        first_day=dt.date(2026, 12, 21),
        last_day=dt.date(2027, 1, 3),
    )
    series = _series(
        event,
        RepeatPattern(frequency=Frequency.WEEKLY, count=4),
        first_date=dt.date(2026, 12, 15),
        skip_dates=[dt.date(2026, 12, 22)],
    )
    assert series.skipped == [dt.date(2026, 12, 22)]
    assert [(c.closure.name, c.dates) for c in series.closed] == [
        ("Winter holidays", [dt.date(2026, 12, 29)])
    ]
    assert len(series.created) == 2


def test_running_a_series_twice_adds_nothing(event_index):
    event = make_event(event_index)
    pattern = RepeatPattern(
        frequency=Frequency.MONTHLY_BY_WEEKDAY, weekday_position=1, count=4
    )
    _series(event, pattern)
    uids = set(event.sessions.values_list("uid", flat=True))

    with pytest.raises(EventsError) as error:
        _series(event, pattern)

    assert error.value.code == "already_scheduled"
    assert set(event.sessions.values_list("uid", flat=True)) == uids


def test_a_longer_run_of_the_same_series_adds_only_the_new_dates(event_index):
    event = make_event(event_index)
    _series(event, RepeatPattern(frequency=Frequency.WEEKLY, interval=2, count=2))

    second = _series(
        event, RepeatPattern(frequency=Frequency.WEEKLY, interval=2, count=3)
    )

    assert second.already_scheduled == [dt.date(2026, 10, 1), dt.date(2026, 10, 15)]
    assert [s.start.astimezone(TORONTO).date() for s in second.created] == [
        dt.date(2026, 10, 29)
    ]
    assert event.sessions.count() == 3


def test_a_preview_writes_nothing_and_says_what_a_series_would_do(event_index):
    event = make_event(event_index)
    Closure.objects.create(
        name="Winter holidays",
        first_day=dt.date(2026, 12, 21),
        last_day=dt.date(2027, 1, 3),
    )
    plan = plan_series(
        event=event,
        pattern=RepeatPattern(frequency=Frequency.WEEKLY, count=3),
        first_date=dt.date(2026, 12, 15),
        start_time=dt.time(18),
        end_time=dt.time(19),
    )
    assert [s.start.date() for s in plan.sessions] == [dt.date(2026, 12, 15)]
    assert all(s.pk is None for s in plan.sessions)
    assert plan.left_out() == [
        "22 December and 29 December fall in the closure “Winter holidays”, "
        "so they were skipped."
    ]
    assert not EventSession.objects.exists()


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        (RepeatPattern(count=MAX_SERIES_SESSIONS + 1), "count_out_of_range"),
        (RepeatPattern(count=0), "count_out_of_range"),
        # Weekly for longer than two years.
        (RepeatPattern(until=dt.date(2029, 1, 1)), "too_many_sessions"),
        (RepeatPattern(), "no_end"),
        (RepeatPattern(count=3, until=dt.date(2027, 1, 1)), "two_ends"),
        (RepeatPattern(until=dt.date(2026, 9, 1)), "until_before_start"),
        (RepeatPattern(interval=0, count=3), "interval_out_of_range"),
        (
            RepeatPattern(frequency=Frequency.MONTHLY_BY_WEEKDAY, count=3),
            "no_weekday_position",
        ),
        (
            RepeatPattern(frequency=Frequency.MONTHLY_BY_DATE, month_day=32, count=3),
            "month_day_out_of_range",
        ),
    ],
)
def test_a_pattern_that_cannot_be_a_series_is_refused(event_index, pattern, code):
    event = make_event(event_index)
    with pytest.raises(EventsError) as error:
        _series(event, pattern)
    assert error.value.code == code
    assert not event.sessions.exists()


def test_the_cap_allows_exactly_the_maximum(event_index):
    event = make_event(event_index)
    series = _series(event, RepeatPattern(count=MAX_SERIES_SESSIONS))
    assert len(series.created) == MAX_SERIES_SESSIONS
    assert event.sessions.count() == MAX_SERIES_SESSIONS


def test_a_rule_that_never_meets_stops_and_is_refused(event_index):
    """The 31st every twelve months from February never comes: reading the
    rule stops at its horizon instead of running to the year 9999, and an
    empty series is refused."""
    event = make_event(event_index)
    pattern = RepeatPattern(
        frequency=Frequency.MONTHLY_BY_DATE, month_day=31, interval=12, count=5
    )
    assert pattern.dates(dt.date(2027, 2, 1)) == []

    with pytest.raises(EventsError) as error:
        _series(event, pattern, first_date=dt.date(2027, 2, 1))

    assert error.value.code == "no_sessions"
    assert not event.sessions.exists()


def test_a_series_entirely_in_a_closure_is_refused(event_index):
    event = make_event(event_index)
    Closure.objects.create(
        name="Winter holidays",
        first_day=dt.date(2026, 12, 21),
        last_day=dt.date(2027, 1, 3),
    )
    with pytest.raises(EventsError) as error:
        _series(
            event,
            RepeatPattern(count=2),
            first_date=dt.date(2026, 12, 22),
        )
    assert error.value.code == "no_sessions"
    assert not event.sessions.exists()


def test_a_skip_date_the_monthly_series_never_meets_on_is_refused(event_index):
    event = make_event(event_index)
    with pytest.raises(EventsError) as error:
        _series(
            event,
            RepeatPattern(
                frequency=Frequency.MONTHLY_BY_WEEKDAY, weekday_position=1, count=3
            ),
            skip_dates=[dt.date(2026, 11, 12)],
        )
    assert error.value.code == "skip_date_not_in_series"
    assert str(error.value.message) == "This series does not meet on 12 November 2026."


def test_a_start_time_the_clocks_skip_is_refused(event_index):
    event = make_event(event_index)
    with pytest.raises(EventsError) as error:
        _series(
            event,
            RepeatPattern(count=2),
            first_date=dt.date(2027, 3, 7),
            start_time=dt.time(2, 30),
            end_time=dt.time(4),
        )
    assert error.value.code == "time_does_not_exist"
    assert not event.sessions.exists()
