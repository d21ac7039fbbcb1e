"""Open-ended series: a repeat rule kept on the event and topped up.

A series that "keeps going" has no end date and no count. Its rule is kept
as an ``events.SeriesRule`` and its sessions are made a rolling number of
weeks ahead (``GATHER_ROLLING_WEEKS_AHEAD``, 12 by default): when the
coordinator starts it (``start_open_series``; ``plan_open_series`` is the
preview), then every day by ``top_up_series`` (``manage.py
top_up_series``, one of the scheduled jobs).

The dates come from the same ``RepeatPattern`` and ``plan_series`` as any
series, read from the day after the last one read (``continue_from``, in
step with the first date) up to the horizon only, so local wall times stay
across clock changes, closures and skip dates are left out, and a date
already holding a session of the event is skipped. Each session is made by
``generate_series`` under the event's row lock, with a calendar UID of its
own (``new_session_uid``); the rule's ``generated_until`` moves on in the
same transaction, so a top-up run twice, or two at once, makes nothing
twice, and a session a coordinator deleted or cancelled is never made
again. Stopping (``stop_series``) ends the top-ups: at once, or on a last
date.

People registered for the event are in every session it has, so the new
sessions are theirs too: their calendars, reminders and papers pick them up.

Each start and stop writes an ``events.series_rule.started`` or
``.stopped`` entry on the event's page; each session made is logged as
created, as in any series.
"""

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core import audit

from .errors import EventsError
from .models import EventPage, Frequency, SeriesRule, Venue
from .registration import _lock_event
from .sessions import (
    MAX_SERIES_SESSIONS,
    WEEKDAY_POSITIONS,
    RepeatPattern,
    Series,
    check_skip_dates,
    generate_series,
    plan_series,
)

logger = logging.getLogger(__name__)

#: Refusals of ``plan_series`` that, for a top-up, only mean there is
#: nothing to add this time: every date skipped or closed, or taken.
NOTHING_TO_ADD = {"no_sessions", "already_scheduled"}


#: The most weeks ahead an open-ended series is made: a year, well inside
#: the cap on the dates one series may add.
MAX_WEEKS_AHEAD = 52


def weeks_ahead() -> int:
    """How many weeks ahead an open-ended series' sessions are made: the
    setting, between 1 and ``MAX_WEEKS_AHEAD``."""
    return max(1, min(settings.GATHER_ROLLING_WEEKS_AHEAD, MAX_WEEKS_AHEAD))


def horizon(today: dt.date | None = None) -> dt.date:
    """The last date a top-up on ``today`` makes sessions up to."""
    return (today or timezone.localdate()) + dt.timedelta(weeks=weeks_ahead())


def first_reach(first_date: dt.date, today: dt.date | None = None) -> dt.date:
    """The last date a new open-ended series is made up to: the rolling
    weeks from today, or from its first date if that is later (a group
    starting in spring has its first weeks made now, not one date)."""
    today = today or timezone.localdate()
    return max(today, first_date) + dt.timedelta(weeks=weeks_ahead())


def _check_open(pattern: RepeatPattern) -> None:
    if pattern.count is not None or pattern.until is not None:
        raise EventsError(
            _("A series that keeps going has no number of dates and no end date."),
            code="two_ends",
        )


def _checked_skip_dates(
    pattern: RepeatPattern, first_date: dt.date, skip_dates: set[dt.date]
) -> None:
    """Refuse a skip date the open-ended series never meets on. Skip dates
    may be further ahead than the first sessions made (next year's winter
    holidays): the pattern is read up to the last of them, within the
    cap."""
    last = max(skip_dates, default=first_date)
    try:
        dates = replace(pattern, until=max(last, first_date)).dates(first_date)
    except EventsError as error:
        if error.code != "too_many_sessions":
            raise
        raise EventsError(
            _(
                "A skip date is too far ahead: give dates within the series' "
                "next %(max)s dates."
            )
            % {"max": MAX_SERIES_SESSIONS},
            code="skip_date_too_far",
        ) from error
    check_skip_dates(
        first_date=first_date, pattern=pattern, dates=dates, skip_dates=skip_dates
    )


def _arguments(
    *, event, pattern, first_date, start_time, end_time, skip_dates, venue, today
):
    """The ``plan_series`` arguments of a new open-ended series, and the
    date its first sessions are made up to."""
    _check_open(pattern)
    skip = set(skip_dates)
    reach = first_reach(first_date, today)
    _checked_skip_dates(pattern, first_date, skip)
    return {
        "event": event,
        "pattern": replace(pattern, until=reach),
        "first_date": first_date,
        "start_time": start_time,
        "end_time": end_time,
        "skip_dates": [day for day in skip if day <= reach],
        "venue": venue,
    }, reach


def plan_open_series(
    *,
    event: EventPage,
    pattern: RepeatPattern,
    first_date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    skip_dates: Iterable[dt.date] = (),
    venue: Venue | None = None,
    today: dt.date | None = None,
) -> Series:
    """The first sessions an open-ended series would make (``pattern`` has
    no count and no end date), unsaved, as ``plan_series`` plans them, with
    ``made_until`` the date they reach; writes nothing."""
    arguments, reach = _arguments(
        event=event,
        pattern=pattern,
        first_date=first_date,
        start_time=start_time,
        end_time=end_time,
        skip_dates=skip_dates,
        venue=venue,
        today=today,
    )
    return replace(plan_series(**arguments), made_until=reach)


def _resolved(pattern: RepeatPattern, first_date: dt.date) -> dict:
    """The pattern's fields as a rule stores them: the weekday and the day
    of the month the first date gives by default written out, so the rule
    reads the same from any later date."""
    fields = {
        "frequency": pattern.frequency,
        "interval": pattern.interval,
        "weekday_position": None,
        "weekday": None,
        "month_day": None,
    }
    if pattern.frequency == Frequency.WEEKLY:
        fields["weekday"] = first_date.weekday()
    elif pattern.frequency == Frequency.MONTHLY_BY_WEEKDAY:
        fields["weekday_position"] = pattern.weekday_position
        fields["weekday"] = (
            first_date.weekday() if pattern.weekday is None else pattern.weekday
        )
    else:
        fields["month_day"] = pattern.day_of_month(first_date)
    return fields


@transaction.atomic
def start_open_series(
    *,
    event: EventPage,
    pattern: RepeatPattern,
    first_date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    skip_dates: Iterable[dt.date] = (),
    venue: Venue | None = None,
    today: dt.date | None = None,
    user=None,
    by: str | None = None,
) -> Series:
    """Start a series that keeps going: make its sessions up to
    ``first_reach`` through ``generate_series`` (refused as it refuses),
    and keep its rule (``SeriesRule``) for the top-ups. Returns the series
    made, its ``made_until`` the date the rule has been read up to."""
    actor = audit.actor(user=user, by=by)
    _lock_event(event)
    skip = sorted(set(skip_dates))
    arguments, reach = _arguments(
        event=event,
        pattern=pattern,
        first_date=first_date,
        start_time=start_time,
        end_time=end_time,
        skip_dates=skip,
        venue=venue,
        today=today,
    )
    series = generate_series(**arguments, user=user, by=by)
    rule = SeriesRule.objects.create(
        event=event,
        first_date=first_date,
        start_time=start_time,
        end_time=end_time,
        venue=venue,
        skip_dates=[day.isoformat() for day in skip],
        open_ended=True,
        generated_until=reach,
        **_resolved(pattern, first_date),
    )
    audit.write([_rule_entry(rule, event, "started", actor=actor)])
    return replace(series, made_until=reach)


def _rule_entry(rule: SeriesRule, event: EventPage, action: str, *, actor, **data):
    return audit.entry(
        event,
        f"events.series_rule.{action}",
        actor=actor,
        title=event.title,
        data={"rule": rule.pk, **data},
    )


def rule_pattern(rule: SeriesRule, *, until: dt.date) -> RepeatPattern:
    """The rule as a ``RepeatPattern`` ending on ``until``."""
    return RepeatPattern(
        frequency=rule.frequency,
        interval=rule.interval,
        weekday_position=rule.weekday_position,
        weekday=(
            rule.weekday if rule.frequency == Frequency.MONTHLY_BY_WEEKDAY else None
        ),
        month_day=rule.month_day,
        until=until,
    )


@dataclass(frozen=True)
class TopUp:
    """What topping up one rule did."""

    rule: SeriesRule
    created: int = 0
    #: The date the rule has now been read up to.
    made_until: dt.date | None = None


def top_up_rule(rule: SeriesRule, *, today: dt.date | None = None) -> TopUp:
    """Make ``rule``'s sessions from the day after the last date read up to
    the horizon (or the rule's last date, if it was stopped on one).

    Under the event's row lock, then the rule's, both re-read: a second run
    waits, then finds the dates already read and makes nothing. Never makes
    a session today or earlier (after the scheduler was down for longer
    than the rolling weeks, the missed dates stay missed).
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        _lock_event(rule.event)
        rule = (
            SeriesRule.objects.select_for_update(of=("self",))
            .select_related("event", "venue")
            .get(pk=rule.pk)
        )
        end = horizon(today)
        if not rule.open_ended:
            end = min(end, rule.until)
        since = max(rule.generated_until, today) + dt.timedelta(days=1)
        if since > end:
            return TopUp(rule=rule, made_until=rule.generated_until)
        pattern = rule_pattern(rule, until=end)
        anchor = pattern.continue_from(rule.first_date, since)
        created = 0
        if anchor <= end:
            dates = set(pattern.dates(anchor))
            try:
                series = generate_series(
                    event=rule.event,
                    pattern=pattern,
                    first_date=anchor,
                    start_time=rule.start_time,
                    end_time=rule.end_time,
                    skip_dates=rule.skipped & dates,
                    venue=rule.venue,
                    by=audit.SYSTEM,
                )
            except EventsError as error:
                if error.code not in NOTHING_TO_ADD:
                    raise
            else:
                created = len(series.sessions)
        rule.generated_until = end
        rule.save(update_fields=["generated_until", "updated_at"])
    return TopUp(rule=rule, created=created, made_until=end)


def top_up_series(*, today: dt.date | None = None) -> list[TopUp]:
    """Top up every open-ended series (and every stopped one whose last
    date is not reached yet) to the horizon, each in its own transaction.

    A rule that is refused (a start time that does not exist on a night the
    clocks go forward) is logged by its id and left for the next run; the
    others go on.
    """
    done = []
    rules = SeriesRule.objects.with_dates_to_make().select_related("event")
    for rule in rules.order_by("pk"):
        try:
            done.append(top_up_rule(rule, today=today))
        except EventsError as error:
            logger.warning("Series rule %s was not topped up: %s", rule.pk, error.code)
    return done


@transaction.atomic
def stop_series(
    *,
    rule: SeriesRule,
    last_date: dt.date | None = None,
    user=None,
    by: str | None = None,
) -> SeriesRule:
    """Stop an open-ended series: no more top-ups after ``last_date``, or,
    without one, after the sessions already made.

    Sessions already made after ``last_date`` stay as they are (the
    coordinator cancels them with "Change the rest of the series", which
    tells the people with a place); with a ``last_date`` beyond what has
    been made, the top-ups go on to that date and stop there.
    """
    actor = audit.actor(user=user, by=by)
    event = rule.event
    _lock_event(event)
    rule = SeriesRule.objects.select_for_update(of=("self",)).get(pk=rule.pk)
    if not rule.open_ended:
        raise EventsError(
            _("This series already ends on %(date)s.")
            % {"date": date_format(rule.until, "DATE_FORMAT")},
            code="already_stopped",
        )
    if last_date is not None and last_date < rule.first_date:
        raise EventsError(
            _("The last date must be on or after the first date, %(date)s.")
            % {"date": date_format(rule.first_date, "DATE_FORMAT")},
            code="until_before_start",
        )
    rule.open_ended = False
    rule.until = rule.generated_until if last_date is None else last_date
    rule.save(update_fields=["open_ended", "until", "updated_at"])
    audit.write(
        [_rule_entry(rule, event, "stopped", actor=actor, until=rule.until.isoformat())]
    )
    return rule


# The rule in words -------------------------------------------------------------

_WEEKDAYS = (
    _lazy("Monday"),
    _lazy("Tuesday"),
    _lazy("Wednesday"),
    _lazy("Thursday"),
    _lazy("Friday"),
    _lazy("Saturday"),
    _lazy("Sunday"),
)


def _clock(value: dt.time, *, suffix: bool = True) -> str:
    """A time as people say it: "2 pm", "3:30 pm"."""
    hour = value.hour % 12 or 12
    text = f"{hour}:{value.minute:02d}" if value.minute else str(hour)
    if suffix:
        text += " " + (_("pm") if value.hour >= 12 else _("am"))
    return text


def time_range(start: dt.time, end: dt.time) -> str:
    """ "2–3:30 pm", or "11 am–1 pm" when the two halves of the day differ."""
    same_half = (start.hour >= 12) == (end.hour >= 12)
    return f"{_clock(start, suffix=not same_half)}–{_clock(end)}"


def rule_in_words(rule: SeriesRule) -> str:
    """The rule as a coordinator reads it: "Every Tuesday, 2–3:30 pm, keeps
    going; sessions made up to 3 March 2027"."""
    weekday = _WEEKDAYS[rule.weekday] if rule.weekday is not None else ""
    if rule.frequency == Frequency.WEEKLY:
        repeats = (
            _("Every %(weekday)s") % {"weekday": weekday}
            if rule.interval == 1
            else _("Every %(n)s weeks on %(weekday)s")
            % {"n": rule.interval, "weekday": weekday}
        )
    elif rule.frequency == Frequency.MONTHLY_BY_WEEKDAY:
        position = str(WEEKDAY_POSITIONS[rule.weekday_position]).lower()
        repeats = (
            _("The %(position)s %(weekday)s of every month")
            if rule.interval == 1
            else _("The %(position)s %(weekday)s of every %(n)s months")
        ) % {"position": position, "weekday": weekday, "n": rule.interval}
    else:
        repeats = (
            _("Day %(day)s of every month")
            if rule.interval == 1
            else _("Day %(day)s of every %(n)s months")
        ) % {"day": rule.month_day, "n": rule.interval}
    made = date_format(rule.generated_until, "DATE_FORMAT")
    if rule.open_ended:
        ends = _("keeps going; sessions made up to %(made)s") % {"made": made}
    else:
        ends = _("ends on %(until)s; sessions made up to %(made)s") % {
            "until": date_format(rule.until, "DATE_FORMAT"),
            "made": date_format(min(rule.until, rule.generated_until), "DATE_FORMAT"),
        }
    return f"{repeats}, {time_range(rule.start_time, rule.end_time)}, {ends}"
