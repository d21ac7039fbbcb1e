"""Coordinator screens for sessions and venues in the Wagtail admin."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from wagtail.models import GroupPagePermission, ModelLogEntry

from events.models import EventSession, SessionStatus
from tests.conftest import (
    make_event,
    make_registration_event,
    make_session,
    make_venue,
    sign_up,
)

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")


@pytest.fixture
def coordinator(django_user_model, home_page):
    """A non-superuser with the permissions the Coordinators group holds."""
    group = Group.objects.create(name="Coordinators")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="events",
            codename__in=[
                "add_eventsession",
                "change_eventsession",
                "view_eventsession",
            ],
        ),
    )
    GroupPagePermission.objects.create(
        group=group,
        page=home_page,
        permission=Permission.objects.get(codename="change_page"),
    )
    user = django_user_model.objects.create_user("coordinator", password="pw")
    user.groups.add(group)
    return user


def test_weekly_series_view_creates_sessions_skipping_dates(
    client, admin_user, event_index
):
    event = make_event(event_index)
    client.force_login(admin_user)
    url = reverse("event_sessions:series", args=[event.pk])

    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "first_date": "2026-10-20",
            "start_time": "18:00",
            "end_time": "19:30",
            "weeks": "4",
            "skip_dates": "2026-10-27",
        },
    )

    assert response.status_code == 302
    sessions = list(event.sessions.order_by("start"))
    assert [s.start.astimezone(TORONTO).date() for s in sessions] == [
        dt.date(2026, 10, 20),
        dt.date(2026, 11, 3),
        dt.date(2026, 11, 10),
    ]
    assert {s.start.astimezone(TORONTO).time() for s in sessions} == {dt.time(18)}


def test_weekly_series_view_explains_bad_input_and_keeps_it(
    client, admin_user, event_index
):
    event = make_event(event_index)
    client.force_login(admin_user)
    response = client.post(
        reverse("event_sessions:series", args=[event.pk]),
        {
            "first_date": "2026-10-20",
            "start_time": "18:00",
            "end_time": "17:00",
            "weeks": "4",
            "skip_dates": "2026-10-27, next tuesday",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The end time must be after the start time." in html
    assert "These are not dates like 2026-12-24: next, tuesday" in html
    assert "2026-10-27, next tuesday" in html
    assert not EventSession.objects.exists()


def test_cancel_view_asks_then_cancels_and_logs(client, admin_user, event_index):
    session = make_session(make_event(event_index))
    client.force_login(admin_user)
    url = reverse("event_sessions:cancel", args=[session.pk])

    assert client.get(url).status_code == 200
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED

    assert client.post(url, {"public_note": "Snow day"}).status_code == 302
    session.refresh_from_db()
    assert (session.status, session.sequence, session.public_note) == (
        "cancelled",
        1,
        "Snow day",
    )
    assert ModelLogEntry.objects.filter(action="events.session.cancelled").count() == 1

    reinstate = reverse("event_sessions:reinstate", args=[session.pk])
    assert client.post(reinstate).status_code == 302
    session.refresh_from_db()
    assert (session.status, session.sequence) == ("scheduled", 2)


def test_edit_view_moves_session_through_the_workflow(client, admin_user, event_index):
    session = make_session(make_event(event_index))
    client.force_login(admin_user)
    new_start = session.start.astimezone(TORONTO) + dt.timedelta(days=2)
    response = client.post(
        reverse("event_sessions:edit", args=[session.pk]),
        {
            "start": new_start.strftime("%Y-%m-%d %H:%M"),
            "end": (new_start + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "venue": "",
            "public_note": "New day",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    session.refresh_from_db()
    assert session.status == SessionStatus.MOVED
    assert session.sequence == 1
    assert session.start == new_start


def test_edit_view_rejects_end_before_start(client, admin_user, event_index):
    session = make_session(make_event(event_index))
    client.force_login(admin_user)
    start = session.start.astimezone(TORONTO)
    response = client.post(
        reverse("event_sessions:edit", args=[session.pk]),
        {
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "end": (start - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "public_note": "",
        },
    )
    assert response.status_code == 200
    assert "A session must end after it starts." in response.content.decode()
    session.refresh_from_db()
    assert session.sequence == 0


def test_session_listing_filters_by_event(client, admin_user, event_index):
    first, second = (
        make_event(event_index, title="First"),
        make_event(event_index, title="Second"),
    )
    make_session(first)
    make_session(second)
    client.force_login(admin_user)
    response = client.get(reverse("event_sessions:index"), {"event": first.pk})
    assert response.status_code == 200
    assert [s.event_id for s in response.context["object_list"]] == [first.pk]


def test_coordinator_can_cancel_but_anonymous_and_plain_users_cannot(
    client, coordinator, django_user_model, event_index
):
    session = make_session(make_event(event_index))
    url = reverse("event_sessions:cancel", args=[session.pk])

    assert client.post(url).status_code == 302  # to the login page
    plain = django_user_model.objects.create_user("plain", password="pw")
    plain.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(plain)
    client.post(url)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED

    client.force_login(coordinator)
    assert client.post(url).status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED


def test_venue_snippets_list_filter_and_search(client, admin_user):
    make_venue(name="St. Mary's ward room", setting="hospital")
    make_venue(name="Riverside hall", setting="community", step_free=True)
    client.force_login(admin_user)
    url = reverse("wagtailsnippets_events_venue:list")

    names = lambda response: [v.name for v in response.context["object_list"]]  # noqa: E731
    assert names(client.get(url, {"setting": "hospital"})) == ["St. Mary's ward room"]
    assert names(client.get(url, {"step_free": "true"})) == ["Riverside hall"]
    assert names(client.get(url, {"q": "riverside"})) == ["Riverside hall"]
    # A quote is not search syntax (SQLite's full-text search failed on it).
    assert names(client.get(url, {"q": '"riverside'})) == ["Riverside hall"]
    assert client.get(reverse("event_sessions:index"), {"q": '"'}).status_code == 200


def test_event_editor_shows_sessions_panel(client, admin_user, event_index):
    event = make_event(event_index)
    make_session(event)
    client.force_login(admin_user)
    html = client.get(
        reverse("wagtailadmin_pages:edit", args=[event.pk])
    ).content.decode()
    assert "Add a weekly series" in html
    assert reverse("event_sessions:series", args=[event.pk]) in html


def test_editing_a_cancelled_session_is_refused_with_a_message(
    client, admin_user, event_index
):
    from events.sessions import cancel_session

    session = cancel_session(session=make_session(make_event(event_index)))
    client.force_login(admin_user)
    start = session.start.astimezone(TORONTO) + dt.timedelta(days=1)
    response = client.post(
        reverse("event_sessions:edit", args=[session.pk]),
        {
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "end": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "public_note": "",
        },
    )
    assert response.status_code == 200
    assert "Reinstate it before moving it." in response.content.decode()
    session.refresh_from_db()
    assert session.sequence == 1


def test_only_a_session_added_by_mistake_can_be_deleted(
    client, admin_user, event_index, time_machine
):
    client.force_login(admin_user)
    event = make_registration_event(event_index)
    mistake = make_session(event, start=timezone.now() + dt.timedelta(days=5))
    url = reverse("event_sessions:delete", args=[mistake.pk])
    assert client.get(url).status_code == 200  # asks first
    client.post(url)
    assert not EventSession.objects.filter(pk=mistake.pk).exists()

    session = event.sessions.get()
    sign_up(event, "Ana")
    response = client.post(
        reverse("event_sessions:delete", args=[session.pk]), follow=True
    )
    assert "people have signed up for this event. Cancel it instead." in (
        response.content.decode()
    )
    time_machine.move_to(session.end)
    response = client.get(
        reverse("event_sessions:delete", args=[session.pk]), follow=True
    )
    assert "it has started or taken place" in response.content.decode()
    assert EventSession.objects.filter(pk=session.pk).exists()
