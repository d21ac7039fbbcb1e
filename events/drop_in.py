"""Drop-in sign-up: places on single sessions of an event.

An event whose ``sign_up_per`` is "session" takes sign-ups for each of its
dates on its own: a Registration with a ``session`` is a place (or a
waitlist position) on that date alone, the event's capacity applies to
each date, and each date has its own waitlist, numbered from 1. Everything
else is the same as a place on a whole series (``events.registration``):
the event's row lock is taken before anything is counted, places and
positions are counted from the rows under it, a repeat sign-up for a date
someone already holds changes nothing, and the answer never tells whether
someone was already signed up.

Someone may choose several dates at once (``register_sessions``): one
transaction, one lock, one registration (with its own manage link) per
date, and one message listing the dates and where they stand on each
(``MessageKind.DATES_BOOKED``).
"""

import dataclasses
from collections.abc import Collection, Iterable, Mapping

from django.db import transaction
from django.db.models import Count
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from core import audit

from .consent import record_given_many
from .errors import EventsError
from .models import (
    EventPage,
    EventSession,
    MessageKind,
    Registration,
    RegistrationStatus,
    SessionStatus,
    SignUpPer,
)
from .questions import record_answers
from .registration import (
    RegistrationResult,
    _check_open,
    _entry,
    _find_existing,
    _lock_event,
    _newcomer,
    _newcomer_status,
    _next_waitlist_position,
    _person,
    _places_left,
    _repeat_notice_due,
    person_key,
)

#: Error codes of a choice of dates the form shows next to the dates.
SESSION_ERRORS = {
    "no_session",
    "bad_session",
    "session_cancelled",
    "session_past",
    "session_full",
}


def is_per_session(event) -> bool:
    return event.sign_up_per == SignUpPer.SESSION


def open_sessions(event: EventPage, *, now=None):
    """The dates of ``event`` people can still sign up for: going ahead,
    not started yet, soonest first."""
    return (
        EventSession.objects.filter(event=event, start__gt=now or timezone.now())
        .not_cancelled()
        .select_related("venue")
        .order_by("start", "pk")
    )


@dataclasses.dataclass(frozen=True)
class Places:
    """Where one session of a drop-in stands: places left (None: no limit),
    and whether a newcomer would go on the waitlist or be refused."""

    left: int | None
    waitlist: bool

    @property
    def full(self) -> bool:
        return self.left == 0

    @property
    def label(self) -> str:
        """What the form and listing say of the date."""
        if self.left is None:
            return ""
        if self.left == 0:
            return _("Full, join the waitlist") if self.waitlist else _("Full")
        if self.left == 1:
            return _("1 place left")
        return _("%(count)s places left") % {"count": self.left}


def places_by_session(sessions: Iterable[EventSession]) -> dict[int, Places]:
    """``Places`` of each of ``sessions`` of drop-in events, in one query
    however many sessions and events (a count of confirmed places grouped
    by session); sessions of events signed up for as a series are left
    out. Reads each session's ``event`` (select it with the sessions)."""
    sessions = [s for s in sessions if is_per_session(s.event)]
    if not sessions:
        return {}
    counted = {s.pk for s in sessions if s.event.capacity is not None}
    confirmed = {}
    if counted:
        confirmed = dict(
            Registration.objects.filter(
                session_id__in=counted, status=RegistrationStatus.CONFIRMED
            )
            .order_by()
            .values("session_id")
            .annotate(n=Count("pk"))
            .values_list("session_id", "n")
        )
    places = {}
    for session in sessions:
        capacity = session.event.capacity
        left = (
            None
            if capacity is None
            else max(capacity - confirmed.get(session.pk, 0), 0)
        )
        places[session.pk] = Places(left=left, waitlist=session.event.waitlist_enabled)
    return places


def _when(session: EventSession) -> str:
    return dateformat.format(timezone.localtime(session.start), "l j F, g:i a")


def _chosen_sessions(event: EventPage, session_ids, *, now, by_coordinator):
    """The sessions ``session_ids`` name, in date order; refuses an id that
    is not a date of ``event``, a cancelled date, and (for the public) a
    date that has started."""
    ids = set()
    for value in session_ids:
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            raise EventsError(
                _("Please choose the dates from the list."), code="bad_session"
            ) from None
    if not ids:
        raise EventsError(_("Please choose at least one date."), code="no_session")
    sessions = list(
        EventSession.objects.filter(event_id=event.pk, pk__in=ids).order_by(
            "start", "pk"
        )
    )
    if len(sessions) != len(ids):
        raise EventsError(
            _(
                "One of the dates you chose is not a date of this event. "
                "Please choose again."
            ),
            code="bad_session",
        )
    for session in sessions:
        if session.status == SessionStatus.CANCELLED:
            raise EventsError(
                _("%(when)s is cancelled. Please choose another date.")
                % {"when": _when(session)},
                code="session_cancelled",
            )
        if not by_coordinator and session.start <= now:
            raise EventsError(
                _(
                    "%(when)s has already started or taken place. "
                    "Please choose another date."
                )
                % {"when": _when(session)},
                code="session_past",
            )
    return sessions


@transaction.atomic
def register_sessions(
    *,
    event: EventPage,
    session_ids: Collection,
    name: str,
    email: str = "",
    phone: str = "",
    support_needs: str = "",
    call_times: str = "",
    voicemail_ok: bool = False,
    consent: Collection[str] = (),
    answers: Mapping[int, str] | None = None,
    by_coordinator: bool = False,
    notify: bool = True,
    user=None,
    by: str | None = None,
    now=None,
) -> list[RegistrationResult]:
    """A place (or a waitlist position) on each chosen session of a drop-in
    event, in one transaction under the event's lock; results in date order.

    Each date is decided as ``register`` decides a series: a place while
    the date has one, else its own waitlist, else refused (code
    ``session_full``, naming the date; nothing is kept). A date the person
    already holds (``person_key``) keeps its registration and gets a
    newcomer's answer, so the answer tells nothing. The ids come from a
    form: one that is not a date of this event, is cancelled, or (for the
    public) has started is refused (``SESSION_ERRORS``).

    One message (``DATES_BOOKED``) lists the person's dates; when every
    date was already held it is re-sent at most once a day, as for a
    repeat ``register``. Consent is recorded on each new registration; each
    is logged as ``events.registration.created`` with its session.
    """
    if not by_coordinator and user is None and by is None:
        by = audit.PARTICIPANT
    actor = audit.actor(user=user, by=by)
    now = now or timezone.now()
    person = _person(
        name,
        email,
        phone,
        support_needs,
        call_times=call_times,
        voicemail_ok=voicemail_ok,
    )
    locked = _lock_event(event)
    _check_open(locked, by_coordinator=by_coordinator, now=now)
    if not is_per_session(locked):
        raise EventsError(
            _("This event takes sign-ups for the whole series."),
            code="not_per_session",
        )
    sessions = _chosen_sessions(
        locked, session_ids, now=now, by_coordinator=by_coordinator
    )
    results = []
    for session in sessions:
        places = _places_left(locked, session)
        try:
            existing = _find_existing(locked, person["email"], person["phone"], session)
            if existing:
                if not by_coordinator:
                    _newcomer_status(locked, places)
                results.append(RegistrationResult(existing, created=False))
                continue
            registration = _newcomer(
                locked,
                places,
                lambda s=session: _next_waitlist_position(locked, s),
                person,
                session=session,
            )
        except EventsError as error:
            if error.code != "full":
                raise
            raise EventsError(
                _("Sorry, %(when)s is full. Please choose another date.")
                % {"when": _when(session)},
                code="session_full",
            ) from None
        registration.save(force_insert=True)
        results.append(RegistrationResult(registration, created=True))
    created = [r.registration for r in results if r.created]
    record_given_many((r, consent) for r in created)
    # The event's own questions on every new date; demographic answers on
    # the first only, so the totals count the person once.
    for number, registration in enumerate(created):
        record_answers(registration, answers, demographic=number == 0)
    audit.write(
        _entry(r, "created", event=locked, actor=actor, session=r.session_id)
        for r in created
    )
    if notify:
        _tell(results, now=now)
    return results


def _tell(results: list[RegistrationResult], *, now) -> None:
    """One message listing the person's dates, to their first new
    registration; for a sign-up that added nothing, at most once a day."""
    from .messaging import queue_messages

    created = [r.registration for r in results if r.created]
    if created:
        first = min(created, key=lambda r: r.pk)
    elif results and _repeat_notice_due(results[0].registration, now=now):
        first = results[0].registration
    else:
        return
    queue_messages([first.pk], MessageKind.DATES_BOOKED)


def dates_of(registration: Registration) -> list[Registration]:
    """The person's active places on single dates of ``registration``'s
    event (the same ``person_key``), this one included, in date order, with
    their sessions: what the message about their dates and their manage
    page list."""
    if registration.session_id is None:
        return []
    key = person_key(registration.email, registration.phone)
    same = Registration.objects.filter(
        event_id=registration.event_id, session__isnull=False
    ).active()
    if key is None:
        same = same.filter(pk=registration.pk)
    elif key[0] == "email":
        same = same.filter(email__iexact=key[1])
    else:
        same = same.filter(email="", phone=key[1])
    return list(same.select_related("session").order_by("session__start", "pk"))
