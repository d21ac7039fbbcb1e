"""Workflows that create and change sessions.

Every change to a session goes through these functions so that its calendar
identity stays right: the UID never changes and the sequence number rises
with each change, and everyone with a confirmed place hears when an upcoming
session is cancelled or moved. Views, admin screens, imports and tasks call
them.

Each change is written to Wagtail's audit log by the function itself,
inside its transaction (``core.audit``), so it is logged once whichever
screen, import or command made it. The functions take ``user`` (None for
the system) and ``by``, one of ``core.audit.BY`` (staff, participant,
import, system), kept in the entry's ``data["by"]``; an import that cannot
pass them sets them around its work with ``core.audit.acting``. The
actions, each with the event's id in its data:

* ``events.session.created``: ``add_session``, and each session of
  ``generate_series`` (one INSERT for the whole series).
* ``events.session.changed``: ``reschedule_session`` when the time, venue
  or note changed, with what it was and is (``from``, ``to``: times and a
  venue id) and whether it counts as moved.
* ``events.session.cancelled`` and ``events.session.reinstated``.

``change_rest_of_series`` moves or cancels every session still to come from
one at once: each is logged as above, with the ``series_change`` id, and
each person is told once, in one message listing them all.

A session's label (its ``__str__``: the event's title and local start)
names nobody, so it is the entry's title.
"""

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil import rrule
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils.formats import date_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core import audit, public_cache
from core.dates import site_zone

from .errors import EventsError
from .messaging import queue_messages, route
from .models import (
    MAX_SESSION_LENGTH,
    Closure,
    EventPage,
    EventSession,
    Frequency,
    MessageKind,
    Registration,
    SeriesChange,
    SeriesChangeKind,
    SessionStatus,
    Venue,
)
from .registration import _lock_event
from .tasks import enqueue_session_change_messages

#: The most dates a series may have: the generator makes no more in one go.
MAX_SERIES_SESSIONS = 104
#: The longest weekly series, in weeks (the same cap, by its older name).
MAX_SERIES_WEEKS = MAX_SERIES_SESSIONS
#: The most weeks or months between two dates of a series.
MAX_INTERVAL = 12
#: How many periods (weeks or months, times the interval) a rule is read
#: for at most: twice the cap, so that a series on the 31st (seven months
#: in twelve) still reaches its count, while a rule that never meets
#: stops.
HORIZON_PERIODS = 2 * MAX_SERIES_SESSIONS


def _entry(session: EventSession, action: str, *, actor: audit.Actor, **data):
    """An unsaved audit entry for ``session`` (its event must be loaded)."""
    return audit.entry(
        session,
        f"events.session.{action}",
        actor=actor,
        title=str(session),
        data={"event": session.event_id, **data},
    )


def _place(session: EventSession) -> dict:
    """When (in UTC, as stored) and where a session meets, for an audit
    entry's data."""
    return {
        "start": session.start.astimezone(dt.UTC).isoformat(),
        "end": session.end.astimezone(dt.UTC).isoformat(),
        "venue": session.venue_id,
    }


#: Which of its weekdays in a month a monthly series meets on (BYSETPOS).
WEEKDAY_POSITIONS = {
    1: gettext_lazy("First"),
    2: gettext_lazy("Second"),
    3: gettext_lazy("Third"),
    4: gettext_lazy("Fourth"),
    -1: gettext_lazy("Last"),
}

_RRULE_WEEKDAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)


@dataclass(frozen=True)
class RepeatPattern:
    """When a series meets: how often, on which day, and when it ends.

    * ``WEEKLY``: on the first date's weekday, every ``interval`` weeks.
    * ``MONTHLY_BY_WEEKDAY``: on the ``weekday_position`` (1 to 4, or -1 for
      the last) ``weekday`` (0 is Monday; the first date's by default) of
      every ``interval`` months.
    * ``MONTHLY_BY_DATE``: on day ``month_day`` (the first date's by default)
      of every ``interval`` months; a month without that day (the 31st in
      November) has no session.

    The series ends after ``count`` dates or on ``until``, exactly one of
    them. ``count`` counts the pattern's dates, skip dates and closed ones
    included, as a calendar's COUNT does (EXDATE never lengthens a series);
    a month too short for the day is no date, so it does not count.
    """

    frequency: str = Frequency.WEEKLY
    interval: int = 1
    weekday_position: int | None = None
    weekday: int | None = None
    month_day: int | None = None
    count: int | None = None
    until: dt.date | None = None

    def check(self, first_date: dt.date) -> None:
        """Refuse a pattern that cannot be a series, with a code the series
        form puts next to the field at fault."""
        if self.frequency not in Frequency.values:
            raise EventsError(_("Choose how the series repeats."), code="no_frequency")
        if not 1 <= self.interval <= MAX_INTERVAL:
            raise EventsError(
                _("Choose a number between 1 and %(max)s.") % {"max": MAX_INTERVAL},
                code="interval_out_of_range",
            )
        if self.frequency == Frequency.MONTHLY_BY_WEEKDAY:
            if self.weekday_position not in WEEKDAY_POSITIONS:
                raise EventsError(
                    _("Choose which weekday of the month: first to fourth, or last."),
                    code="no_weekday_position",
                )
            if self.weekday is not None and not 0 <= self.weekday <= 6:
                raise EventsError(_("Choose a weekday."), code="no_weekday")
        if self.frequency == Frequency.MONTHLY_BY_DATE and self.month_day is not None:
            if not 1 <= self.month_day <= 31:
                raise EventsError(
                    _("Choose a day of the month between 1 and 31."),
                    code="month_day_out_of_range",
                )
        if self.count is None and self.until is None:
            raise EventsError(
                _("Say when the series ends: a number of dates or an end date."),
                code="no_end",
            )
        if self.count is not None and self.until is not None:
            raise EventsError(
                _("Give a number of dates or an end date, not both."),
                code="two_ends",
            )
        if self.count is not None and not 1 <= self.count <= MAX_SERIES_SESSIONS:
            raise EventsError(
                _("Choose between 1 and %(max)s dates.") % {"max": MAX_SERIES_SESSIONS},
                code="count_out_of_range",
            )
        if self.until is not None and self.until < first_date:
            raise EventsError(
                _("The end date must be on or after the first session date."),
                code="until_before_start",
            )

    def day_of_month(self, first_date: dt.date) -> int:
        """The day a monthly-by-date series meets on."""
        return self.month_day or first_date.day

    def rule(self, first_date: dt.date) -> rrule.rrule:
        """The pattern as a ``dateutil`` rule from ``first_date``, bounded by
        a horizon even when it ends after a count: a rule that seldom or
        never meets (the 31st every twelve months from February) stops
        there instead of running through the calendar to the year 9999."""
        start = dt.datetime.combine(first_date, dt.time())
        if self.frequency == Frequency.WEEKLY:
            horizon = start + relativedelta(weeks=self.interval * HORIZON_PERIODS)
            options = {"freq": rrule.WEEKLY, "byweekday": first_date.weekday()}
        else:
            horizon = start + relativedelta(months=self.interval * HORIZON_PERIODS)
            options = {"freq": rrule.MONTHLY}
            if self.frequency == Frequency.MONTHLY_BY_WEEKDAY:
                weekday = first_date.weekday() if self.weekday is None else self.weekday
                options["byweekday"] = _RRULE_WEEKDAYS[weekday](self.weekday_position)
            else:
                options["bymonthday"] = self.day_of_month(first_date)
        until = horizon
        if self.until is not None:
            until = min(horizon, dt.datetime.combine(self.until, dt.time()))
        # dateutil refuses count and until together: the count is applied
        # while reading the rule (``dates``).
        return rrule.rrule(
            dtstart=start, interval=self.interval, until=until, **options
        )

    def dates(self, first_date: dt.date) -> list[dt.date]:
        """The pattern's dates from ``first_date``, skipped ones included.

        Refuses (``too_many_sessions``) an end date more than
        ``MAX_SERIES_SESSIONS`` dates away; never reads more than one date
        past the cap.
        """
        self.check(first_date)
        limit = self.count if self.count is not None else MAX_SERIES_SESSIONS + 1
        dates = [moment.date() for moment in islice(self.rule(first_date), limit)]
        if len(dates) > MAX_SERIES_SESSIONS:
            raise EventsError(
                _(
                    "This series would have more than %(max)s dates. Choose an "
                    "earlier end date."
                )
                % {"max": MAX_SERIES_SESSIONS},
                code="too_many_sessions",
            )
        return dates

    def continue_from(self, first_date: dt.date, since: dt.date) -> dt.date:
        """A date to read the pattern from (as ``first_date``) for its dates
        on or after ``since``, in step with the series that began on
        ``first_date``: every other week stays on the same weeks, every
        other month on the same months.

        An open-ended series is read a little at a time this way
        (``events.open_series``), never from its first date, so the rule is
        read only up to the horizon however long the series has run.
        """
        if since <= first_date:
            return first_date
        if self.frequency == Frequency.WEEKLY:
            step = 7 * self.interval
            periods = -(-(since - first_date).days // step)  # rounded up
            return first_date + dt.timedelta(days=periods * step)
        months = (since.year - first_date.year) * 12 + since.month - first_date.month
        periods = -(-months // self.interval)
        if periods * self.interval == months:
            return since  # a month the series meets in
        return first_date.replace(day=1) + relativedelta(months=periods * self.interval)

    def short_months(self, first_date: dt.date, last_date: dt.date) -> list[dt.date]:
        """For a monthly-by-date series, the months between ``first_date``
        and ``last_date`` it would meet in but for their being too short
        (the first of each); empty for the other patterns."""
        if self.frequency != Frequency.MONTHLY_BY_DATE:
            return []
        day = self.day_of_month(first_date)
        months, month = [], first_date.replace(day=1)
        while month <= last_date:
            if calendar.monthrange(month.year, month.month)[1] < day:
                months.append(month)
            month += relativedelta(months=self.interval)
        return months


def weekly_starts(
    *,
    first_date: dt.date,
    start_time: dt.time,
    weeks: int,
    skip_dates: Iterable[dt.date] = (),
    zone: ZoneInfo | None = None,
) -> list[dt.datetime]:
    """Start times for a weekly series, at the same local hour every week.

    Dates are counted in the local calendar, so a 6 pm group stays at 6 pm
    when daylight saving starts or ends (its UTC time shifts instead).
    ``weeks`` counts the weeks spanned; skipped dates are left out.
    """
    zone = zone or site_zone()
    skipped = set(skip_dates)
    days = RepeatPattern(count=weeks).dates(first_date)
    return [
        dt.datetime.combine(day, start_time, tzinfo=zone)
        for day in days
        if day not in skipped
    ]


def missing_time(value: dt.datetime) -> EventsError | None:
    """The error for a local time that does not exist, as in the hour
    skipped when the clocks go forward (2:30 a.m. that night comes out as
    3:30 a.m.); None for a real time."""
    there_and_back = value.astimezone(dt.UTC).astimezone(value.tzinfo)
    if there_and_back.replace(tzinfo=None) == value.replace(tzinfo=None):
        return None
    return EventsError(
        _(
            "There is no %(time)s on %(date)s: the clocks go forward that "
            "night. Choose another time."
        )
        % {"time": value.strftime("%H:%M"), "date": value.strftime("%Y-%m-%d")},
        code="time_does_not_exist",
    )


def check_times(start: dt.datetime, end: dt.datetime) -> None:
    """Refuse a start or end that does not exist locally, an end that is
    not after the start, and a session longer than ``MAX_SESSION_LENGTH``
    (which the upcoming-sessions queries rely on). Times are compared as
    instants: Python compares two times in the same zone by their clock
    faces, across a clock change too."""
    for value in (start, end):
        if error := missing_time(value):
            raise error
    length = end.astimezone(dt.UTC) - start.astimezone(dt.UTC)
    if length <= dt.timedelta(0):
        raise EventsError(
            _("A session must end after it starts."), code="end_before_start"
        )
    if length > MAX_SESSION_LENGTH:
        raise EventsError(too_long_message(), code="session_too_long")


def too_long_message() -> str:
    """What a session longer than ``MAX_SESSION_LENGTH`` is told."""
    return _(
        "A session can last up to %(days)s days. For something longer, add "
        "a session for each day."
    ) % {"days": MAX_SESSION_LENGTH.days}


@transaction.atomic
def add_session(
    *,
    event: EventPage,
    start: dt.datetime,
    end: dt.datetime,
    venue: Venue | None = None,
    public_note: str = "",
    uid: str | None = None,
    user=None,
    by: str | None = None,
) -> EventSession:
    """Add one session to an event. ``uid`` is for imports that keep a
    calendar identity of their own; normally a new one is made."""
    actor = audit.actor(user=user, by=by)
    check_times(start, end)
    session = EventSession(
        event=event, start=start, end=end, venue=venue, public_note=public_note
    )
    if uid:
        session.uid = uid
    session.save()
    audit.write([_entry(session, "created", actor=actor)])
    return session


def check_skip_dates(
    *,
    first_date: dt.date,
    pattern: RepeatPattern,
    dates: list[dt.date],
    skip_dates: Iterable[dt.date],
) -> None:
    """Refuse a skip date the series would never meet on: one on another
    weekday, before the first or after the last date, or between two of the
    pattern's dates. Such a date is almost always a typing slip, and
    accepting it would quietly keep the session the coordinator meant to
    skip."""
    meets_on = set(dates)
    last_date = dates[-1] if dates else first_date
    problems = []
    for day in sorted(set(skip_dates) - meets_on):
        values = {
            "date": date_format(day, "DATE_FORMAT"),
            "weekday": date_format(day, "l"),
            "weekdays": _plural_weekday(first_date),
            "first": date_format(first_date, "DATE_FORMAT"),
            "last": date_format(last_date, "DATE_FORMAT"),
        }
        if pattern.frequency == Frequency.WEEKLY and (
            day.weekday() != first_date.weekday()
        ):
            problems.append(
                _("%(date)s is a %(weekday)s; this series meets on %(weekdays)s.")
                % values
            )
        elif not first_date <= day <= last_date:
            problems.append(
                _(
                    "%(date)s is outside this series, which runs from "
                    "%(first)s to %(last)s."
                )
                % values
            )
        else:
            problems.append(_("This series does not meet on %(date)s.") % values)
    if problems:
        raise EventsError(" ".join(problems), code="skip_date_not_in_series")


def _plural_weekday(day: dt.date) -> str:
    """The weekday of ``day`` in the plural, as in "meets on Tuesdays"."""
    return [
        _("Mondays"),
        _("Tuesdays"),
        _("Wednesdays"),
        _("Thursdays"),
        _("Fridays"),
        _("Saturdays"),
        _("Sundays"),
    ][day.weekday()]


@dataclass(frozen=True)
class ClosedDates:
    """The dates of a series left out because the program is closed."""

    closure: Closure
    dates: list[dt.date]


@dataclass(frozen=True)
class Series:
    """A series of sessions: planned (``plan_series``, the sessions unsaved,
    for a preview) or made (``generate_series``, the sessions saved).

    Beside the sessions, the dates the pattern met on but left alone: given
    as skip dates, in a closure, or already holding a session of the event
    (scheduled, moved there or cancelled: each is still listed); and, for a
    series on a day of the month, the months too short to have it.
    """

    sessions: list[EventSession]
    already_scheduled: list[dt.date] = field(default_factory=list)
    skipped: list[dt.date] = field(default_factory=list)
    closed: list[ClosedDates] = field(default_factory=list)
    short_months: list[dt.date] = field(default_factory=list)
    month_day: int | None = None
    #: For a series that keeps going (``events.open_series``): the last
    #: date its sessions are made up to for now.
    made_until: dt.date | None = None

    @property
    def created(self) -> list[EventSession]:
        """The sessions, by the name a generated series' callers know."""
        return self.sessions

    def left_out(self) -> list[str]:
        """Sentences saying which dates were left out, and why."""
        lines = []
        for closed in self.closed:
            lines.append(
                ngettext(
                    "%(dates)s falls in the closure “%(closure)s”, so it was skipped.",
                    "%(dates)s fall in the closure “%(closure)s”, so they were "
                    "skipped.",
                    len(closed.dates),
                )
                % {"dates": _date_list(closed.dates), "closure": closed.closure.name}
            )
        if self.short_months:
            months = get_text_list(
                [
                    date_format(month, "YEAR_MONTH_FORMAT")
                    for month in self.short_months
                ],
                _("and"),
            )
            lines.append(
                ngettext(
                    "%(months)s has no day %(day)s, so it has no session.",
                    "%(months)s have no day %(day)s, so they have no session.",
                    len(self.short_months),
                )
                % {"months": months, "day": self.month_day}
            )
        if self.already_scheduled:
            lines.append(
                ngettext(
                    "%(dates)s already had a session, so it was skipped.",
                    "%(dates)s already had a session, so they were skipped.",
                    len(self.already_scheduled),
                )
                % {"dates": _date_list(self.already_scheduled)}
            )
        return lines

    def summary(self) -> str:
        """How many sessions were added and which dates were left out, in
        sentences for the coordinator."""
        count = len(self.sessions)
        lines = [
            ngettext("%(count)s session added.", "%(count)s sessions added.", count)
            % {"count": count}
        ]
        if self.made_until:
            lines.append(
                _(
                    "The series keeps going: sessions are made up to %(date)s, "
                    "and more are added every day."
                )
                % {"date": date_format(self.made_until, "DATE_FORMAT")}
            )
        return " ".join(lines + self.left_out())


#: The name ``generate_weekly_series``'s callers know its result by.
WeeklySeries = Series


def _date_list(days: Iterable[dt.date]) -> str:
    """Dates as in "16 March and 23 March": day first, like the rest of the
    site."""
    return str(
        get_text_list([date_format(day, "MONTH_DAY_FORMAT") for day in days], _("and"))
    )


def plan_series(
    *,
    event: EventPage,
    pattern: RepeatPattern,
    first_date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    skip_dates: Iterable[dt.date] = (),
    venue: Venue | None = None,
) -> Series:
    """The sessions a series would add, unsaved, and the dates it would
    leave out, or the refusal ``generate_series`` would make; writes nothing.

    Each date is combined with the local start and end times in the site's
    zone, so a 6 pm group stays at 6 pm when the clocks change (its UTC
    time moves instead). Dates in a ``Closure``, skip dates and dates the
    event already has a session starting at are left out. A skip date the
    series never meets on is refused (``check_skip_dates``), and so is a
    series left with no session.
    """
    if end_time <= start_time:
        raise EventsError(
            _("The end time must be after the start time."), code="end_before_start"
        )
    dates = pattern.dates(first_date)
    skip_dates = set(skip_dates)
    check_skip_dates(
        first_date=first_date, pattern=pattern, dates=dates, skip_dates=skip_dates
    )
    short_months = pattern.short_months(
        first_date, pattern.until or (dates[-1] if dates else first_date)
    )
    closed = []
    if dates:
        for closure in Closure.objects.overlapping(dates[0], dates[-1]):
            days = [
                day for day in dates if closure.includes(day) and day not in skip_dates
            ]
            # A date in two closures is reported once, under the first.
            days = [day for day in days if not any(day in c.dates for c in closed)]
            if days:
                closed.append(ClosedDates(closure=closure, dates=days))
    left_out = skip_dates | {day for c in closed for day in c.dates}
    zone = site_zone()
    sessions = []
    for day in dates:
        if day in left_out:
            continue
        start = dt.datetime.combine(day, start_time, tzinfo=zone)
        end = dt.datetime.combine(day, end_time, tzinfo=zone)
        check_times(start, end)
        sessions.append(EventSession(event=event, start=start, end=end, venue=venue))
    if not sessions:
        raise EventsError(
            _(
                "Every date of this series was skipped or falls in a closure, "
                "so there are no sessions to create."
            ),
            code="no_sessions",
        )
    # Compared as instants: the database holds UTC, and ``start`` is local.
    taken = set(
        EventSession.objects.filter(
            event=event, start__in=[s.start for s in sessions]
        ).values_list("start", flat=True)
    )
    already_scheduled = [s.start.date() for s in sessions if s.start in taken]
    sessions = [s for s in sessions if s.start not in taken]
    if not sessions:
        raise EventsError(
            ngettext(
                "%(dates)s already has a session at this time, so there is "
                "nothing to add.",
                "%(dates)s already have sessions at this time, so there is "
                "nothing to add.",
                len(already_scheduled),
            )
            % {"dates": _date_list(already_scheduled)},
            code="already_scheduled",
        )
    return Series(
        sessions=sessions,
        already_scheduled=already_scheduled,
        skipped=sorted(skip_dates),
        closed=closed,
        short_months=short_months,
        month_day=pattern.day_of_month(first_date),
    )


@transaction.atomic
def generate_series(
    *,
    event: EventPage,
    pattern: RepeatPattern,
    first_date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    skip_dates: Iterable[dt.date] = (),
    venue: Venue | None = None,
    user=None,
    by: str | None = None,
) -> Series:
    """Create the sessions of a series as ``plan_series`` plans them.

    The plan is made under the event's row lock, so two coordinators adding
    the same series at once cannot both create it, and adding a series
    twice never lists a date twice. The new sessions come back in date
    order, each logged as created, all in one INSERT.
    """
    actor = audit.actor(user=user, by=by)
    _lock_event(event)
    plan = plan_series(
        event=event,
        pattern=pattern,
        first_date=first_date,
        start_time=start_time,
        end_time=end_time,
        skip_dates=skip_dates,
        venue=venue,
    )
    created = EventSession.objects.bulk_create(plan.sessions)
    public_cache.content_changed()  # bulk_create sends no post_save
    audit.write(_entry(session, "created", actor=actor) for session in created)
    return replace(plan, sessions=created)


def generate_weekly_series(
    *,
    event: EventPage,
    first_date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    weeks: int,
    skip_dates: Iterable[dt.date] = (),
    venue: Venue | None = None,
    user=None,
    by: str | None = None,
) -> Series:
    """A session every week for ``weeks`` weeks (skipped weeks counted),
    through ``generate_series``."""
    if not 1 <= weeks <= MAX_SERIES_WEEKS:
        raise EventsError(
            _("Choose between 1 and %(max)s weeks.") % {"max": MAX_SERIES_WEEKS},
            code="weeks_out_of_range",
        )
    return generate_series(
        event=event,
        pattern=RepeatPattern(frequency=Frequency.WEEKLY, count=weeks),
        first_date=first_date,
        start_time=start_time,
        end_time=end_time,
        skip_dates=skip_dates,
        venue=venue,
        user=user,
        by=by,
    )


def _lock(session: EventSession) -> EventSession:
    """Re-read the session under a row lock, so concurrent edits queue; its
    event (not locked) comes along for the audit entry's title."""
    return (
        EventSession.objects.select_for_update(of=("self",))
        .select_related("event")
        .get(pk=session.pk)
    )


@transaction.atomic
def reschedule_session(
    *,
    session: EventSession,
    start: dt.datetime,
    end: dt.datetime,
    venue: Venue | None = None,
    public_note: str | None = None,
    notify: bool = True,
    user=None,
    by: str | None = None,
) -> EventSession:
    """Move a session to a new time or place; marks it moved if anything changed.

    The UID stays the same and the sequence number goes up, so calendars that
    already hold the session update it in place. A move keeps the times and
    the venue (its own or the event's) from before it in ``previous_start``,
    ``previous_end`` and ``previous_venue``, for the email. Everyone confirmed is
    emailed about an upcoming session, unless ``notify=False`` (for history
    being built, as in the demo). A change is logged as
    ``events.session.changed``; nothing changed, nothing logged.
    """
    actor = audit.actor(user=user, by=by)
    check_times(start, end)
    current = _lock(session)
    if current.status == SessionStatus.CANCELLED:
        raise EventsError(
            _("This session is cancelled. Reinstate it before moving it."),
            code="session_cancelled",
        )
    moved = (current.start, current.end, current.venue_id) != (
        start,
        end,
        venue.pk if venue else None,
    )
    note_changed = public_note is not None and public_note != current.public_note
    if not (moved or note_changed):
        return current
    before = _place(current)
    if moved:
        # What people were last told, for the email about this move.
        current.previous_start, current.previous_end = current.start, current.end
        current.previous_venue = current.effective_venue
    current.start, current.end, current.venue = start, end, venue
    if public_note is not None:
        current.public_note = public_note
    if moved:
        current.status = SessionStatus.MOVED
    current.sequence += 1
    current.save()
    if moved and notify and not current.is_past:
        enqueue_session_change_messages(current)
    audit.write(
        [
            _entry(
                current,
                "changed",
                actor=actor,
                moved=moved,
                note_changed=note_changed,
                **{"from": before, "to": _place(current)},
            )
        ]
    )
    return current


def deletion_refusal(session: EventSession, now=None) -> EventsError | None:
    """Why a session may not be deleted, or None. Only a session added by
    mistake may go: not one that has started or taken place, has records
    (attendance, a headcount, a note), or belongs to an event where people
    have places or are waiting (cancel it instead, so they are told and
    their calendars update)."""
    from django.utils import timezone

    if session.start <= (now or timezone.now()):
        reason = _("it has started or taken place")
    elif (
        session.attendance.exists()
        or hasattr(session, "headcount")
        or hasattr(session, "note")
    ):
        reason = _("attendance or notes were recorded for it")
    elif session.event.registrations.active().exists():
        reason = _("people have signed up for this event")
    elif session.registrations.exists():
        # Drop-in places on this date, even cancelled ones, keep its history.
        reason = _("people signed up for this date")
    else:
        return None
    return EventsError(
        _("This session cannot be deleted: %(reason)s. Cancel it instead.")
        % {"reason": reason},
        code="cannot_delete",
    )


@dataclass(frozen=True)
class ChangeAudience:
    """Who is told when a session is cancelled or moved, and how.

    ``emailed`` people get the session-change email and ``texted`` people a
    text (``events.messaging.route``); the people in ``to_call`` have a
    place but neither reaches them, so they go on the call list. Nobody is
    told about a session that is over. For a move (``if_still_to_come``)
    the new time decides instead: people are told only when it has not
    passed.
    """

    emailed: int
    to_call: list[Registration]
    past: bool
    if_still_to_come: bool = False
    texted: int = 0


def change_audience(session: EventSession, *, moving: bool = False) -> ChangeAudience:
    """Who hears about a change to ``session``: the same people
    ``tasks.send_session_change_messages`` writes to, and those it puts on
    the call list.

    A cancellation tells nobody once the session is over. A move is judged by
    the new time, as ``reschedule_session`` does, so with ``moving`` the
    people are counted whatever the session's time is now.
    """
    if session.is_past and not moving:
        return ChangeAudience(emailed=0, to_call=[], past=True)

    confirmed = (
        Registration.objects.for_session(session)
        .confirmed()
        .not_anonymised()
        .prefetch_related("consents")
        .order_by("name", "pk")
    )
    routes = [
        (person, route(person, MessageKind.SESSION_MOVED)) for person in confirmed
    ]
    return ChangeAudience(
        emailed=sum(way.email for _, way in routes),
        texted=sum(way.text for _, way in routes),
        to_call=[person for person, way in routes if way.call],
        past=False,
        if_still_to_come=moving,
    )


@transaction.atomic
def cancel_session(
    *,
    session: EventSession,
    public_note: str = "",
    notify: bool = True,
    user=None,
    by: str | None = None,
) -> EventSession:
    """Cancel a session. It stays listed, marked cancelled, with the same UID.

    Everyone confirmed is emailed about an upcoming session, unless
    ``notify=False``. Logged as ``events.session.cancelled``.
    """
    actor = audit.actor(user=user, by=by)
    current = _lock(session)
    if current.status == SessionStatus.CANCELLED:
        raise EventsError(
            _("This session is already cancelled."), code="already_cancelled"
        )
    current.status = SessionStatus.CANCELLED
    if public_note:
        current.public_note = public_note
    current.sequence += 1
    current.save()
    if notify and not current.is_past:
        enqueue_session_change_messages(current)
    audit.write([_entry(current, "cancelled", actor=actor)])
    return current


@transaction.atomic
def reinstate_session(
    *, session: EventSession, user=None, by: str | None = None
) -> EventSession:
    """Undo a cancellation: the session goes ahead as scheduled. Logged as
    ``events.session.reinstated``."""
    actor = audit.actor(user=user, by=by)
    current = _lock(session)
    if current.status != SessionStatus.CANCELLED:
        raise EventsError(_("This session is not cancelled."), code="not_cancelled")
    current.status = SessionStatus.SCHEDULED
    current.public_note = ""
    current.sequence += 1
    current.save()
    audit.write([_entry(current, "reinstated", actor=actor)])
    return current


@dataclass(frozen=True)
class SessionSync:
    """What ``sync_session`` did to a session, for the import's summary."""

    reinstated: bool = False
    moved: bool = False
    cancelled: bool = False


@transaction.atomic
def sync_session(
    *,
    session: EventSession,
    start: dt.datetime,
    end: dt.datetime,
    venue: Venue | None,
    cancelled: bool,
    reinstate: bool,
    move_when_cancelling: bool,
    event_venue_id: int | None = None,
) -> SessionSync:
    """Bring an imported session to the times, place and status a file
    gives it, through ``reinstate_session``, ``reschedule_session`` and
    ``cancel_session`` (so the UID stays, the sequence rises with each
    change, and people are told), in that order: a cancelled session must
    go ahead again before it can move. Nothing already true is changed.

    ``venue`` None means the event's venue. When the caller knows where the
    event meets (``event_venue_id``: for the schedule, its draft's venue),
    a session there is in the same place whether it names the venue or not.

    Two imports want different things when the file and Gather disagree:

    * ``reinstate``: whether a cancelled session the file has going ahead
      is reinstated (a coordinator's own plan says so) or left cancelled,
      and then not moved either (a partner's calendar: a cancellation made
      in Gather wins).
    * ``move_when_cancelling``: whether a session the file cancels first
      takes the file's times and place (a plan's row is the whole session,
      so importing it again changes nothing; moving a session that is
      already cancelled is refused, ``session_cancelled``) or is only
      cancelled (a calendar's cancelled date: people hear once, that it is
      off).
    """
    done = {}
    is_cancelled = session.status == SessionStatus.CANCELLED
    if is_cancelled and not cancelled:
        if not reinstate:
            return SessionSync()
        session = reinstate_session(session=session)
        done["reinstated"], is_cancelled = True, False
    now_at = (session.start, session.end, session.venue_id or event_venue_id)
    wanted_at = (start, end, venue.pk if venue else event_venue_id)
    if now_at != wanted_at and (move_when_cancelling or not cancelled):
        session = reschedule_session(session=session, start=start, end=end, venue=venue)
        done["moved"] = True
    if cancelled and not is_cancelled:
        cancel_session(session=session)
        done["cancelled"] = True
    return SessionSync(**done)


# Changing the rest of a series ------------------------------------------------


@dataclass(frozen=True)
class RestOfSeriesChange:
    """What to do to every session still to come from a given one:

    * ``TIME``: meet at ``start_time`` to ``end_time`` (local), same dates;
    * ``WEEKDAY``: meet on ``weekday`` (0 is Monday) of the same week, at
      the same local times (Tuesdays to Thursdays);
    * ``VENUE``: meet at ``venue``;
    * ``CANCEL``: cancel them all.
    """

    kind: str
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    weekday: int | None = None
    venue: Venue | None = None

    def check(self) -> None:
        """Refuse a change that is not one, with a code the form shows next
        to the field at fault."""
        if self.kind not in SeriesChangeKind.values:
            raise EventsError(_("Choose what to change."), code="no_change_kind")
        if self.kind == SeriesChangeKind.TIME:
            if self.start_time is None or self.end_time is None:
                raise EventsError(
                    _("Give the new start and end times."), code="no_times"
                )
            if self.end_time <= self.start_time:
                raise EventsError(
                    _("The end time must be after the start time."),
                    code="end_before_start",
                )
        if self.kind == SeriesChangeKind.WEEKDAY and (
            self.weekday is None or not 0 <= self.weekday <= 6
        ):
            raise EventsError(_("Choose a weekday."), code="no_weekday")
        if self.kind == SeriesChangeKind.VENUE and self.venue is None:
            raise EventsError(_("Choose a venue."), code="no_venue")


@dataclass(frozen=True)
class PlannedSessionChange:
    """One session of a change to the rest of a series: as it is, and what
    it would become (the same times and venue when it is cancelled)."""

    session: EventSession
    start: dt.datetime
    end: dt.datetime
    venue: Venue | None
    cancelled: bool = False

    @property
    def new_venue(self):
        return self.venue or self.session.event.venue


def _rest_of_series(event, *, from_session, from_date, now):
    """The sessions a change to the rest of ``event``'s series applies to:
    not cancelled, not started, at or after ``from_session`` (or the start
    of ``from_date``, local), in date order."""
    if from_session is not None:
        since = from_session.start
    elif from_date is not None:
        since = dt.datetime.combine(from_date, dt.time(), tzinfo=site_zone())
    else:
        raise EventsError(
            _("Choose the first session to change."), code="no_from_session"
        )
    return list(
        EventSession.objects.filter(event_id=event.pk, start__gte=since, start__gt=now)
        .not_cancelled()
        .select_related("event", "venue", "event__venue", "previous_venue")
        .order_by("start", "pk")
    )


def plan_rest_of_series(
    *,
    event: EventPage,
    change: RestOfSeriesChange,
    from_session: EventSession | None = None,
    from_date: dt.date | None = None,
    now: dt.datetime | None = None,
    sessions: list[EventSession] | None = None,
) -> list[PlannedSessionChange]:
    """What ``change_rest_of_series`` would do to each session, writing
    nothing (the preview), or its refusal: a change that would put a session
    in the past, at a time that does not exist or that ends before it
    starts, on a time another session of the event has, or that changes
    nothing."""
    from django.utils import timezone

    now = now or timezone.now()
    change.check()
    if sessions is None:
        sessions = _rest_of_series(
            event, from_session=from_session, from_date=from_date, now=now
        )
    if not sessions:
        raise EventsError(
            _("There are no sessions still to come from this one to change."),
            code="no_sessions",
        )
    zone = site_zone()
    planned = []
    for session in sessions:
        start, end = session.start.astimezone(zone), session.end.astimezone(zone)
        venue = session.venue
        if change.kind == SeriesChangeKind.CANCEL:
            planned.append(
                PlannedSessionChange(session, start, end, venue, cancelled=True)
            )
            continue
        if change.kind == SeriesChangeKind.TIME:
            day = start.date()
            start = dt.datetime.combine(day, change.start_time, tzinfo=zone)
            end = dt.datetime.combine(day, change.end_time, tzinfo=zone)
        elif change.kind == SeriesChangeKind.WEEKDAY:
            shift = dt.timedelta(days=change.weekday - start.weekday())
            # Wall times kept: combine the new date with the local times.
            start = dt.datetime.combine(start.date() + shift, start.time(), tzinfo=zone)
            end = dt.datetime.combine(end.date() + shift, end.time(), tzinfo=zone)
        else:
            venue = change.venue
        check_times(start, end)
        if start.astimezone(dt.UTC) <= now:
            raise EventsError(
                _(
                    "The session of %(date)s would move to %(new)s, which has "
                    "passed. Start from a later session."
                )
                % {
                    "date": date_format(session.start.astimezone(zone), "DATE_FORMAT"),
                    "new": date_format(start, "DATETIME_FORMAT"),
                },
                code="in_the_past",
            )
        same = (start, end) == (session.start, session.end) and (
            venue or session.event.venue
        ) == session.effective_venue
        if not same:
            planned.append(PlannedSessionChange(session, start, end, venue))
    if not planned:
        raise EventsError(
            _("These sessions already meet then and there: nothing would change."),
            code="nothing_changes",
        )
    moving = {p.session.pk for p in planned}
    clashes = (
        EventSession.objects.filter(
            event_id=event.pk, start__in=[p.start for p in planned]
        )
        .exclude(pk__in=moving)
        .not_cancelled()
    )
    if clashes.exists():
        raise EventsError(
            _("The event already has a session at one of the new times."),
            code="already_scheduled",
        )
    return planned


@transaction.atomic
def change_rest_of_series(
    *,
    event: EventPage,
    change: RestOfSeriesChange,
    from_session: EventSession | None = None,
    from_date: dt.date | None = None,
    notify: bool = True,
    user=None,
    by: str | None = None,
) -> SeriesChange:
    """Move, or cancel, every session of ``event`` still to come from
    ``from_session`` (or ``from_date``) at once, as ``plan_rest_of_series``
    plans it.

    Under the event's row lock, in one transaction: each session keeps its
    UID, its sequence rises by one, a move keeps what it was in
    ``previous_*`` and marks it moved, a cancellation marks it cancelled.
    Each is logged as ``reschedule_session`` and ``cancel_session`` log
    theirs (``events.session.changed`` or ``events.session.cancelled``,
    with ``series_change`` in the data). Everyone with a confirmed place
    is then told once, by their own channels, in one message listing every
    session (``MessageKind.SERIES_CHANGED``), unless ``notify=False``.
    Returns the ``SeriesChange`` recording which sessions changed.
    """
    from django.utils import timezone

    actor = audit.actor(user=user, by=by)
    now = timezone.now()
    _lock_event(event)
    # Read under the event's lock, and each session under its own row lock
    # (a single-session change takes that one), so the plan is made from
    # what is true now.
    sessions = _rest_of_series(
        event, from_session=from_session, from_date=from_date, now=now
    )
    if sessions:
        list(
            EventSession.objects.select_for_update(of=("self",))
            .filter(pk__in=[s.pk for s in sessions])
            .values_list("pk", flat=True)
        )
        sessions = _rest_of_series(
            event, from_session=from_session, from_date=from_date, now=now
        )
    planned = plan_rest_of_series(
        event=event, change=change, now=now, sessions=sessions
    )
    record = SeriesChange.objects.create(
        event_id=event.pk,
        kind=change.kind,
        author=user if getattr(user, "pk", None) else None,
    )
    entries = []
    changed = []
    for plan in planned:
        session = plan.session
        if plan.cancelled:
            session.status = SessionStatus.CANCELLED
            session.sequence += 1
            session.save()
            entries.append(
                _entry(session, "cancelled", actor=actor, series_change=record.pk)
            )
        else:
            before = _place(session)
            session.previous_start, session.previous_end = session.start, session.end
            session.previous_venue = session.effective_venue
            session.start, session.end, session.venue = plan.start, plan.end, plan.venue
            session.status = SessionStatus.MOVED
            session.sequence += 1
            session.save()
            entries.append(
                _entry(
                    session,
                    "changed",
                    actor=actor,
                    moved=True,
                    note_changed=False,
                    series_change=record.pk,
                    **{"from": before, "to": _place(session)},
                )
            )
        changed.append(session)
    record.sessions.set(changed)
    audit.write(entries)
    if notify:
        people = (
            Registration.objects.filter(event_id=event.pk)
            .confirmed()
            .values_list("pk", flat=True)
        )
        queue_messages(list(people), MessageKind.SERIES_CHANGED, series_change=record)
    return record


def series_change_audience(
    sessions: list[EventSession], *, event: EventPage
) -> ChangeAudience:
    """Who hears about a change to the rest of a series, and how: everyone
    with a confirmed place, once, whatever the number of sessions."""
    confirmed = (
        Registration.objects.filter(event_id=event.pk)
        .confirmed()
        .not_anonymised()
        .prefetch_related("consents")
        .order_by("name", "pk")
    )
    routes = [
        (person, route(person, MessageKind.SERIES_CHANGED)) for person in confirmed
    ]
    return ChangeAudience(
        emailed=sum(way.email for _, way in routes),
        texted=sum(way.text for _, way in routes),
        to_call=[person for person, way in routes if way.call],
        past=not sessions,
    )
