"""``manage.py load_demo``: the demo program it builds, and that it is repeatable.

The tests that build their own demo (on other days, or one that fails) come
first; the rest share one build per module (``demo``, tests/website/conftest.py).
"""

import dataclasses
import datetime as dt
import shutil
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone
from django.utils.html import escape
from wagtail.models import GroupPagePermission, Page, Revision, Site

from attendance.models import AttendanceRecord, Headcount, SessionNote
from core.models import SiteSettings
from events.models import (
    EventKind,
    EventPage,
    EventSession,
    Registration,
    RegistrationMode,
    SessionStatus,
    Venue,
)
from website.demo.builder import plan_sessions
from website.demo.content import CONTENT_DIR, ContentError, load_content
from website.demo.history import past_days
from website.management.commands import load_demo
from website.models import HomePage, StandardPage
from workshops.models import WorkshopPage

pytestmark = pytest.mark.django_db

FACILITATOR_USERNAMES = {"amara.okafor", "daniel.tremblay", "priya.nair"}
CONTENT = load_content()
PAST_SLUGS = [spec["slug"] for spec in CONTENT.past_events]


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


def program_sessions():
    """Sessions of the upcoming program (not the past term's)."""
    return EventSession.objects.exclude(event__slug__in=PAST_SLUGS)


def is_closed(day):
    """Whether a date falls on one of the demo's holiday closures."""
    return (day.month, day.day) in CONTENT.closed_days


# The schedule, planned for any day ----------------------------------------


@pytest.mark.parametrize(
    ("month", "day"), [(11, 10), (11, 30), (12, 14), (12, 27), (1, 12)], ids=str
)
def test_schedule_fits_eight_weeks_and_skips_winter_holidays(month, day):
    """Whatever day it runs, sessions start tomorrow or later, end within
    eight weeks, and avoid the holidays; WRAP cancels its holiday week; the
    past term is in the eight weeks before."""
    today = dt.date(timezone.localdate().year + 1, month, day)
    plans = {
        spec["slug"]: plan_sessions(spec, today=today, closed_days=CONTENT.closed_days)
        for spec in CONTENT.events
    }
    days = [day for plan in plans.values() for day in plan.days]
    assert min(days) > today
    fixed = [
        day
        for plan in plans.values()
        if not plan.keeps_going and not plan.monthly
        for day in plan.days
    ]
    assert max(fixed) <= today + dt.timedelta(weeks=8)
    # The drop-in keeps going: 13 Wednesdays made (the rolling 12 weeks
    # from the first), less the closed ones; the social meets on three first
    # Thursdays, less the closed ones.
    drop_in = plans["online-peer-support-drop-in"]
    assert drop_in.keeps_going and drop_in.weeks == 13
    assert {day.weekday() for day in drop_in.days} == {2}
    assert max(drop_in.days) <= today + dt.timedelta(weeks=13)
    social = plans["first-thursday-social"]
    assert len(social.monthly_dates) == 3
    assert all(d.weekday() == 3 and d.day <= 7 for d in social.monthly_dates)
    assert max(social.days) <= today + dt.timedelta(weeks=14)
    going_ahead = [
        day for plan in plans.values() for day in plan.days if day != plan.cancelled
    ]
    assert [day for day in going_ahead if is_closed(day)] == []
    wrap = plans["wrap-group"]
    assert len(wrap.days) == 8
    assert wrap.cancelled in wrap.days
    if any(is_closed(day) for day in wrap.days):
        assert is_closed(wrap.cancelled)
    past = [
        day
        for spec in CONTENT.past_events
        for day in past_days(spec, today=today, closed_days=CONTENT.closed_days)
    ]
    assert len(past) == sum(spec["sessions"] for spec in CONTENT.past_events)
    assert max(past) < today
    assert min(past) >= today - dt.timedelta(weeks=8)
    assert [day for day in past if is_closed(day)] == []


# Each of these builds its own demo. ------------------------------------------


def test_the_demo_is_built_as_planned_over_the_holidays(
    site_without_demo, time_machine
):
    """Built on a day whose eight weeks hold the winter closures, every event
    gets exactly the sessions its plan gives, the planned one cancelled."""
    today = dt.date(timezone.localdate().year + 1, 12, 14)
    time_machine.move_to(
        dt.datetime.combine(today, dt.time(12), tzinfo=timezone.get_current_timezone())
    )
    run_load_demo()

    for spec in CONTENT.events:
        plan = plan_sessions(spec, today=today, closed_days=CONTENT.closed_days)
        sessions = EventSession.objects.filter(event__slug=spec["slug"])
        assert sorted(s.local_date for s in sessions) == plan.days, spec["slug"]
        cancelled = [
            s.local_date for s in sessions if s.status == SessionStatus.CANCELLED
        ]
        assert cancelled == ([plan.cancelled] if plan.cancelled else []), spec["slug"]
    assert EventPage.objects.live().count() >= 12
    for spec in CONTENT.past_events:
        sessions = EventSession.objects.filter(event__slug=spec["slug"])
        assert sorted(s.local_date for s in sessions) == past_days(
            spec, today=today, closed_days=CONTENT.closed_days
        )


def test_a_failure_part_way_leaves_the_site_as_it_was(site_without_demo, monkeypatch):
    """A bad letter in the second past event's attendance fails at the very
    end, after everything else (and the first event's attendance) was built."""
    before = counts()
    home_title = site_without_demo.title
    checkin = CONTENT.past_events[1]
    broken = dataclasses.replace(
        CONTENT,
        past_events=[
            CONTENT.past_events[0],
            checkin | {"attendance": ["PPZ", *checkin["attendance"][1:]]},
            *CONTENT.past_events[2:],
        ],
    )
    monkeypatch.setattr(load_demo, "load_content", lambda: broken)

    with pytest.raises(
        CommandError,
        match=r"history\.toml: event 'online-peer-check-in' attendance: "
        r"unknown value 'Z' \(expected one of P, L, E, A, X\)",
    ):
        run_load_demo()

    assert counts() == before
    assert HomePage.objects.get().title == home_title
    assert not EventPage.objects.exists()


# These share one demo built for the module. ----------------------------------


def test_running_twice_changes_nothing(demo):
    before = counts()

    second_output = run_load_demo()

    assert "Riverside Peer Support" in demo.output
    assert "already loaded" in second_output
    assert counts() == before


def test_output_sums_up_what_was_built(demo):
    program = EventPage.objects.exclude(slug__in=PAST_SLUGS)
    sessions = EventSession.objects.filter(event__in=program)
    registrations = Registration.objects.count()

    assert demo.output == (
        f"Loaded the Riverside Peer Support demo: {Venue.objects.count()} venues, "
        f"{WorkshopPage.objects.count()} workshops, {program.count()} events with "
        f"{sessions.count()} sessions "
        f"({sessions.filter(status=SessionStatus.CANCELLED).count()} cancelled), "
        f"and {len(FACILITATOR_USERNAMES)} facilitator accounts; {registrations} "
        f"registrations, and a past term of {len(PAST_SLUGS)} events with "
        "attendance for the reports.\n"
        "Facilitator accounts have random passwords; set one with "
        "manage.py changepassword <username>.\n"
    )


def test_builds_venues_for_every_setting(demo):
    venues = Venue.objects.all()
    assert venues.count() >= 3
    assert {venue.setting for venue in venues} >= {"hospital", "community", "online"}
    for venue in venues:
        venue.full_clean()


def test_builds_six_workshops_whose_outlines_add_up(demo):
    workshops = WorkshopPage.objects.live()
    assert workshops.count() == 6
    for workshop in workshops:
        assert workshop.segments
        assert workshop.outline_minutes == workshop.duration_minutes


def test_builds_at_least_twelve_live_events_of_every_kind(demo):
    events = EventPage.objects.live()
    assert events.count() >= 12
    assert {event.kind for event in events} == set(EventKind.values)
    assert {event.registration_mode for event in events} == set(RegistrationMode.values)
    for event in events:
        assert event.sessions.exists()
        assert event.facilitators.exists()
        assert event.topics.exists()


def test_every_session_of_the_program_is_from_tomorrow_on(demo):
    """Within eight weeks, but for the drop-in that keeps going (made the
    rolling 12 weeks ahead) and the monthly social (three months)."""
    today = demo.today
    longer = {"online-peer-support-drop-in": 13, "first-thursday-social": 14}
    assert program_sessions().exists()
    for session in program_sessions().select_related("event"):
        weeks = longer.get(session.event.slug, 8)
        assert session.local_date > today
        assert session.local_date <= today + dt.timedelta(weeks=weeks)


def test_the_drop_in_keeps_going_and_the_social_is_monthly(demo):
    from events.models import SeriesRule

    rule = SeriesRule.objects.get(event__slug="online-peer-support-drop-in")
    assert rule.open_ended and rule.frequency == "weekly" and rule.weekday == 2
    assert not SeriesRule.objects.exclude(pk=rule.pk).exists()
    social = EventPage.objects.get(slug="first-thursday-social")
    days = [s.local_date for s in social.sessions.order_by("start")]
    assert days and all(d.weekday() == 3 and d.day <= 7 for d in days)


def test_wrap_group_has_eight_sessions_with_one_cancelled(demo):
    sessions = wrap_group().sessions.all()
    assert sessions.count() == 8
    cancelled = sessions.filter(status=SessionStatus.CANCELLED)
    assert cancelled.count() == 1
    assert "Holiday closure" in cancelled.get().public_note
    assert cancelled.get().sequence == 1


def test_the_wrap_course_has_a_plan_for_each_of_its_eight_weeks(demo):
    """An 8-week course whose guide changes each week: weeks 1 to 3 run
    their own outlines, and after the cancelled holiday week the group
    picks up with the plan it skipped."""
    wrap = wrap_group()
    plans = wrap.workshop.plans()
    assert [plan.number for plan in plans] == list(range(1, 9))
    assert len({plan.title for plan in plans}) == 8
    outlines = [
        [segment["title"] for segment in wrap.workshop.session_content(n).segments]
        for n in (1, 2, 3)
    ]
    assert len({tuple(outline) for outline in outlines}) == 3
    handouts = {wrap.workshop.session_content(n).handout for n in range(1, 9)}
    assert len(handouts) == 8
    numbers = [session.week_number() for session in wrap.sessions.order_by("start")]
    cancelled = [s.is_cancelled for s in wrap.sessions.order_by("start")].index(True)
    assert numbers[cancelled] == numbers[cancelled + 1] == cancelled + 1
    going_ahead = [
        n
        for n, s in zip(numbers, wrap.sessions.order_by("start"), strict=True)
        if not s.is_cancelled
    ]
    assert going_ahead == list(range(1, 8))


def test_facilitators_are_in_the_facilitators_group(demo):
    facilitators = Group.objects.get(name="Facilitators").user_set.all()
    assert {user.username for user in facilitators} == FACILITATOR_USERNAMES
    for user in facilitators:
        assert not user.is_superuser
        assert user.has_usable_password()


def test_coordinators_can_use_the_admin_and_edit_every_page(demo):
    coordinators = Group.objects.get(name="Coordinators")
    codenames = set(coordinators.permissions.values_list("codename", flat=True))
    assert "access_admin" in codenames
    assert {"add_eventsession", "change_venue", "delete_venue"} <= codenames
    # The waitlist, capacity and registration imports need these.
    assert {"add_registration", "change_registration", "view_registration"} <= (
        codenames
    )
    assert "delete_registration" not in codenames
    root = Page.objects.get(depth=1)
    page_codenames = set(
        GroupPagePermission.objects.filter(group=coordinators, page=root).values_list(
            "permission__codename", flat=True
        )
    )
    assert page_codenames == {"add_page", "change_page", "publish_page"}


def test_site_settings_and_pages(demo):
    site_settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    assert site_settings.organisation_name == "Riverside Peer Support"
    assert "988" in site_settings.crisis_line_text
    privacy = StandardPage.objects.get(slug="privacy")
    assert site_settings.privacy_notice_page_id == privacy.pk
    home = HomePage.objects.get()
    assert home.title == "Welcome to Riverside Peer Support"
    menu = {page.slug for page in home.get_children().live().in_menu()}
    assert menu == {"events", "workshops", "about", "contact"}


def test_demo_pages_render(demo, client):
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


def test_workshop_pages_render(demo, client):
    client.defaults["HTTP_HOST"] = "localhost"

    for workshop in WorkshopPage.objects.live():
        response = client.get(workshop.url)
        assert response.status_code == 200
        assert escape(workshop.title) in response.content.decode()


# The data files: a mistake names the file and the key. ------------------------


@pytest.fixture
def content_copy(tmp_path):
    """A copy of the demo's data files to break."""
    shutil.copytree(CONTENT_DIR, tmp_path, dirs_exist_ok=True)
    return tmp_path


def edit(directory, name, old, new):
    """Replace the one ``old`` in data file ``name`` with ``new``."""
    path = directory / name
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "venues.toml",
            "default_capacity = 10",
            "default_capacity = ten",
            r"venues\.toml: not valid TOML",
        ),
        (
            "events.toml",
            "capacity = 16",
            "capcity = 16",
            r"events\.toml: events\[2\]: unknown key 'capcity'",
        ),
        (
            "workshops.toml",
            'audience = "Anyone who wants a plan for their own wellbeing"\n',
            "",
            r"workshops\.toml: wrap\.audience: missing",
        ),
        (
            "history.toml",
            "weeks_ago = 8",
            'weeks_ago = "8"',
            r"history\.toml: past_events\[0\]\.weeks_ago: expected a whole number",
        ),
        (
            "events.toml",
            'venue = "hospital"',
            'venue = "hopsital"',
            r"events\.toml: events\[1\]\.venue: unknown 'hopsital'",
        ),
        (
            "history.toml",
            'walk_ins = [[], ["Robin"], []]',
            'walk_ins = [[], ["Robin"]]',
            r"history\.toml: past_events\[1\]\.walk_ins: expected one entry per "
            r"session held \(3\), got 2",
        ),
    ],
    ids=["toml", "unknown key", "missing key", "type", "reference", "per session"],
)
def test_a_malformed_data_file_is_named_with_its_key(
    content_copy, name, old, new, message
):
    edit(content_copy, name, old, new)

    with pytest.raises(ContentError, match=message):
        load_content(content_copy)


def test_the_data_files_are_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    assert load_content().settings["organisation_name"] == "Riverside Peer Support"
