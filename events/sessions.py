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
  ``generate_weekly_series`` (one INSERT for the whole series).
* ``events.session.changed``: ``reschedule_session`` when the time, venue
  or note changed, with what it was and is (``from``, ``to``: times and a
  venue id) and whether it counts as moved.
* ``events.session.cancelled`` and ``events.session.reinstated``.

A session's label (its ``__str__``: the event's title and local start)
names nobody, so it is the entry's title.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.formats import date_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import audit
from core.dates import site_zone

from .errors import EventsError
from .messaging import route
from .models import (
    EventPage,
    EventSession,
    MessageKind,
    Registration,
    SessionStatus,
    Venue,
)
from .registration import _lock_event
from .tasks import enqueue_session_change_messages

#: The longest weekly series the generator will make in one go.
MAX_SERIES_WEEKS = 104


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
    starts = []
    for week in range(weeks):
        day = first_date + dt.timedelta(weeks=week)
        if day in skipped:
            continue
        starts.append(dt.datetime.combine(day, start_time, tzinfo=zone))
    return starts


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
    """Refuse a start or end that does not exist locally, and an end that is
    not after the start. Times are compared as instants: Python compares two
    times in the same zone by their clock faces, across a clock change too."""
    for value in (start, end):
        if error := missing_time(value):
            raise error
    if end.astimezone(dt.UTC) <= start.astimezone(dt.UTC):
        raise EventsError(
            _("A session must end after it starts."), code="end_before_start"
        )


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
    *, first_date: dt.date, weeks: int, skip_dates: Iterable[dt.date]
) -> None:
    """Refuse a skip date the series would never meet on: one on another
    weekday, or before the first or after the last week. Such a date is
    almost always a typing slip, and accepting it would quietly keep the
    session the coordinator meant to skip."""
    last_date = first_date + dt.timedelta(weeks=weeks - 1)
    problems = []
    for day in sorted(set(skip_dates)):
        values = {
            "date": date_format(day, "DATE_FORMAT"),
            "weekday": date_format(day, "l"),
            "weekdays": _plural_weekday(first_date),
            "first": date_format(first_date, "DATE_FORMAT"),
            "last": date_format(last_date, "DATE_FORMAT"),
        }
        if day.weekday() != first_date.weekday():
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
class WeeklySeries:
    """What ``generate_weekly_series`` did: the sessions it created, and the
    dates it left alone because the event already had a session starting
    then (scheduled, moved there or cancelled: each is still listed)."""

    created: list[EventSession]
    already_scheduled: list[dt.date]

    def summary(self) -> str:
        """How many sessions were added and which dates were skipped, in
        sentences for the coordinator."""
        count = len(self.created)
        lines = [
            ngettext("%(count)s session added.", "%(count)s sessions added.", count)
            % {"count": count}
        ]
        if self.already_scheduled:
            lines.append(
                ngettext(
                    "%(dates)s already had a session, so it was skipped.",
                    "%(dates)s already had a session, so they were skipped.",
                    len(self.already_scheduled),
                )
                % {"dates": _date_list(self.already_scheduled)}
            )
        return " ".join(lines)


def _date_list(days: Iterable[dt.date]) -> str:
    """Dates as in "16 March and 23 March": day first, like the rest of the
    site."""
    return str(
        get_text_list([date_format(day, "MONTH_DAY_FORMAT") for day in days], _("and"))
    )


@transaction.atomic
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
) -> WeeklySeries:
    """Create a session every week for ``weeks`` weeks, skipping given dates.

    Sessions keep the same local start and end times across daylight-saving
    changes. A week whose start the event already has a session at is left
    alone, so adding a series twice never lists a date twice; the check runs
    under the event's row lock, so two coordinators adding the same series
    at once cannot both create it. The new sessions come back in date order.

    A skip date the series never meets on is refused (``check_skip_dates``),
    and so is a series whose every week is skipped or already scheduled.
    Each new session is logged as created, all in one INSERT.
    """
    actor = audit.actor(user=user, by=by)
    if not 1 <= weeks <= MAX_SERIES_WEEKS:
        raise EventsError(
            _("Choose between 1 and %(max)s weeks.") % {"max": MAX_SERIES_WEEKS},
            code="weeks_out_of_range",
        )
    if end_time <= start_time:
        raise EventsError(
            _("The end time must be after the start time."), code="end_before_start"
        )
    skip_dates = list(skip_dates)
    check_skip_dates(first_date=first_date, weeks=weeks, skip_dates=skip_dates)
    zone = site_zone()
    starts = weekly_starts(
        first_date=first_date,
        start_time=start_time,
        weeks=weeks,
        skip_dates=skip_dates,
        zone=zone,
    )
    if not starts:
        raise EventsError(
            _("Every week was skipped, so there are no sessions to create."),
            code="no_sessions",
        )
    _lock_event(event)
    # Compared as instants: the database holds UTC, and ``start`` is local.
    taken = set(
        EventSession.objects.filter(event=event, start__in=starts).values_list(
            "start", flat=True
        )
    )
    already_scheduled = [start.date() for start in starts if start in taken]
    starts = [start for start in starts if start not in taken]
    if not starts:
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
    sessions = [
        EventSession(
            event=event,
            start=start,
            end=dt.datetime.combine(start.date(), end_time, tzinfo=zone),
            venue=venue,
        )
        for start in starts
    ]
    created = EventSession.objects.bulk_create(sessions)
    audit.write(_entry(session, "created", actor=actor) for session in created)
    return WeeklySeries(created=created, already_scheduled=already_scheduled)


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
        Registration.objects.filter(event_id=session.event_id)
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
