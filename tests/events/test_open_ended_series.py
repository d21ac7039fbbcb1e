"""Open-ended series (``events.open_series``): started with a rule kept on
the event, topped up to the rolling horizon, stopped; in the site's zone
(America/Toronto: the clocks go back on 1 November 2026 and forward on 14
March 2027), on a frozen clock."""

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from events import open_series
from events.errors import EventsError
from events.groups import EDITORS_GROUP
from events.models import (
    Closure,
    EventSession,
    Frequency,
    SentReminder,
    SeriesRule,
)
from events.reminders import send_due_reminders
from events.sessions import RepeatPattern, cancel_session, generate_series
from tests.conftest import make_event, make_event_index, role_group, sign_up

TORONTO = ZoneInfo("America/Toronto")

pytestmark = pytest.mark.django_db

WEEKLY = RepeatPattern(frequency=Frequency.WEEKLY)


def _freeze(time_machine, day, hour=12):
    """Stop the clock at ``hour`` local on ``day``."""
    time_machine.move_to(
        dt.datetime.combine(day, dt.time(hour), tzinfo=TORONTO), tick=False
    )


def _start(event, pattern=WEEKLY, **overrides):
    arguments = {
        "event": event,
        "pattern": pattern,
        "first_date": dt.date(2026, 10, 6),
        "start_time": dt.time(14),
        "end_time": dt.time(15, 30),
    } | overrides
    return open_series.start_open_series(**arguments)


def _dates(event):
    return [
        s.start.astimezone(TORONTO).date() for s in event.sessions.order_by("start")
    ]


def _weeks(first, count, step=1):
    return [first + dt.timedelta(weeks=step * n) for n in range(count)]


@pytest.fixture
def tuesday(time_machine, event_index):
    """An event with a weekly Tuesday series that keeps going, started on
    Tuesday 6 October 2026 (so made up to 29 December)."""
    _freeze(time_machine, dt.date(2026, 10, 6), hour=9)
    event = make_event(event_index)
    _start(event)
    return event


def test_starting_makes_the_sessions_up_to_the_rolling_horizon(tuesday):
    assert _dates(tuesday) == _weeks(dt.date(2026, 10, 6), 13)
    rule = SeriesRule.objects.get(event=tuesday)
    assert rule.open_ended and rule.until is None
    assert rule.generated_until == dt.date(2026, 12, 29)
    assert (rule.frequency, rule.interval, rule.weekday) == ("weekly", 1, 1)
    # 2 pm stays 2 pm across the November change: 18:00 UTC, then 19:00.
    starts = [s.start.astimezone(TORONTO).time() for s in tuesday.sessions.all()]
    assert set(starts) == {dt.time(14)}
    utc_hours = [s.start.astimezone(dt.UTC).hour for s in tuesday.sessions.all()]
    assert utc_hours == [18] * 4 + [19] * 9
    assert open_series.rule_in_words(rule) == (
        "Every Tuesday, 2–3:30 pm, keeps going; sessions made up to 29 December 2026"
    )


def test_the_setting_says_how_many_weeks_ahead(settings, time_machine, event_index):
    settings.GATHER_ROLLING_WEEKS_AHEAD = 4
    _freeze(time_machine, dt.date(2026, 10, 6), hour=9)
    event = make_event(event_index)
    series = _start(event)
    assert _dates(event) == _weeks(dt.date(2026, 10, 6), 5)
    assert series.made_until == dt.date(2026, 11, 3)
    assert "sessions are made up to 3 November 2026" in series.summary()


def test_a_top_up_the_same_day_or_twice_makes_nothing_more(tuesday):
    before = list(tuesday.sessions.values_list("pk", "uid", "start"))
    first = open_series.top_up_series()
    second = open_series.top_up_series()
    assert [t.created for t in first + second] == [0, 0]
    assert list(tuesday.sessions.values_list("pk", "uid", "start")) == before


def test_a_week_later_one_more_week_with_a_uid_of_its_own(
    tuesday, time_machine, client
):
    before = dict(tuesday.sessions.values_list("pk", "uid"))
    time_machine.shift(dt.timedelta(weeks=1))

    [done] = open_series.top_up_series()
    open_series.top_up_series()  # and again: nothing more

    assert done.created == 1
    assert _dates(tuesday) == _weeks(dt.date(2026, 10, 6), 14)
    assert SeriesRule.objects.get().generated_until == dt.date(2027, 1, 5)
    new = tuesday.sessions.exclude(pk__in=before).get()
    assert new.start == dt.datetime(2027, 1, 5, 14, tzinfo=TORONTO)
    assert new.uid.endswith("@gather") and new.uid not in before.values()
    # The sessions made before keep their UIDs, and the calendar has one
    # VEVENT per session.
    assert dict(tuesday.sessions.exclude(pk=new.pk).values_list("pk", "uid")) == before
    feed = client.get(tuesday.calendar_url).content.decode()
    assert feed.count("BEGIN:VEVENT") == 14
    assert feed.count(f"UID:{new.uid}") == 1


def test_the_scheduled_command_tops_up(tuesday, time_machine, capsys):
    time_machine.shift(dt.timedelta(weeks=2))
    call_command("top_up_series")
    assert "Topped up 1 series: 2 session(s) made." in capsys.readouterr().out
    assert _dates(tuesday)[-2:] == [dt.date(2027, 1, 5), dt.date(2027, 1, 12)]


def test_closures_and_skip_dates_are_left_out_of_top_ups(time_machine, event_index):
    _freeze(time_machine, dt.date(2026, 10, 6), hour=9)
    event = make_event(event_index)
    # A skip date further ahead than the sessions made at the start.
    _start(event, skip_dates=[dt.date(2027, 1, 12)])
    Closure.objects.create(
        name="Winter holidays",
        first_day=dt.date(2027, 1, 4),
        last_day=dt.date(2027, 1, 8),
    )

    time_machine.shift(dt.timedelta(weeks=2))
    assert [t.created for t in open_series.top_up_series()] == [0]
    assert SeriesRule.objects.get().generated_until == dt.date(2027, 1, 12)
    time_machine.shift(dt.timedelta(weeks=1))
    assert [t.created for t in open_series.top_up_series()] == [1]

    dates = _dates(event)
    assert dt.date(2027, 1, 5) not in dates
    assert dt.date(2027, 1, 12) not in dates
    assert dates[-2:] == [dt.date(2026, 12, 29), dt.date(2027, 1, 19)]


def test_a_skip_date_the_series_never_meets_on_is_refused(time_machine, event_index):
    _freeze(time_machine, dt.date(2026, 10, 6), hour=9)
    event = make_event(event_index)
    with pytest.raises(EventsError) as refused:
        _start(event, skip_dates=[dt.date(2027, 1, 13)])  # a Wednesday
    assert refused.value.code == "skip_date_not_in_series"
    with pytest.raises(EventsError) as refused:
        _start(event, skip_dates=[dt.date(2030, 1, 1)])
    assert refused.value.code == "skip_date_too_far"
    assert not event.sessions.exists()
    assert not SeriesRule.objects.exists()


def test_deleted_and_cancelled_sessions_are_not_made_again(tuesday, time_machine):
    last, before_last = tuesday.sessions.order_by("-start")[:2]
    last.delete()
    cancel_session(session=before_last, notify=False)

    time_machine.shift(dt.timedelta(weeks=1))
    open_series.top_up_series()

    dates = _dates(tuesday)
    assert dt.date(2026, 12, 29) not in dates
    assert dates.count(dt.date(2026, 12, 22)) == 1
    assert dates[-1] == dt.date(2027, 1, 5)
    assert tuesday.sessions.get(uid=before_last.uid).is_cancelled


def test_stopping_now_stops_the_top_ups(tuesday, time_machine):
    rule = open_series.stop_series(rule=SeriesRule.objects.get())
    assert (rule.open_ended, rule.until) == (False, dt.date(2026, 12, 29))
    assert open_series.rule_in_words(rule) == (
        "Every Tuesday, 2–3:30 pm, ends on 29 December 2026; sessions made up "
        "to 29 December 2026"
    )

    time_machine.shift(dt.timedelta(weeks=3))
    assert open_series.top_up_series() == []
    assert _dates(tuesday)[-1] == dt.date(2026, 12, 29)
    with pytest.raises(EventsError) as refused:
        open_series.stop_series(rule=rule)
    assert refused.value.code == "already_stopped"


def test_stopping_on_a_later_date_tops_up_to_it_and_no_further(tuesday, time_machine):
    open_series.stop_series(
        rule=SeriesRule.objects.get(), last_date=dt.date(2027, 1, 12)
    )

    time_machine.shift(dt.timedelta(weeks=4))
    open_series.top_up_series()
    time_machine.shift(dt.timedelta(weeks=4))
    assert open_series.top_up_series() == []

    assert _dates(tuesday)[-3:] == [
        dt.date(2026, 12, 29),
        dt.date(2027, 1, 5),
        dt.date(2027, 1, 12),
    ]


def test_the_march_clock_change_keeps_the_local_time(time_machine, event_index):
    _freeze(time_machine, dt.date(2027, 1, 4), hour=9)
    event = make_event(event_index)
    _start(
        event,
        first_date=dt.date(2027, 1, 4),
        start_time=dt.time(18),
        end_time=dt.time(19),
    )
    time_machine.shift(dt.timedelta(weeks=6))
    open_series.top_up_series()

    sessions = list(event.sessions.order_by("start"))
    assert len(sessions) == 19
    assert {s.start.astimezone(TORONTO).time() for s in sessions} == {dt.time(18)}
    march = [s for s in sessions if s.start.astimezone(TORONTO).month == 3]
    # 6 pm is 23:00 UTC before 14 March and 22:00 UTC after.
    assert [s.start.astimezone(dt.UTC).hour for s in march] == [23, 23, 22, 22, 22]


def test_every_two_weeks_stays_on_its_weeks(time_machine, event_index):
    _freeze(time_machine, dt.date(2026, 10, 6), hour=9)
    event = make_event(event_index)
    _start(event, RepeatPattern(frequency=Frequency.WEEKLY, interval=2))
    for _ in range(3):
        time_machine.shift(dt.timedelta(weeks=1))
        open_series.top_up_series()
    assert _dates(event) == _weeks(dt.date(2026, 10, 6), 8, step=2)


def test_the_first_thursday_every_two_months_stays_on_its_months(
    time_machine, event_index
):
    _freeze(time_machine, dt.date(2026, 10, 1), hour=9)
    event = make_event(event_index)
    pattern = RepeatPattern(
        frequency=Frequency.MONTHLY_BY_WEEKDAY, interval=2, weekday_position=1
    )
    _start(event, pattern, first_date=dt.date(2026, 10, 1))
    assert _dates(event) == [dt.date(2026, 10, 1), dt.date(2026, 12, 3)]

    for _ in range(30):
        time_machine.shift(dt.timedelta(weeks=1))
        open_series.top_up_series()

    assert _dates(event) == [
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 3),
        dt.date(2027, 2, 4),
        dt.date(2027, 4, 1),
        dt.date(2027, 6, 3),
    ]
    rule = SeriesRule.objects.get()
    assert open_series.rule_in_words(rule).startswith(
        "The first Thursday of every 2 months, 2–3:30 pm, keeps going"
    )


def test_people_with_a_place_are_reminded_of_new_sessions(tuesday, time_machine):
    tuesday.registration_mode = "open"
    tuesday.save()
    person = sign_up(tuesday, "Ana", consent=["email"])
    time_machine.shift(dt.timedelta(weeks=1))
    open_series.top_up_series()
    new = tuesday.sessions.get(start__date=dt.date(2027, 1, 5))

    _freeze(time_machine, dt.date(2027, 1, 4), hour=18)
    send_due_reminders()

    assert SentReminder.objects.filter(registration=person, session=new).exists()


# The admin ------------------------------------------------------------------


def _form(**overrides):
    return {
        "first_date": "2026-10-06",
        "start_time": "14:00",
        "end_time": "15:30",
        "frequency": "weekly",
        "interval": "1",
        "weekday_position": "",
        "weekday": "",
        "month_day": "",
        "ends": "open",
        "count": "8",
        "until": "",
        "skip_dates": "",
    } | overrides


def test_the_series_form_starts_an_open_ended_series(
    admin_client, time_machine, event_index
):
    _freeze(time_machine, dt.date(2026, 10, 6), hour=9)
    event = make_event(event_index)
    url = reverse("event_sessions:series", args=[event.pk])

    preview = admin_client.post(url, _form(preview="1"))
    assert "keep 12 weeks ahead" in preview.content.decode()
    assert not event.sessions.exists()

    response = admin_client.post(url, _form(), follow=True)
    # The number of dates left in the form is ignored.
    assert len(_dates(event)) == 13
    assert SeriesRule.objects.get(event=event).open_ended
    assert [str(m) for m in response.context["messages"]][-1] == (
        "13 sessions added. The series keeps going: sessions are made up to "
        "29 December 2026, and more are added every day."
    )
    editor = response.content.decode()
    assert (
        "Every Tuesday, 2–3:30 pm, keeps going; sessions made up to 29 December 2026"
        in editor
    )
    assert (
        reverse("event_sessions:stop_series", args=[SeriesRule.objects.get().pk])
        in editor
    )


def test_series_form_mistakes_are_shown_next_to_the_field(
    admin_client, time_machine, event_index
):
    _freeze(time_machine, dt.date(2026, 10, 6), hour=9)
    event = make_event(event_index)
    response = admin_client.post(
        reverse("event_sessions:series", args=[event.pk]),
        _form(skip_dates="2027-01-13"),
    )
    assert response.status_code == 200
    assert "is a Wednesday" in " ".join(response.context["form"].errors["skip_dates"])
    assert not SeriesRule.objects.exists()


def test_stopping_from_the_admin(admin_client, tuesday):
    rule = SeriesRule.objects.get()
    url = reverse("event_sessions:stop_series", args=[rule.pk])
    page = admin_client.get(url)
    assert "Every Tuesday, 2–3:30 pm, keeps going" in page.content.decode()

    refused = admin_client.post(url, {"last_date": "2026-01-01"})
    assert "on or after the first date" in " ".join(
        refused.context["form"].errors["last_date"]
    )
    response = admin_client.post(url, {"last_date": ""})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.open_ended, rule.until) == (False, dt.date(2026, 12, 29))


def test_an_editor_may_not_stop_it(client, tuesday, django_user_model):
    """Editors write pages but do not plan sessions."""
    user = django_user_model.objects.create_user("ed", password="x")
    user.groups.add(role_group(EDITORS_GROUP))
    client.force_login(user)
    rule = SeriesRule.objects.get()
    response = client.post(reverse("event_sessions:stop_series", args=[rule.pk]))
    # Wagtail's answer to PermissionDenied: back to the dashboard.
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    rule.refresh_from_db()
    assert rule.open_ended


# Two top-ups at once ----------------------------------------------------------


def _top_ups_at_once(home_page, time_machine, runs=4):
    """A series started four weeks ago, then ``runs`` top-ups at the same
    moment, each on its own connection; returns the event and the errors."""
    _freeze(time_machine, dt.date(2026, 10, 6), hour=9)
    event = make_event(make_event_index(home_page))
    _start(event)
    time_machine.shift(dt.timedelta(weeks=4))
    barrier = threading.Barrier(runs)
    errors = []

    def worker():
        try:
            barrier.wait()
            open_series.top_up_series()
        except Exception as error:  # noqa: BLE001 - reported to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return event, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_top_ups_at_once_make_each_session_once(home_page, time_machine):
    event, errors = _top_ups_at_once(home_page, time_machine)

    assert errors == []
    assert _dates(event) == _weeks(dt.date(2026, 10, 6), 17)
    assert (
        EventSession.objects.filter(event=event).values("uid").distinct().count() == 17
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_locks_top_ups_make_dates_twice(
    home_page, time_machine, monkeypatch
):
    """With the event and rule locks removed, top-ups at once must make a
    date twice: the test above can fail."""
    from events import sessions

    bulk_create = EventSession.objects.bulk_create

    def slow_bulk_create(*args, **kwargs):
        time.sleep(0.05)  # widen the gap between reading and inserting
        return bulk_create(*args, **kwargs)

    monkeypatch.setattr(open_series, "_lock_event", lambda event: event)
    monkeypatch.setattr(sessions, "_lock_event", lambda event: event)
    monkeypatch.setattr(
        SeriesRule.objects, "select_for_update", lambda **_: SeriesRule.objects.all()
    )
    monkeypatch.setattr(EventSession.objects, "bulk_create", slow_bulk_create)

    event, _ = _top_ups_at_once(home_page, time_machine)

    dates = _dates(event)
    assert len(dates) > len(set(dates)), "the race did not show without the locks"


def test_generate_series_is_untouched_by_rules(time_machine, event_index):
    """A series with an end keeps no rule and is never topped up."""
    _freeze(time_machine, dt.date(2026, 10, 6), hour=9)
    event = make_event(event_index)
    generate_series(
        event=event,
        pattern=RepeatPattern(count=3),
        first_date=dt.date(2026, 10, 6),
        start_time=dt.time(14),
        end_time=dt.time(15),
    )
    time_machine.shift(dt.timedelta(weeks=5))
    assert open_series.top_up_series() == []
    assert len(_dates(event)) == 3
