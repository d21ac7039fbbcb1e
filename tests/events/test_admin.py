"""Coordinator screens for sessions and venues in the Wagtail admin."""

import datetime as dt
import re
from html import escape, unescape
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from wagtail.models import GroupPagePermission, ModelLogEntry

from events.models import EventSession, SessionStatus
from events.registration import cancel
from tests.conftest import (
    admin_heading,
    make_event,
    make_registration_event,
    make_session,
    make_venue,
    sign_up,
)

CALL_LIST_LINE = (
    "1 person with a place can only be reached by phone: they go on the call list."
)

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")


@pytest.fixture
def coordinator(django_user_model, home_page):
    """A non-superuser with the permissions the Coordinators group holds."""
    group = Group.objects.get_or_create(name="Coordinators")[0]
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
            "frequency": "weekly",
            "ends": "count",
            "count": "4",
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
            "frequency": "weekly",
            "ends": "count",
            "count": "4",
            "skip_dates": "2026-10-27, next tuesday",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The end time must be after the start time." in html
    assert "These are not dates like 2026-12-24: next, tuesday" in html
    assert "2026-10-27, next tuesday" in html
    assert not EventSession.objects.exists()


def _series_form(**overrides):
    """The weekly series form for Tuesdays at 6 pm from 23 February 2027."""
    return {
        "first_date": "2027-02-23",
        "start_time": "18:00",
        "end_time": "19:30",
        "frequency": "weekly",
        "ends": "count",
        "count": "6",
        "skip_dates": "",
    } | overrides


def test_weekly_series_view_says_which_dates_already_had_a_session(
    client, admin_user, event_index
):
    event = make_event(event_index)
    client.force_login(admin_user)
    url = reverse("event_sessions:series", args=[event.pk])
    client.post(url, _series_form())

    response = client.post(
        url, _series_form(first_date="2027-03-23", count="4"), follow=True
    )

    assert [str(m) for m in response.context["messages"]][-1] == (
        "2 sessions added. 23 March and 30 March already had a session, so "
        "they were skipped."
    )
    assert event.sessions.count() == 8


def test_weekly_series_view_refuses_a_series_already_added(
    client, admin_user, event_index
):
    event = make_event(event_index)
    client.force_login(admin_user)
    url = reverse("event_sessions:series", args=[event.pk])
    client.post(url, _series_form())

    response = client.post(url, _series_form(first_date="2027-03-16", count="2"))

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "first_date": [
            "16 March and 23 March already have sessions at this time, so "
            "there is nothing to add."
        ]
    }
    assert event.sessions.count() == 6


def test_weekly_series_view_refuses_a_skip_date_on_another_weekday(
    client, admin_user, event_index
):
    event = make_event(event_index)
    client.force_login(admin_user)

    response = client.post(
        reverse("event_sessions:series", args=[event.pk]),
        _series_form(skip_dates="2027-03-09\n2027-03-10"),
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "skip_dates": ["10 March 2027 is a Wednesday; this series meets on Tuesdays."]
    }
    assert "2027-03-09\n2027-03-10" in response.content.decode()
    assert not event.sessions.exists()


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


def test_edit_view_rejects_a_session_longer_than_a_week(
    client, admin_user, event_index
):
    session = make_session(make_event(event_index))
    client.force_login(admin_user)
    start = session.start.astimezone(TORONTO)
    response = client.post(
        reverse("event_sessions:edit", args=[session.pk]),
        {
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "end": (start + dt.timedelta(days=7, hours=1)).strftime("%Y-%m-%d %H:%M"),
            "public_note": "",
        },
    )
    assert response.status_code == 200
    assert "A session can last up to 7 days." in response.content.decode()
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


def test_venue_snippets_list_filter_and_search(client, admin_user, search_index):
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
    assert "Add a series" in html
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
    client.force_login(admin_user)  # a day on, the idle session has ended
    response = client.get(
        reverse("event_sessions:delete", args=[session.pk]), follow=True
    )
    assert "it has started or taken place" in response.content.decode()
    assert EventSession.objects.filter(pk=session.pk).exists()


# Titles, where a screen returns to, and who is told ---------------------------


def test_every_session_and_registration_screen_names_its_event(
    client, admin_user, event_index
):
    """Wagtail 8's header include takes a variable called ``heading`` as
    the whole header: a template that set one lost its h1 and subtitle."""
    event = make_registration_event(event_index, title="Hearing Voices", capacity=1)
    session = event.sessions.get()
    sign_up(event, "Ana")
    ben = sign_up(event, "Ben")
    client.force_login(admin_user)
    screens = {
        "Add a series": reverse("event_sessions:series", args=[event.pk]),
        "Cancel session": reverse("event_sessions:cancel", args=[session.pk]),
        "Change capacity": reverse("event_registrations:capacity", args=[event.pk]),
        "Give a place": reverse("event_registrations:promote", args=[ben.pk]),
        "Cancel registration": reverse("event_registrations:cancel", args=[ben.pk]),
        "Move to another event": reverse("event_registrations:move", args=[ben.pk]),
    }
    for title, url in screens.items():
        heading = admin_heading(client.get(url))
        assert heading.startswith(title), (url, heading)
        assert "Hearing Voices" in heading, (url, heading)
    session.status = SessionStatus.CANCELLED
    session.save()
    heading = admin_heading(
        client.get(reverse("event_sessions:reinstate", args=[session.pk]))
    )
    assert heading.startswith("Reinstate session") and "Hearing Voices" in heading


def test_calendar_import_screen_has_its_title(client, admin_user, event_index):
    client.force_login(admin_user)
    response = client.get(reverse("events_ics_import"))
    assert admin_heading(response) == "Import a calendar"


def _who_is_told(response):
    html = response.content.decode()
    start = html.index('class="gather-audience"')
    return " ".join(html[start : html.index("</section>", start)].split())


def test_cancel_screen_says_how_many_are_emailed_and_whom_to_call(
    client, admin_user, event_index
):
    event = make_registration_event(event_index, capacity=4)
    session = event.sessions.get()
    sign_up(event, "Ana", email="ana@example.org")
    sign_up(event, "Ben", email="ben@example.org")
    sign_up(event, "Cy", email="", phone="416 555 0199")
    gone = sign_up(event, "Gus", email="gus@example.org")
    cancel(registration=gone)
    sign_up(event, "Dee", email="dee@example.org")
    sign_up(event, "Eve", email="eve@example.org")  # waiting: not told
    client.force_login(admin_user)

    told = _who_is_told(client.get(reverse("event_sessions:cancel", args=[session.pk])))

    assert "3 people with a place will be emailed." in told
    assert CALL_LIST_LINE in told
    assert "Cy: (416) 555-0199 (no voicemail)" in told
    for name in ("Ana", "Ben", "Dee", "Eve", "Gus"):
        assert name not in told
    assert f"?event={event.pk}" in told  # the registrations, to look further


def test_move_screen_says_who_is_told_if_it_moves(client, admin_user, event_index):
    event = make_registration_event(event_index, capacity=4)
    sign_up(event, "Ana", email="ana@example.org")
    sign_up(
        event,
        "Cy",
        email="",
        phone="416 555 0199",
        call_times="weekday mornings",
        voicemail_ok=True,
    )
    client.force_login(admin_user)
    response = client.get(
        reverse("event_sessions:edit", args=[event.sessions.get().pk])
    )
    told = _who_is_told(response)
    assert "Who is told if it moves" in told
    assert "1 person with a place will be emailed." in told
    assert (
        "Cy: (416) 555-0199 (best times: weekday mornings) (voicemail is fine)" in told
    )
    assert "only if the new time is still to come" in told


def test_move_screen_of_a_session_that_is_over_counts_who_a_new_time_tells(
    client, admin_user, event_index, time_machine
):
    """Moving a past session to a time still to come emails its people, as
    ``reschedule_session`` does, so the screen does not say nobody is told."""
    event = make_registration_event(event_index, capacity=4)
    sign_up(event, "Ana", email="ana@example.org")
    session = event.sessions.get()
    time_machine.move_to(session.end + dt.timedelta(hours=1))
    client.force_login(admin_user)

    told = _who_is_told(client.get(reverse("event_sessions:edit", args=[session.pk])))

    assert "1 person with a place will be emailed." in told
    assert "nobody is told" not in told


def test_cancel_screen_shows_only_numbers_to_who_cannot_see_registrations(
    client, coordinator, event_index
):
    """Someone who may change sessions but not open the registrations
    listing is shown no name or phone number."""
    group = Group.objects.get(name="Coordinators")
    group.permissions.remove(
        *Permission.objects.filter(codename__endswith="_registration")
    )
    event = make_registration_event(event_index, capacity=4)
    sign_up(event, "Ana", email="ana@example.org")
    sign_up(event, "Cy", email="", phone="416 555 0199")
    client.force_login(coordinator)

    told = _who_is_told(
        client.get(reverse("event_sessions:cancel", args=[event.sessions.get().pk]))
    )

    assert "1 person with a place will be emailed." in told
    assert CALL_LIST_LINE in told
    assert "Cy" not in told and "416" not in told
    assert "registrations" not in told


def test_cancel_screen_names_people_only_to_who_may_see_that_events_people(
    client, django_user_model, home_page, event_index, facilitators_group
):
    """Someone who may change sessions and open the registrations listing
    is shown names and phone numbers only for events whose people they may
    see there (``registrations_visible_to``): their own groups'."""
    facilitators_group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="events",
            codename__in=["change_eventsession", "view_registration"],
        ),
    )
    GroupPagePermission.objects.create(
        group=facilitators_group,
        page=home_page,
        permission=Permission.objects.get(codename="change_page"),
    )
    user = django_user_model.objects.create_user("fac", password="pw")
    user.groups.add(facilitators_group)
    mine = make_registration_event(event_index, capacity=4)
    mine.facilitators.add(user)
    mine.save()
    theirs = make_registration_event(event_index, capacity=4)
    sign_up(mine, "Cy", email="", phone="416 555 0199")
    sign_up(theirs, "Di", email="", phone="416 555 0188")
    client.force_login(user)

    def told(event):
        url = reverse("event_sessions:cancel", args=[event.sessions.get().pk])
        return _who_is_told(client.get(url))

    assert "Cy: (416) 555-0199 (no voicemail)" in told(mine)
    other = told(theirs)
    assert CALL_LIST_LINE in other
    assert "Di" not in other and "0188" not in other
    assert "registrations" not in other


def test_cancel_screen_of_a_session_that_is_over_says_nobody_is_told(
    client, admin_user, event_index
):
    event = make_registration_event(event_index, capacity=4)
    sign_up(event, "Ana", email="ana@example.org")
    past = make_session(event, start=timezone.now() - dt.timedelta(days=3))
    client.force_login(admin_user)
    told = _who_is_told(client.get(reverse("event_sessions:cancel", args=[past.pk])))
    assert "This session is over, so nobody is told." in told
    assert "emailed" not in told


def _panel_link(html, label):
    match = re.search(rf'<a [^>]*href="([^"]+)"[^>]*>{re.escape(label)}</a>', html)
    return unescape(match.group(1))


def test_cancel_and_reinstate_from_the_page_editor_return_to_it(
    client, admin_user, event_index
):
    event = make_registration_event(event_index)
    session = event.sessions.get()
    client.force_login(admin_user)
    editor = reverse("wagtailadmin_pages:edit", args=[event.pk])

    cancel_url = _panel_link(client.get(editor).content.decode(), "Cancel")
    form = client.get(cancel_url).content.decode()
    assert f'name="next" value="{editor}"' in form
    assert f'href="{editor}" class="button button-secondary"' in form  # Go back
    response = client.post(cancel_url, {"next": editor})
    assert response.status_code == 302 and response.url == editor
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED

    reinstate_url = _panel_link(client.get(editor).content.decode(), "Reinstate")
    response = client.post(reinstate_url, {"next": editor})
    assert response.status_code == 302 and response.url == editor
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_moving_from_the_page_editor_returns_to_it(client, admin_user, event_index):
    event = make_event(event_index)
    session = make_session(event)
    client.force_login(admin_user)
    editor = reverse("wagtailadmin_pages:edit", args=[event.pk])
    move_url = _panel_link(client.get(editor).content.decode(), "Move or edit")
    form = client.get(move_url).content.decode()
    # The form posts back with ``next``, so saving returns to the editor.
    action = unescape(re.search(r'<form[^>]+\saction="([^"]+)"', form).group(1))
    assert "next=" in action
    start = session.start.astimezone(TORONTO) + dt.timedelta(days=1)
    response = client.post(
        action,
        {
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "end": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "venue": "",
            "public_note": "",
        },
    )
    assert response.status_code == 302 and response.url == editor
    session.refresh_from_db()
    assert session.status == SessionStatus.MOVED


@pytest.mark.parametrize(
    "next_url",
    ["", "https://elsewhere.example/admin/", "//elsewhere.example/", "javascript:x"],
)
def test_without_a_safe_next_a_session_screen_returns_to_the_events_sessions(
    client, admin_user, event_index, next_url
):
    event = make_event(event_index)
    session = make_session(event)
    client.force_login(admin_user)
    url = reverse("event_sessions:cancel", args=[session.pk])
    event_sessions = reverse("event_sessions:index") + f"?event={event.pk}"

    form = client.get(url, {"next": next_url}).content.decode()
    assert f'name="next" value="{escape(event_sessions)}"' in form
    response = client.post(url, {"next": next_url})

    assert response.status_code == 302 and response.url == event_sessions


def test_sessions_listing_actions_return_to_the_filtered_listing(
    client, admin_user, event_index
):
    event = make_event(event_index)
    session = make_session(event)
    client.force_login(admin_user)
    listing = reverse("event_sessions:index") + f"?event={event.pk}"
    html = unescape(client.get(listing).content.decode())
    back = urlencode({"next": listing})
    for name in ("edit", "cancel"):
        url = reverse(f"event_sessions:{name}", args=[session.pk])
        assert f"{url}?{back}" in html, name


def test_adding_one_session_from_the_page_editor_returns_to_it(
    client, admin_user, event_index
):
    event = make_event(event_index)
    client.force_login(admin_user)
    editor = reverse("wagtailadmin_pages:edit", args=[event.pk])
    add_url = _panel_link(client.get(editor).content.decode(), "Add one session")
    form = client.get(add_url).content.decode()
    action = unescape(re.search(r'<form[^>]+\saction="([^"]+)"', form).group(1))
    start = timezone.localtime() + dt.timedelta(days=3)
    response = client.post(
        action,
        {
            "event": event.pk,
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "end": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "venue": "",
            "public_note": "",
        },
    )
    assert response.status_code == 302 and response.url == editor
    assert event.sessions.count() == 1
