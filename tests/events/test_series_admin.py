"""The admin series form (repeat patterns, ends, preview) and the closures
snippet coordinators manage."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from events.groups import COORDINATORS_GROUP
from events.models import Closure, EventSession
from tests.conftest import make_event, role_group

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")


def _form(**overrides):
    """Monthly on the first Thursday at 6 pm from 1 October 2026, 4 dates."""
    return {
        "first_date": "2026-10-01",
        "start_time": "18:00",
        "end_time": "19:30",
        "frequency": "monthly_weekday",
        "interval": "1",
        "weekday_position": "1",
        "weekday": "",
        "month_day": "",
        "ends": "count",
        "count": "4",
        "until": "",
        "skip_dates": "",
    } | overrides


def _local_dates(event):
    return [
        s.start.astimezone(TORONTO).date() for s in event.sessions.order_by("start")
    ]


def test_a_monthly_series_on_a_weekday_from_the_form(admin_client, event_index):
    event = make_event(event_index)
    url = reverse("event_sessions:series", args=[event.pk])

    response = admin_client.post(url, _form(), follow=True)

    assert _local_dates(event) == [
        dt.date(2026, 10, 1),
        dt.date(2026, 11, 5),
        dt.date(2026, 12, 3),
        dt.date(2027, 1, 7),
    ]
    assert {s.start.astimezone(TORONTO).time() for s in event.sessions.all()} == {
        dt.time(18)
    }
    assert [str(m) for m in response.context["messages"]][-1] == "4 sessions added."


def test_an_end_date_and_every_two_weeks_from_the_form(admin_client, event_index):
    event = make_event(event_index)
    response = admin_client.post(
        reverse("event_sessions:series", args=[event.pk]),
        _form(
            frequency="weekly",
            interval="2",
            first_date="2026-10-20",
            ends="until",
            # The number of dates left in the form is ignored: the end
            # chosen is the date.
            count="8",
            until="2026-11-17",
            # Fields of another frequency are ignored too.
            weekday_position="-1",
        ),
    )
    assert response.status_code == 302
    assert _local_dates(event) == [
        dt.date(2026, 10, 20),
        dt.date(2026, 11, 3),
        dt.date(2026, 11, 17),
    ]


def test_a_monthly_series_on_a_date_says_which_months_were_too_short(
    admin_client, event_index
):
    event = make_event(event_index)
    response = admin_client.post(
        reverse("event_sessions:series", args=[event.pk]),
        _form(frequency="monthly_date", month_day="31", count="3"),
        follow=True,
    )
    # A month without the day is no date of the series: three dates are
    # three sessions.
    assert _local_dates(event) == [
        dt.date(2026, 10, 31),
        dt.date(2026, 12, 31),
        dt.date(2027, 1, 31),
    ]
    assert [str(m) for m in response.context["messages"]][-1] == (
        "3 sessions added. November 2026 has no day 31, so it has no session."
    )


def test_missing_pattern_fields_are_explained_next_to_them_and_kept(
    admin_client, event_index
):
    event = make_event(event_index)
    response = admin_client.post(
        reverse("event_sessions:series", args=[event.pk]),
        _form(weekday_position="", ends="until", until="", count="12"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "weekday_position": [
            "Choose which weekday of the month: first to fourth, or last."
        ],
        "until": ["Give the last date."],
    }
    html = response.content.decode()
    assert 'value="monthly_weekday"' in html
    assert 'name="count" value="12"' in html
    assert not event.sessions.exists()


def test_an_end_date_too_far_away_is_refused_next_to_it(admin_client, event_index):
    event = make_event(event_index)
    response = admin_client.post(
        reverse("event_sessions:series", args=[event.pk]),
        _form(frequency="weekly", ends="until", until="2030-01-01"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "until": [
            "This series would have more than 104 dates. Choose an earlier end date."
        ]
    }
    assert not event.sessions.exists()


def test_the_preview_lists_sessions_and_closures_and_saves_nothing(
    admin_client, event_index
):
    event = make_event(event_index)
    Closure.objects.create(
        name="Winter holidays",
        first_day=dt.date(2026, 12, 21),
        last_day=dt.date(2027, 1, 3),
    )
    response = admin_client.post(
        reverse("event_sessions:series", args=[event.pk]),
        _form(
            frequency="weekly",
            first_date="2026-12-15",
            count="4",
            skip_dates="2027-01-05",
            preview="1",
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview: 1 session would be added" in html
    assert "Tuesday 15 December 2026, 18:00" in html
    assert "Skipped as you asked: 5 January 2027" in html
    assert (
        "22 December and 29 December fall in the closure “Winter holidays”, so "
        "they were skipped."
    ) in html
    assert not EventSession.objects.exists()

    # The same form, added for real, makes what the preview showed.
    data = _form(
        frequency="weekly", first_date="2026-12-15", count="4", skip_dates="2027-01-05"
    )
    admin_client.post(reverse("event_sessions:series", args=[event.pk]), data)
    assert _local_dates(event) == [dt.date(2026, 12, 15)]


def test_coordinators_manage_closures(client, django_user_model):
    user = django_user_model.objects.create_user("coordinator", password="pw")
    user.groups.add(role_group(COORDINATORS_GROUP))
    client.force_login(user)
    add_url = reverse("wagtailsnippets_events_closure:add")

    response = client.post(
        add_url,
        {
            "name": "Winter holidays",
            "first_day": "2026-12-21",
            "last_day": "2027-01-03",
        },
    )

    assert response.status_code == 302
    closure = Closure.objects.get()
    assert (closure.name, closure.first_day, closure.last_day) == (
        "Winter holidays",
        dt.date(2026, 12, 21),
        dt.date(2027, 1, 3),
    )
    listing = client.get(reverse("wagtailsnippets_events_closure:list"))
    assert "Winter holidays" in listing.content.decode()


def test_a_closure_cannot_end_before_it_starts(admin_client):
    response = admin_client.post(
        reverse("wagtailsnippets_events_closure:add"),
        {"name": "Typo", "first_day": "2027-01-03", "last_day": "2026-12-21"},
    )
    assert response.status_code == 200
    assert "The last day cannot be before the first day." in response.content.decode()
    assert not Closure.objects.exists()
