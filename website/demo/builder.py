"""Build the demo site from its content (``website.demo.content``).

The demo is "Riverside Peer Support": site settings, the standard pages,
four venues, six workshops with full timed outlines, three facilitator
accounts in the Facilitators group (the roles of ``website.roles``), about
fifteen groups and events over the next eight weeks (an online drop-in
that keeps going, made ``GATHER_ROLLING_WEEKS_AHEAD`` weeks ahead, and a
monthly social over three months), and
(``website.demo.history``) made-up people signed up for them and a past
term with attendance to report on. Every session is created through the
workflow functions in ``events/sessions.py``, so calendar identities are
right.

``build_demo`` writes everything; the caller runs it inside one transaction
(``manage.py load_demo`` does), so a failure part-way leaves nothing.
"""

import dataclasses
import datetime as dt
import secrets
from dataclasses import dataclass

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.dates import site_zone
from core.models import SiteSettings
from events.groups import FACILITATORS_GROUP
from events.models import (
    EventIndexPage,
    EventKind,
    EventPage,
    Frequency,
    QuestionKind,
    Registration,
    RegistrationMode,
    RegistrationQuestion,
    Setting,
    SignUpPer,
    Venue,
)
from events.open_series import first_reach, start_open_series
from events.questions import record_answers
from events.sessions import (
    RepeatPattern,
    add_session,
    cancel_session,
    generate_series,
    generate_weekly_series,
    reschedule_session,
)
from website.demo.content import ContentError, choice, load_content
from website.models import StandardPage
from website.roles import sync_role_groups
from workshops.blocks import SegmentKind
from workshops.models import (
    WorkshopIndexPage,
    WorkshopPage,
    WorkshopSessionPlan,
    session_plan_errors,
)

#: Weekday names as the data files write them, to Python's numbers (Monday 0).
WEEKDAYS = {
    name: number
    for number, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}

#: Sign-up windows open at this time of day.
REGISTRATION_OPENS_AT = dt.time(9, 0)


@dataclass
class Demo:
    """What ``build_demo`` made, for the command's summary."""

    organisation_name: str
    venues: dict
    workshops: dict
    events: list
    facilitators: dict
    registrations: list
    past_events: list


# Dates -----------------------------------------------------------------------


def demo_today():
    """Today's date in the site's time zone; the demo schedules from tomorrow."""
    return timezone.localdate()


def first_weekday_from(day, weekday):
    """The first date on or after ``day`` that falls on ``weekday`` (Monday 0)."""
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def is_closed(day, closed_days):
    """Whether the program takes a holiday break on ``day``; ``closed_days``
    holds (month, day) pairs."""
    return (day.month, day.day) in closed_days


def open_day_near(day, *, after, closed_days):
    """``day``, or the nearest same weekday after ``after`` that is not closed.

    Tries a week earlier, a week later, then two weeks either way, so a
    one-off event stays within a week or two of where it was planned.
    """
    if not is_closed(day, closed_days):
        return day
    for weeks in (-1, 1, -2, 2):
        candidate = day + dt.timedelta(weeks=weeks)
        if candidate > after and not is_closed(candidate, closed_days):
            return candidate
    return day


def local_datetime(day, time):
    """An aware datetime at ``time`` on ``day`` in the site's time zone."""
    return dt.datetime.combine(day, time, tzinfo=site_zone())


def weekday(name, where):
    """The number (Monday 0) of a weekday the data names, e.g. "tuesday"."""
    return choice(WEEKDAYS, name, where)


# Pages and settings ----------------------------------------------------------


def publish_child(parent, page):
    """Add ``page`` below ``parent`` and publish its first revision."""
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def demo_loaded(home, content):
    """Whether the demo's events listing already exists below ``home``."""
    slug = content.events_index["slug"]
    return EventIndexPage.objects.child_of(home).filter(slug=slug).exists()


def build_home_page(home, content):
    """Give the existing home page the demo's welcome and publish it."""
    home.title = content.home["title"]
    home.intro = content.home["intro"]
    home.body = content.home["body"]
    home.save_revision().publish()


def build_standard_pages(home, content):
    """Create and publish the standard pages (About us, Privacy notice,
    Contact), by slug."""
    return {
        spec["slug"]: publish_child(home, StandardPage(**spec))
        for spec in content.pages
    }


def build_site_settings(site, content, pages):
    """Fill in the organisation's details for the default site and name the
    site after it."""
    site_settings = SiteSettings.for_site(site)
    for field, value in content.settings.items():
        if field == "privacy_notice_page":
            # The data names the page by slug; the setting holds the page.
            value = pages[value]
        setattr(site_settings, field, value)
    site_settings.save()
    site.site_name = content.settings["organisation_name"]
    site.save(update_fields=["site_name"])


def build_venues(content):
    """Create the demo venues, validated as the admin would validate them."""
    venues = {}
    for key, fields in content.venues.items():
        setting = choice(Setting, fields["setting"], f"venues.toml: {key}.setting")
        venue = Venue(**(fields | {"setting": setting}))
        venue.full_clean()
        venue.save()
        venues[key] = venue
    return venues


# People ----------------------------------------------------------------------


def build_groups():
    """The role groups, as a real install has them (``website.roles``); the
    Facilitators group, for the demo's facilitators."""
    sync_role_groups(django_apps)
    return Group.objects.get(name=FACILITATORS_GROUP)


def build_facilitators(group, content):
    """Create the facilitator accounts with random passwords, in ``group``."""
    users = get_user_model()
    people = {}
    for key, fields in content.facilitators.items():
        user, created = users.objects.get_or_create(
            username=fields["username"],
            defaults={
                "first_name": fields["first_name"],
                "last_name": fields["last_name"],
                "email": fields["email"],
            },
        )
        if created:
            user.set_password(secrets.token_urlsafe(24))
            user.save(update_fields=["password"])
        user.groups.add(group)
        people[key] = user
    return people


# Workshops and events --------------------------------------------------------


def build_workshops(index, content):
    """Create and publish the workshop library's programs."""
    kinds = [value for value, _label in SegmentKind.CHOICES]
    workshops = {}
    for key, fields in content.workshops.items():
        fields = dict(fields)
        plans = fields.pop("session_plans")
        outlines = [(f"{key}.outline", fields["outline"])] + [
            (f"{key}.session_plans[{n}].outline", plan["outline"])
            for n, plan in enumerate(plans)
        ]
        for where, outline in outlines:
            for number, (_type, segment) in enumerate(outline):
                if segment["kind"] not in kinds:
                    raise ContentError(
                        f"workshops.toml: {where}[{number}].kind: unknown value "
                        f"{segment['kind']!r} (expected one of {', '.join(kinds)})"
                    )
        problems = session_plan_errors(
            [(plan["number"], plan["outline"]) for plan in plans],
            fields["duration_minutes"],
        )
        for number, errors in enumerate(problems):
            if errors:
                field, message = next(iter(errors.items()))
                raise ContentError(
                    f"workshops.toml: {key}.session_plans[{number}].{field}: {message}"
                )
        workshop = WorkshopPage(
            **fields,
            session_plans=[
                WorkshopSessionPlan(
                    number=plan["number"],
                    title=plan["title"],
                    outline=plan["outline"],
                    handout=plan["handout"],
                    materials="\n".join(plan["materials"]),
                )
                for plan in plans
            ],
        )
        workshops[key] = publish_child(index, workshop)
    return workshops


@dataclass(frozen=True)
class SessionPlan:
    """The dates an upcoming event's spec puts its sessions on.

    Worked out from the spec and the day the demo is built, before anything
    is written, so the schedule's rules (from tomorrow, within eight weeks
    but for the series that keeps going and the monthly one,
    around the holiday closures) can be checked for any day without
    building the demo.
    """

    #: The weekly series' first date, or None for an event without one.
    weekly_first: dt.date | None
    #: How many weeks the weekly series covers (0 without one).
    weeks: int
    #: Weeks of the series left out because the program is closed then.
    skip: tuple
    #: The one-off sessions: (date, their spec) in the spec's order.
    once: tuple
    #: The session the spec cancels (a closure if one falls in the series).
    cancelled: dt.date | None
    #: Whether the weekly series keeps going (its ``weeks`` are those made
    #: now, and ``skip`` holds its closed days for a year).
    keeps_going: bool = False
    #: The monthly series' pattern and dates (closed ones included), if any.
    monthly: RepeatPattern | None = None
    monthly_dates: tuple = ()

    @property
    def days(self):
        """Every session's date, in order."""
        weekly = [
            self.weekly_first + dt.timedelta(weeks=week) for week in range(self.weeks)
        ]
        return sorted(
            [d for d in weekly + list(self.monthly_dates) if d not in self.skip]
            + [d for d, _ in self.once]
        )


def closed_weeks(first, weeks, closed_days):
    """The dates of a weekly series from ``first`` over ``weeks`` weeks that
    fall on a closed day."""
    return tuple(
        day
        for week in range(weeks)
        if is_closed(day := first + dt.timedelta(weeks=week), closed_days)
    )


def plan_sessions(spec, *, today, closed_days):
    """The ``SessionPlan`` of an upcoming event's spec, scheduled from the day
    after ``today``."""
    where = f"events.toml: event {spec['slug']!r}"
    tomorrow = today + dt.timedelta(days=1)
    weekly_first, weeks, skip = None, 0, ()
    keeps_going, monthly, monthly_dates = False, None, ()
    if weekly := spec.get("weekly"):
        weekly_first = first_weekday_from(
            tomorrow, weekday(weekly["weekday"], f"{where} weekly.weekday")
        )
        keeps_going = weekly["keeps_going"]
        if ("weeks" in weekly) == keeps_going:
            raise ContentError(f"{where} weekly: give weeks or keeps_going, not both")
        if keeps_going:
            # The weeks made now; the rule skips its closed days for a year.
            weeks = (first_reach(weekly_first, today) - weekly_first).days // 7 + 1
            skip = closed_weeks(weekly_first, 52, closed_days)
        else:
            weeks = weekly["weeks"]
        if "cancel" not in spec and not keeps_going:
            # A series that cancels a session keeps its closure week, and
            # cancels it (below) to show a cancelled session; any other skips.
            skip = closed_weeks(weekly_first, weeks, closed_days)
    once = []
    for each in spec.get("once", []):
        day = first_weekday_from(
            tomorrow, weekday(each["weekday"], f"{where} once.weekday")
        ) + dt.timedelta(weeks=each["week"])
        once.append((open_day_near(day, after=today, closed_days=closed_days), each))
    if each := spec.get("monthly"):
        monthly = RepeatPattern(
            frequency=Frequency.MONTHLY_BY_WEEKDAY,
            weekday_position=each["position"],
            weekday=weekday(each["weekday"], f"{where} monthly.weekday"),
            count=each["count"],
        )
        monthly_dates = tuple(monthly.dates(tomorrow))
        skip += tuple(day for day in monthly_dates if is_closed(day, closed_days))
    plan = SessionPlan(
        weekly_first,
        weeks,
        skip,
        tuple(once),
        cancelled=None,
        keeps_going=keeps_going,
        monthly=monthly,
        monthly_dates=monthly_dates,
    )
    if cancel := spec.get("cancel"):
        days = plan.days
        closed = [d for d in days if is_closed(d, closed_days)]
        cancelled = closed[0] if closed else days[cancel["session"]]
        plan = dataclasses.replace(plan, cancelled=cancelled)
    return plan


def schedule_sessions(event, spec, *, today, venues, closed_days):
    """Create an event's sessions as ``plan_sessions`` plans them, then cancel
    or move any the spec says to."""
    plan = plan_sessions(spec, today=today, closed_days=closed_days)
    weekly = spec.get("weekly")
    if plan.keeps_going:
        start_open_series(
            event=event,
            pattern=RepeatPattern(frequency=Frequency.WEEKLY),
            first_date=plan.weekly_first,
            start_time=weekly["start"],
            end_time=weekly["end"],
            skip_dates=list(plan.skip),
            today=today,
        )
    elif weekly:
        generate_weekly_series(
            event=event,
            first_date=plan.weekly_first,
            start_time=weekly["start"],
            end_time=weekly["end"],
            weeks=plan.weeks,
            skip_dates=list(plan.skip),
        )
    if monthly := spec.get("monthly"):
        generate_series(
            event=event,
            pattern=plan.monthly,
            first_date=today + dt.timedelta(days=1),
            start_time=monthly["start"],
            end_time=monthly["end"],
            skip_dates=[day for day in plan.skip if day in plan.monthly_dates],
        )
    for day, once in plan.once:
        add_session(
            event=event,
            start=local_datetime(day, once["start"]),
            end=local_datetime(day, once["end"]),
            public_note=once.get("note", ""),
        )
    sessions = list(event.sessions.order_by("start"))
    if cancel := spec.get("cancel"):
        (session,) = [s for s in sessions if s.local_date == plan.cancelled]
        cancel_session(session=session, public_note=cancel["note"], notify=False)
    if move := spec.get("move"):
        session = sessions[min(move["session"], len(sessions) - 1)]
        reschedule_session(
            session=session,
            start=session.start,
            end=session.end,
            venue=venues[move["venue"]],
            public_note=move["note"],
            notify=False,
        )


def registration_window(spec, *, today):
    """The sign-up opening and closing times an event spec asks for, if any."""
    opens = closes = None
    if days := spec.get("registration_opens_in_days"):
        opens = local_datetime(today + dt.timedelta(days=days), REGISTRATION_OPENS_AT)
    if (after := spec.get("close_after_session")) and (weekly := spec.get("weekly")):
        where = f"events.toml: event {spec['slug']!r} weekly.weekday"
        first = first_weekday_from(
            today + dt.timedelta(days=1), weekday(weekly["weekday"], where)
        )
        day = first + dt.timedelta(weeks=after - 1)
        closes = local_datetime(day, weekly["start"])
    return opens, closes


def event_page(spec, *, file, venues, facilitators, **fields):
    """An unsaved EventPage from an event spec (upcoming or past), with its
    topics and facilitators; ``fields`` adds or overrides model fields."""
    where = f"{file}: event {spec['slug']!r}"
    mode = choice(RegistrationMode, spec["registration_mode"], f"{where} mode")
    event = EventPage(
        title=spec["title"],
        slug=spec["slug"],
        kind=choice(EventKind, spec["kind"], f"{where} kind"),
        summary=spec["summary"],
        what_to_expect=spec["what_to_expect"],
        venue=venues[spec["venue"]],
        capacity=spec.get("capacity"),
        registration_mode=mode,
        waitlist_enabled=mode != RegistrationMode.NONE,
        sign_up_per=choice(SignUpPer, spec["sign_up_per"], f"{where} sign_up_per"),
        **fields,
    )
    event.topics.add(*spec["topics"])
    event.facilitators.set([facilitators[key] for key in spec["facilitators"]])
    return event


def build_events(index, content, *, today, venues, workshops, facilitators):
    """Create, publish and schedule every upcoming demo event."""
    events = []
    for spec in content.events:
        opens, closes = registration_window(spec, today=today)
        event = event_page(
            spec,
            file="events.toml",
            venues=venues,
            facilitators=facilitators,
            workshop=workshops.get(spec.get("workshop")),
            registration_opens_at=opens,
            registration_closes_at=closes,
        )
        add_questions(event, spec)
        publish_child(index, event)
        schedule_sessions(
            event,
            spec,
            today=today,
            venues=venues,
            closed_days=content.closed_days,
        )
        events.append(event)
    return events


def add_questions(event, spec):
    """The event's own sign-up questions (``questions`` in events.toml), on
    the unsaved page, so they are in the revision that is published."""
    for number, question in enumerate(spec["questions"]):
        where = f"events.toml: event {spec['slug']!r} questions[{number}]"
        row = RegistrationQuestion(
            label=question["label"],
            kind=choice(QuestionKind, question["kind"], f"{where}.kind"),
            choices="\n".join(question["choices"]),
            required=question["required"],
            demographic=question["demographic"],
            help_text=question["help_text"],
            sort_order=number,
        )
        try:
            row.full_clean(exclude=["event"])
        except ValidationError as error:
            raise ContentError(f"{where}: {error.messages[0]}") from None
        event.questions.add(row)


def record_demo_answers(events, content):
    """The answers of the people signed up for each event with questions,
    in sign-up order (events.toml's ``answers``)."""
    specs = {spec["slug"]: spec for spec in content.events}
    for event in events:
        questions = list(event.questions.order_by("sort_order"))
        if not questions:
            continue
        people = list(Registration.objects.filter(event=event).order_by("pk"))
        spec = specs[event.slug]["questions"]
        for number, (question, wanted) in enumerate(zip(questions, spec, strict=True)):
            where = f"events.toml: event {event.slug!r} questions[{number}].answers"
            if len(wanted["answers"]) > len(people):
                raise ContentError(
                    f"{where}: {len(wanted['answers'])} answers for "
                    f"{len(people)} people signed up"
                )
            for answer in wanted["answers"]:
                if answer and question.options and answer not in question.options:
                    raise ContentError(f"{where}: {answer!r} is not one of the choices")
            for person, answer in zip(people, wanted["answers"], strict=False):
                record_answers(person, {question.pk: answer})


# The whole demo --------------------------------------------------------------


def build_demo(site, home, *, today, content=None):
    """Build the whole demo below ``home`` (the default ``site``'s root),
    scheduled from the day after ``today``; returns what it made.

    Run it inside a transaction: it writes a great deal, and a failure
    part-way should leave nothing behind.
    """
    # The history builds on the helpers here, so it imports this module.
    from website.demo.history import build_history

    content = content or load_content()
    build_home_page(home, content)
    event_index = publish_child(home, EventIndexPage(**content.events_index))
    workshop_index = publish_child(home, WorkshopIndexPage(**content.workshops_index))
    pages = build_standard_pages(home, content)
    build_site_settings(site, content, pages)
    venues = build_venues(content)
    facilitators = build_facilitators(build_groups(), content)
    workshops = build_workshops(workshop_index, content)
    events = build_events(
        event_index,
        content,
        today=today,
        venues=venues,
        workshops=workshops,
        facilitators=facilitators,
    )
    registrations, past_events = build_history(
        event_index,
        content,
        today=today,
        venues=venues,
        facilitators=facilitators,
    )
    record_demo_answers(events, content)
    return Demo(
        organisation_name=content.settings["organisation_name"],
        venues=venues,
        workshops=workshops,
        events=events,
        facilitators=facilitators,
        registrations=registrations,
        past_events=past_events,
    )
