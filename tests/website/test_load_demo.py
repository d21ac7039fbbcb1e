"""``manage.py load_demo``: the demo program it builds, and that it is repeatable."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from django.utils.html import escape
from wagtail.models import GroupPagePermission, Page, Revision, Site

from attendance.models import AttendanceRecord, Headcount, SessionNote
from events.models import (
    EventKind,
    EventPage,
    EventSession,
    Registration,
    RegistrationMode,
    SessionStatus,
    Venue,
)
from website.demo.content import load_content
from website.models import HomePage, SiteSettings, StandardPage
from workshops.models import WorkshopPage

pytestmark = pytest.mark.django_db

FACILITATOR_USERNAMES = {"amara.okafor", "daniel.tremblay", "priya.nair"}
DEMO = load_content()
PAST_SLUGS = [spec["slug"] for spec in DEMO.past_events]


def run_load_demo():
    """Run the command and return what it wrote."""
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def counts():
    """How many of each thing the demo creates exist now."""
    return {
        "pages": Page.objects.count(),
        "revisions": Revision.objects.count(),
        "venues": Venue.objects.count(),
        "sessions": EventSession.objects.count(),
        "users": get_user_model().objects.count(),
        "groups": Group.objects.count(),
        "page_permissions": GroupPagePermission.objects.count(),
        "site_settings": SiteSettings.objects.count(),
        "registrations": Registration.objects.count(),
        "attendance": AttendanceRecord.objects.count(),
        "headcounts": Headcount.objects.count(),
        "notes": SessionNote.objects.count(),
    }


def wrap_group():
    """The demo's 8-week WRAP group series."""
    return EventPage.objects.get(slug="wrap-group")


def test_builds_venues_for_every_setting():
    run_load_demo()

    venues = Venue.objects.all()
    assert venues.count() >= 3
    assert {venue.setting for venue in venues} >= {"hospital", "community", "online"}
    for venue in venues:
        venue.full_clean()


def test_builds_six_workshops_whose_outlines_add_up():
    run_load_demo()

    workshops = WorkshopPage.objects.live()
    assert workshops.count() == 6
    for workshop in workshops:
        assert workshop.segments
        assert workshop.outline_minutes == workshop.duration_minutes


def test_builds_at_least_twelve_live_events_of_every_kind():
    run_load_demo()

    events = EventPage.objects.live()
    assert events.count() >= 12
    assert {event.kind for event in events} == set(EventKind.values)
    assert {event.registration_mode for event in events} == set(RegistrationMode.values)
    for event in events:
        assert event.sessions.exists()
        assert event.facilitators.exists()
        assert event.topics.exists()


def program_sessions():
    """Sessions of the upcoming program (not the past term's)."""
    return EventSession.objects.exclude(event__slug__in=PAST_SLUGS)


def test_every_session_of_the_program_is_from_tomorrow_on():
    run_load_demo()

    today = timezone.localdate()
    assert program_sessions().exists()
    for session in program_sessions():
        assert session.local_date > today
        assert session.local_date <= today + dt.timedelta(weeks=8)


def test_wrap_group_has_eight_sessions_with_one_cancelled():
    run_load_demo()

    sessions = wrap_group().sessions.all()
    assert sessions.count() == 8
    cancelled = sessions.filter(status=SessionStatus.CANCELLED)
    assert cancelled.count() == 1
    assert "Holiday closure" in cancelled.get().public_note
    assert cancelled.get().sequence == 1


def test_facilitators_are_in_the_facilitators_group():
    run_load_demo()

    facilitators = Group.objects.get(name="Facilitators").user_set.all()
    assert {user.username for user in facilitators} == FACILITATOR_USERNAMES
    for user in facilitators:
        assert not user.is_superuser
        assert user.has_usable_password()


def test_coordinators_can_use_the_admin_and_edit_below_the_home_page():
    run_load_demo()

    coordinators = Group.objects.get(name="Coordinators")
    codenames = set(coordinators.permissions.values_list("codename", flat=True))
    assert "access_admin" in codenames
    assert {"add_eventsession", "change_venue", "delete_venue"} <= codenames
    # The waitlist, capacity and registration imports need these.
    assert {"add_registration", "change_registration", "view_registration"} <= (
        codenames
    )
    assert "delete_registration" not in codenames
    home = HomePage.objects.get()
    page_codenames = set(
        GroupPagePermission.objects.filter(group=coordinators, page=home).values_list(
            "permission__codename", flat=True
        )
    )
    assert page_codenames == {"add_page", "change_page", "publish_page"}


def test_site_settings_and_pages():
    run_load_demo()

    site_settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    assert site_settings.organisation_name == "Riverside Peer Support"
    assert "988" in site_settings.crisis_line_text
    privacy = StandardPage.objects.get(slug="privacy")
    assert site_settings.privacy_notice_page_id == privacy.pk
    home = HomePage.objects.get()
    assert home.title == "Welcome to Riverside Peer Support"
    menu = {page.slug for page in home.get_children().live().in_menu()}
    assert menu == {"events", "workshops", "about", "contact"}


def test_running_twice_changes_nothing():
    first_output = run_load_demo()
    before = counts()

    second_output = run_load_demo()

    assert "Riverside Peer Support" in first_output
    assert "already loaded" in second_output
    assert counts() == before


def is_closed(session):
    """Whether a session falls on one of the demo's holiday closures."""
    date = session.local_date
    return (date.month, date.day) in DEMO.closed_days


@pytest.mark.parametrize(
    ("month", "day"), [(11, 10), (11, 30), (12, 14), (12, 27), (1, 12)], ids=str
)
def test_schedule_fits_eight_weeks_and_skips_winter_holidays(time_machine, month, day):
    """Whatever day it runs, sessions start tomorrow or later, end within
    eight weeks, and avoid the holidays; WRAP cancels its holiday week; the
    past term is in the eight weeks before."""
    today = dt.date(timezone.localdate().year + 1, month, day)
    time_machine.move_to(
        dt.datetime.combine(today, dt.time(12), tzinfo=timezone.get_current_timezone())
    )
    run_load_demo()

    sessions = program_sessions()
    assert min(s.local_date for s in sessions) > today
    assert max(s.local_date for s in sessions) <= today + dt.timedelta(weeks=8)
    going_ahead = sessions.exclude(status=SessionStatus.CANCELLED)
    assert [s for s in going_ahead if is_closed(s)] == []
    wrap = wrap_group().sessions.all()
    assert wrap.count() == 8
    cancelled = wrap.get(status=SessionStatus.CANCELLED)
    if any(is_closed(s) for s in wrap):
        assert is_closed(cancelled)
    assert EventPage.objects.live().count() >= 12
    past = EventSession.objects.filter(event__slug__in=PAST_SLUGS)
    assert past.count() == sum(s["sessions"] for s in DEMO.past_events)
    assert max(s.local_date for s in past) < today
    assert min(s.local_date for s in past) >= today - dt.timedelta(weeks=8)
    assert [s for s in past if is_closed(s)] == []


def test_demo_pages_render(client):
    run_load_demo()
    client.defaults["HTTP_HOST"] = "localhost"
    soonest = EventSession.objects.upcoming().published().for_listing().first()
    wrap = wrap_group()

    home = client.get("/")
    listing = client.get("/events/")
    event = client.get(wrap.url)

    assert home.status_code == 200
    assert escape(soonest.event.title) in home.content.decode()
    assert listing.status_code == 200
    assert escape(soonest.event.title) in listing.content.decode()
    assert event.status_code == 200
    assert escape(wrap.title) in event.content.decode()
    assert "Holiday closure" in event.content.decode()


def test_workshop_pages_render(client):
    run_load_demo()
    client.defaults["HTTP_HOST"] = "localhost"

    for workshop in WorkshopPage.objects.live():
        response = client.get(workshop.url)
        assert response.status_code == 200
        assert escape(workshop.title) in response.content.decode()
