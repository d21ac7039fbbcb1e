"""Registration workflows: sign up, cancel, promote, change capacity, move.

Every function here is atomic and takes the event's row lock before it
counts places, so two people can never take the last place at once:
``select_for_update`` on PostgreSQL, and SQLite's IMMEDIATE transactions
serialize writers. Places left and waitlist order are computed from
Registration rows inside that transaction; there is no counter to drift.

Emails are queued with ``core.background.enqueue_on_commit``: a
rolled-back change sends nothing, and a failed email never loses a
registration.

Every change is written to Wagtail's audit log by the workflow itself,
inside its transaction (``core.audit``), so it is logged once however it
is made. Workflows take ``user`` (None for the person themselves or the
system) and ``by``, one of ``core.audit.BY`` (staff, participant, import,
system), kept in the entry's ``data["by"]``. The actions:

* ``events.registration.created``: a new place or waitlist position
  (``register``); a repeat sign-up changes nothing and logs nothing.
* ``events.registration.created_in_bulk``: the people a
  ``RegistrationBatch`` (an import) added to one event, in one entry on the
  event's page: how many, with places and waiting, and their ids.
* ``events.registration.cancelled``: a place given up (``cancel``).
* ``events.registration.left_waitlist``: a waitlist position given up
  (``cancel``).
* ``events.registration.promoted``: a place from the waitlist, given by
  staff out of turn (``promote``) or automatically when a place frees
  (``data["automatic"]``, by the system, with what freed it).
* ``events.registration.moved``: a person moved to another event, on their
  new registration (``move``; the old one is cancelled without an entry of
  its own, and ``data["from_registration"]`` names it).
* ``events.registration.offered``, ``.offer_accepted``, ``.offer_declined``,
  ``.offer_expired``: waitlist offers, for events with
  ``waitlist_offer_hours`` (``events.offers``; ``_promote`` hands freed
  places to it, and ``_places_left`` counts a place an open offer holds as
  taken).

A registration's ``__str__`` is the person's name, so entries carry a
neutral title ("Registration 12 for Tuesday group") and their data holds
ids and statuses only: never a name, email, phone number or support need.
"""

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping

from django.db import transaction
from django.db.models import Count, F, Q, Subquery, Value
from django.db.models.functions import Coalesce, Upper
from django.db.models.lookups import Exact
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from core import audit, public_cache, tokens
from core.phones import INVALID_PHONE_MESSAGE, InvalidPhoneNumber, to_e164
from core.prepared import PreparedQuery, insert

from .consent import carry_over, record_given, record_given_many
from .errors import EventsError
from .models import (
    EventPage,
    EventSession,
    Registration,
    RegistrationMode,
    RegistrationStatus,
    SessionStatus,
    SignUpPer,
)
from .questions import record_answers

TOKEN_PURPOSE = "registration.manage"


# Manage-link tokens ----------------------------------------------------------


def manage_token(registration: Registration) -> str:
    """The secret in a registration's manage link (see ``core.tokens``)."""
    return tokens.derive_token(TOKEN_PURPOSE, registration.token_salt)


def _new_token_fields() -> dict:
    """A fresh salt and the hash of the token it gives."""
    salt = tokens.new_salt()
    return {
        "token_salt": salt,
        "manage_token_hash": tokens.hash_token(
            tokens.derive_token(TOKEN_PURPOSE, salt)
        ),
    }


def find_by_token(token: str, *, with_event: bool = True) -> Registration | None:
    """The registration a manage link points to, or None; with its event
    and venue unless ``with_event`` is false (a POST that only hands the
    registration to a workflow, which reads the event under its lock)."""
    if not tokens.is_plausible(token):
        return None
    registrations = Registration.objects.filter(
        manage_token_hash=tokens.hash_token(token)
    )
    if with_event:
        registrations = registrations.select_related("event", "event__venue")
    return registrations.first()


# Locking and counting ----------------------------------------------------------


#: The event fields the registration rules read, fetched under the lock.
RULE_FIELDS = (
    "title",
    "live",
    "capacity",
    "registration_mode",
    "registration_opens_at",
    "registration_closes_at",
    "waitlist_enabled",
    "sign_up_per",
    "waitlist_offer_hours",
)


#: The event's rule fields under its row lock, compiled once per process
#: (``core.prepared``): every workflow starts here.
_LOCKED_EVENT = PreparedQuery(
    lambda event_id: (
        EventPage.objects.select_for_update(of=("self",))
        .only(*RULE_FIELDS)
        .filter(pk=event_id)
        .order_by()
    ),
    int,
)


def _lock_event(event: EventPage | int) -> EventPage:
    """Re-read the event (or the event of that id) under a row lock;
    callers queue here one at a time.

    Only the fields the rules need are read, to keep the locked section short.
    Raises ``EventPage.DoesNotExist`` when the event is gone.
    """
    locked = _LOCKED_EVENT.first(getattr(event, "pk", event))
    if locked is None:
        raise EventPage.DoesNotExist("The event to lock does not exist.")
    return locked


#: An event's sessions, soonest first, for its sign-up window.
_SESSIONS_BY_START = PreparedQuery(
    lambda event_id: EventSession.objects.filter(event_id=event_id).order_by("start"),
    int,
)


def _offers():
    """``events.offers``, which builds on this module (so imported late)."""
    from . import offers

    return offers


def _places_left(event: EventPage, session=None) -> int | None:
    """Free places from the Registration rows, or None for no limit: on the
    whole series, neither confirmed nor held by an open waitlist offer
    (``events.offers``); on ``session`` (a session or its id) of a drop-in
    event, where the capacity applies to each session, not confirmed."""
    if event.capacity is None:
        return None
    if session is None:
        return _offers().Scope(event).places_free()
    confirmed = (
        Registration.objects.in_scope(event, session)
        .filter(status=RegistrationStatus.CONFIRMED)
        .count()
    )
    return max(event.capacity - confirmed, 0)


def _renumber_waitlist(event: EventPage, session=None) -> None:
    """Close gaps so waitlist positions run 1, 2, 3... in their current order
    (of the series, or of ``session``'s own waitlist).

    In a few statements however long the waitlist is: one read of the
    positions, then the people who move go above the highest position held
    (an UPDATE of them all), and down to their new positions (an UPDATE per
    distance moved: one when a single person left). PostgreSQL and SQLite
    check the unique constraint row by row within a statement, so moving
    them down in one step could meet a row not yet moved; above the highest
    position nobody is in the way.
    """
    rows = list(
        Registration.objects.in_scope(event, session)
        .waitlisted()
        .values_list("pk", "waitlist_position")
    )
    moves: dict[int, list[int]] = {}
    for position, (pk, current) in enumerate(rows, start=1):
        if current != position:
            moves.setdefault(current - position, []).append(pk)
    if not moves:
        return
    above = rows[-1][1]  # the highest position held
    Registration.objects.filter(
        pk__in=[pk for pks in moves.values() for pk in pks]
    ).update(waitlist_position=F("waitlist_position") + above)
    for distance, pks in moves.items():
        Registration.objects.filter(pk__in=pks).update(
            waitlist_position=F("waitlist_position") - (above + distance)
        )


def _next_waitlist_position(event: EventPage, session=None) -> int:
    return Registration.objects.in_scope(event, session).waitlisted().count() + 1


def _notify(registration: Registration, kind: str) -> None:
    """Tell the person about their place once the transaction commits, by
    the channels they chose (``events.messaging``)."""
    from .messaging import queue_messages

    queue_messages([registration.pk], kind)


def _notify_many(registrations, kind: str) -> None:
    """The same message to many people, a few tasks once the transaction commits."""
    from .messaging import queue_messages

    queue_messages([r.pk for r in registrations], kind)


# Audit log ---------------------------------------------------------------------


def _title(registration: Registration, event: EventPage) -> str:
    """A history screen's label for a registration: ids and the event's
    title, never the person's name (``Registration.__str__``)."""
    return _("Registration %(id)s for %(event)s") % {
        "id": registration.pk,
        "event": event.title,
    }


def _entry(
    registration: Registration,
    action: str,
    *,
    event: EventPage,
    actor: audit.Actor,
    **data,
):
    """An unsaved audit entry for ``registration``: the event's id and the
    status it has now, and ``data`` (ids and codes only)."""
    return audit.entry(
        registration,
        f"events.registration.{action}",
        actor=actor,
        title=_title(registration, event),
        data={"event": event.pk, "status": registration.status, **data},
    )


# Registration rules ------------------------------------------------------------


def registration_refusal(
    event: EventPage, *, now=None, sessions=None
) -> EventsError | None:
    """Why sign-up is refused right now, or None when it is open.

    Capacity is not checked here (a full event may still take waitlist
    sign-ups); ``register`` decides that under the lock. Pass ``sessions``
    when the event's sessions are already loaded.
    """
    now = now or timezone.now()
    if event.registration_mode == RegistrationMode.NONE:
        return EventsError(
            _("This event has no sign-up. Just come along."), code="no_registration"
        )
    if not event.live:
        return EventsError(_("This event is not published."), code="not_published")
    if sessions is None:
        sessions = _SESSIONS_BY_START.objects(event.pk)
    going_ahead = [s for s in sessions if s.status != SessionStatus.CANCELLED]
    if sessions and not going_ahead:
        return EventsError(_("This event has been cancelled."), code="cancelled")
    upcoming = [s for s in going_ahead if s.end >= now]
    if not upcoming:
        return EventsError(_("This event has already taken place."), code="past")
    if event.sign_up_per == SignUpPer.SESSION:
        # A drop-in takes sign-ups for each date until it starts.
        going_ahead = [s for s in upcoming if s.start > now] or upcoming
    if event.registration_opens_at and now < event.registration_opens_at:
        opens = timezone.localtime(event.registration_opens_at)
        return EventsError(
            _("Sign-up opens at %(time)s on %(date)s.")
            % {
                "time": dateformat.format(opens, "g:i a"),
                "date": dateformat.format(opens, "l j F"),
            },
            code="not_open_yet",
        )
    closes = event.registration_closes_at or going_ahead[0].start
    if now >= closes:
        return EventsError(_("Sign-up for this event has closed."), code="closed")
    return None


def person_key(email: str, phone) -> tuple | None:
    """Who someone is: their email (any case), else their phone number in
    E.164, so "416-555-0123" and "+1 (416) 555 0123" are one person. A phone
    that is not a valid number identifies nobody."""
    email = email.strip().lower()
    if email:
        return ("email", email)
    try:
        number = to_e164(phone)
    except InvalidPhoneNumber:
        return None
    return ("phone", number) if number else None


def _find_existing(
    event: EventPage, email: str, phone, session=None
) -> Registration | None:
    """An active registration of the same person (``person_key``) on this
    event (on ``session`` of a drop-in event), if any."""
    key = person_key(email, phone)
    if key is None:
        return None
    if session is None:
        active = Registration.objects.filter(event=event).active()
    else:
        active = Registration.objects.in_scope(event, session).active()
    if key[0] == "email":
        return active.filter(email__iexact=email).first()
    # Phone numbers are stored in E.164, so SQL compares them.
    return active.filter(email="", phone=key[1]).first()


def _existing_and_places_left(
    event: EventPage, email: str, phone
) -> tuple[Registration | None, int | None]:
    """``_find_existing`` and ``_places_left`` of a whole series, for a
    sign-up: one query when the person is new (the usual case), counting
    the places and whether the person is registered together; the row
    itself is read only when they are. Caller holds the event's lock, and
    the query starts after the lock is taken, so the count includes every
    sign-up committed before it (a count inside the locking statement
    would not, on PostgreSQL)."""
    key = person_key(email, phone)
    counted = event.capacity is not None
    if key is None and not counted:
        return None, None
    query = _person_and_places_query(key and key[0], counted)
    rows = query.rows(*_person_and_places_args(event, key, email))
    counts = rows[0] if rows else (0,) * len(query.names)
    found = dict(zip(query.names, counts, strict=True))
    return _existing_from_counts(event, email, phone, found)


def _sessions_existing_and_places_left(
    event: EventPage, email: str, phone
) -> tuple[list[EventSession], Registration | None, int | None]:
    """The event's sessions (soonest first, for ``registration_refusal``)
    with ``_existing_and_places_left``, in one statement: the two counts are
    subqueries of the sessions' query. Caller holds the event's lock, as
    for ``_existing_and_places_left``; this statement too starts after the
    lock is taken. An event without sessions takes a second statement for
    the counts (only a coordinator can add someone to one)."""
    key = person_key(email, phone)
    counted = event.capacity is not None
    query = _person_and_places_query(key and key[0], counted, sessions=True)
    sessions = query.objects(*_person_and_places_args(event, key, email))
    if not sessions:
        return sessions, *_existing_and_places_left(event, email, phone)
    found = {name: getattr(sessions[0], name) for name in query.names}
    return sessions, *_existing_from_counts(event, email, phone, found)


def _person_and_places_args(event, key, email):
    if key is None:
        return (event.pk,)
    return (event.pk, email if key[0] == "email" else key[1])


def _existing_from_counts(event, email, phone, found):
    existing = None
    if found.get("same_person"):
        existing = _find_existing(event, email, phone)
    if event.capacity is None:
        return existing, None
    return existing, max(event.capacity - found["taken"], 0)


_PERSON_AND_PLACES = {}


def _person_and_places_query(
    same: str | None, counted: bool, *, sessions: bool = False
) -> PreparedQuery:
    """The query ``_existing_and_places_left`` runs, compiled once per
    process for each shape: ``same`` is how the person is found ("email",
    "phone" or None), ``counted`` whether the event has a capacity. Its rows
    are grouped by the event, so an event without registrations gives none.
    With ``sessions``, the query of the event's sessions instead, soonest
    first, each with the counts as subqueries (computed once: they do not
    depend on the session), for ``_sessions_existing_and_places_left``.
    """
    query = _PERSON_AND_PLACES.get((same, counted, sessions))
    if query is not None:
        return query
    names = []
    if same:
        names.append("same_person")
    if counted:
        names.append("taken")

    def conditions(value):
        found = {}
        if same == "email":
            # Any case, as ``email__iexact`` compares; written out because
            # that lookup escapes its value for LIKE on SQLite.
            match = Q(Exact(Upper("email"), Upper(Value(value))))
        else:
            match = Q(email="", phone=value)
        if same:
            found["same_person"] = match & ~Q(status=RegistrationStatus.CANCELLED)
        if counted:
            found["taken"] = Q(session__isnull=True) & (
                _offers().Scope.taking_a_place()
            )
        return found

    def build(event_id, value=None):
        counts = {name: Count("pk", filter=q) for name, q in conditions(value).items()}
        return (
            Registration.objects.filter(event_id=event_id)
            .order_by()
            .values("event_id")
            .annotate(**counts)
            .values_list(*names)
        )

    def build_with_sessions(event_id, value=None):
        counts = {
            name: Coalesce(
                Subquery(
                    Registration.objects.filter(q, event_id=event_id)
                    .order_by()
                    .values("event_id")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                0,
            )
            for name, q in conditions(value).items()
        }
        return (
            EventSession.objects.filter(event_id=event_id)
            .order_by("start")
            .annotate(**counts)
        )

    query = PreparedQuery(
        build_with_sessions if sessions else build, int, *([str] if same else [])
    )
    query.names = names
    _PERSON_AND_PLACES[(same, counted, sessions)] = query
    return query


@dataclasses.dataclass(frozen=True)
class RegistrationResult:
    """What ``register`` did: the row, and whether it is new."""

    registration: Registration
    created: bool


def _person(
    name: str,
    email: str,
    phone,
    support_needs: str,
    *,
    call_times: str = "",
    voicemail_ok: bool = False,
    phone_as_typed: str = "",
) -> dict:
    """A newcomer's fields, stripped, the phone in E.164; refuses a nameless
    or unreachable person, and a phone number nobody could call.

    ``call_times`` and ``voicemail_ok`` (for staff's call list) are kept only
    with a phone number. ``phone_as_typed`` carries a number an older version
    could not read (see migration 0010) when a registration is moved."""
    try:
        number = to_e164(phone)
    except InvalidPhoneNumber:
        raise EventsError(str(INVALID_PHONE_MESSAGE), code="phone_invalid") from None
    person = {
        "name": name.strip(),
        "email": email.strip(),
        "phone": number,
        "support_needs": support_needs.strip(),
        "phone_as_typed": "" if number else phone_as_typed.strip(),
        "call_times": call_times.strip() if number else "",
        "voicemail_ok": bool(voicemail_ok and number),
    }
    if not person["name"]:
        raise EventsError(_("Please tell us your name."), code="name_missing")
    if not (person["email"] or person["phone"] or person["phone_as_typed"]):
        raise EventsError(
            _("Please give an email address or a phone number."), code="no_contact"
        )
    return person


def _check_open(
    event: EventPage, *, by_coordinator: bool, now=None, sessions=None
) -> None:
    """Raise when the event takes no sign-up now. Coordinators adding people by
    hand bypass the sign-up window, but not an event without sign-up.
    ``sessions``: the event's sessions soonest first, when already read."""
    if not by_coordinator:
        refusal = registration_refusal(event, now=now, sessions=sessions)
        if refusal:
            raise refusal
    elif event.registration_mode == RegistrationMode.NONE:
        raise registration_refusal(event, now=now)


def _newcomer_status(event: EventPage, places_left: int | None) -> str:
    """What a newcomer would get now: a place, or a waitlist position when the
    event is full; refused ("full") when it is full with no waitlist."""
    if places_left is None or places_left > 0:
        return RegistrationStatus.CONFIRMED
    if event.waitlist_enabled:
        return RegistrationStatus.WAITLISTED
    raise EventsError(_("Sorry, this event is full."), code="full")


def _newcomer(
    event: EventPage,
    places_left: int | None,
    waitlist_next,
    person: dict,
    session: EventSession | None = None,
) -> Registration:
    """An unsaved registration with a fresh manage-link secret: a place, or a
    waitlist position (``waitlist_next()``) when the event (or ``session``,
    for a drop-in) is full."""
    status = _newcomer_status(event, places_left)
    position = None
    if status == RegistrationStatus.WAITLISTED:
        position = waitlist_next()
    return Registration(
        event=event,
        session=session,
        status=status,
        waitlist_position=position,
        **person,
        **_new_token_fields(),
    )


def register(
    *,
    event: EventPage,
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
    refuse_repeat: bool = False,
    user=None,
    by: str | None = None,
    now=None,
    locked: bool = False,
) -> RegistrationResult:
    """Give a person a place, or a waitlist position when the event is full.

    A repeat sign-up (same email, or same phone when no email) changes
    nothing and gets the answer a newcomer would get at that moment (a
    refusal when the event is full with no waitlist), so the answer never
    reveals who is registered; it re-sends the person's email at most once
    a day (``REPEAT_NOTICE_INTERVAL``), so the form cannot flood an inbox.
    Coordinators adding someone by hand bypass the sign-up window but not
    capacity, and may choose ``notify=False`` (no email, e.g. for people
    who already know). ``refuse_repeat`` raises
    instead of answering a repeat (for the admin, which can say who it is).

    ``phone`` is read with ``core.phones.to_e164`` (refused with code
    ``phone_invalid`` when it is not a number anyone could call) and stored
    in E.164; ``call_times`` and ``voicemail_ok`` are kept only with it.

    ``consent`` names the channels (``Channel``) the person agreed to be
    contacted on, recorded with the wording's version (``events.consent``);
    a repeat sign-up changes no consent.

    ``answers`` (question id -> value) are the event's own questions
    answered (``events.questions.record_answers``), saved with a new
    registration only: a repeat sign-up changes no answer.

    A new registration is logged (``events.registration.created``); a public
    sign-up (not ``by_coordinator``) is logged as the participant's own.

    Atomic. With ``locked``, the caller's transaction already holds the
    event's row lock and ``event`` was read under it with at least
    ``RULE_FIELDS`` (the public sign-up view reads it so, in the statement
    that checks it is published): the event is not locked again, and no
    savepoint is made (an error marks the caller's transaction for rollback).
    """
    if locked and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("register(locked=True) runs in the caller's transaction.")
    with transaction.atomic(savepoint=not locked):
        return _register_and_record(
            event=event,
            person=_person(
                name,
                email,
                phone,
                support_needs,
                call_times=call_times,
                voicemail_ok=voicemail_ok,
            ),
            consent=consent,
            answers=answers,
            by_coordinator=by_coordinator,
            notify=notify,
            refuse_repeat=refuse_repeat,
            actor=_actor(by_coordinator, user, by),
            now=now,
            locked=locked,
        )


def _actor(by_coordinator, user, by) -> audit.Actor:
    if not by_coordinator and user is None and by is None:
        by = audit.PARTICIPANT
    return audit.actor(user=user, by=by)


def _register_and_record(
    *,
    event,
    person,
    consent,
    answers,
    by_coordinator,
    notify,
    refuse_repeat,
    actor,
    now,
    locked,
) -> RegistrationResult:
    """``register`` inside its transaction: the place, then its consent,
    answers and audit entry."""
    result = _register(
        event=event,
        person=person,
        by_coordinator=by_coordinator,
        notify=notify,
        refuse_repeat=refuse_repeat,
        now=now,
        locked=locked,
    )
    if result.created:
        registration = result.registration
        record_given(registration, consent)
        record_answers(registration, answers)
        audit.write(
            [_entry(registration, "created", event=registration.event, actor=actor)]
        )
    return result


#: A repeat sign-up re-sends a registration's email at most once this often,
#: so the form cannot be used to flood someone's inbox.
REPEAT_NOTICE_INTERVAL = dt.timedelta(days=1)


def _repeat_notice_due(registration: Registration, *, now=None) -> bool:
    """Whether a repeat sign-up may re-send ``registration``'s email now; if
    so, records that it was sent. Caller holds the event's lock."""
    now = now or timezone.now()
    last = registration.repeat_notice_sent_at
    if last is not None and now - last < REPEAT_NOTICE_INTERVAL:
        return False
    # update(), not save(): the registration itself does not change.
    Registration.objects.filter(pk=registration.pk).update(repeat_notice_sent_at=now)
    registration.repeat_notice_sent_at = now
    return True


def _register(
    *, event, person, by_coordinator, notify, refuse_repeat, now, locked=False
) -> RegistrationResult:
    """``register`` without its audit entry (``move`` writes its own);
    ``locked``: ``event`` was read under its lock already."""
    if not locked:
        event = _lock_event(event)
    sessions, existing, places_left = _sessions_existing_and_places_left(
        event, person["email"], person["phone"]
    )
    _check_open(event, by_coordinator=by_coordinator, now=now, sessions=sessions)
    if event.sign_up_per == SignUpPer.SESSION:
        raise EventsError(
            _("People sign up for single dates of this event: choose a date."),
            code="session_missing",
        )

    if existing and refuse_repeat:
        raise EventsError(
            _("%(name)s is already registered for this event (%(status)s).")
            % {"name": existing.name, "status": existing.get_status_display()},
            code="already_registered",
        )
    if existing:
        if not by_coordinator:
            # A public repeat gets exactly a newcomer's answer at this moment
            # (refused when a newcomer would be), so the form never tells
            # whether someone is registered.
            _newcomer_status(event, places_left)
        if notify and _repeat_notice_due(existing, now=now):
            _notify(existing, _email_kind(existing))
        return RegistrationResult(existing, created=False)

    registration = _newcomer(
        event, places_left, lambda: _next_waitlist_position(event), person
    )
    # One INSERT compiled once per process (``save()`` built and compiled
    # it each time: a fifth of a sign-up's Python). Registration has no
    # ``save()`` of its own and its only ``post_save`` receiver is the
    # public cache's, told here as the batch path tells it.
    insert([registration])
    public_cache.places_changed()
    # A coordinator may record a place at an event that is over: nobody is told.
    if notify and (not by_coordinator or _events_with_sessions_to_come([event.pk])):
        _notify(registration, _email_kind(registration))
    return RegistrationResult(registration, created=True)


class RegistrationBatch:
    """Many people added to events by a coordinator, in one transaction.

    The same rules as ``register(by_coordinator=True)``, for imports: the
    events are locked once, when the first person is added (a batch that
    adds nobody locks nothing), all together in id order (so two batches, or
    a batch and ``move``, cannot deadlock), and read once; each ``add`` then
    decides a
    place or a waitlist position in memory, in the order people are added.
    ``save`` writes the new rows with ``bulk_create`` and queues their emails
    in a few tasks once the transaction commits (``notify=False``: no
    emails; nobody is emailed about an event that is over). The number of
    queries does not grow with the number of people.

    Unlike a public sign-up, adding someone already registered changes
    nothing and sends no email: a coordinator's list is not a request for
    another confirmation. Use inside ``transaction.atomic``, and run other
    workflows on the batch's events inside ``with batch.changing(event):``.

    Each ``save`` logs one ``events.registration.created_in_bulk`` entry per
    event it added people to, on the event's page (its history shows the
    import), with how many, with places and waiting, and their ids; by
    ``user`` and ``by`` as given when the batch was made, else the
    surrounding ``core.audit.acting`` (as an import sets). One entry per
    person would have cost the import about as much again as inserting the
    people, and filled the site history with a line per row.
    """

    def __init__(self, events, *, notify: bool = True, user=None, by=None):
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("RegistrationBatch must run inside transaction.atomic.")
        self._actor = audit.actor(user=user, by=by)
        self._events = {}
        self._confirmed = {}
        self._last_position = {}
        self._people = {}
        self._pending = []
        self._upcoming = set()  # events with sessions still to come
        self.notify = notify
        self._event_ids = [event.pk for event in events]
        self._loaded = False

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True
            self._load(self._event_ids)

    def _load(self, event_ids) -> None:
        """Lock and read ``event_ids``: two queries for any number of events."""
        if not event_ids:
            return
        locked = (
            EventPage.objects.select_for_update(of=("self",))
            .only(*RULE_FIELDS)
            .filter(pk__in=event_ids)
            .order_by("pk")
        )
        for event in locked:
            self._events[event.pk] = event
            self._confirmed[event.pk] = 0
            self._last_position[event.pk] = 0
            self._people[event.pk] = {}
        active = (
            Registration.objects.filter(event_id__in=event_ids)
            .active()
            .only("pk", "event_id", "email", "phone", "status", "waitlist_position")
            .order_by("pk")
        )
        for registration in active:
            self._remember(registration)
        # A place held by an open waitlist offer is taken, as if confirmed.
        for event_id, held in _offers().held_by_event(event_ids).items():
            self._confirmed[event_id] += held
        self._upcoming -= set(event_ids)
        self._upcoming |= set(_events_with_sessions_to_come(event_ids))

    def _remember(self, registration: Registration) -> None:
        event_id = registration.event_id
        if registration.status == RegistrationStatus.CONFIRMED:
            self._confirmed[event_id] += 1
        else:
            self._last_position[event_id] = max(
                self._last_position[event_id], registration.waitlist_position or 0
            )
        key = person_key(registration.email, registration.phone)
        if key:
            self._people[event_id].setdefault(key, registration)

    @contextlib.contextmanager
    def changing(self, event: EventPage):
        """Around another workflow's change to ``event``'s registrations
        (``cancel``, ``promote``): saves what is pending first, and reads the
        event again afterwards."""
        self.save()
        yield
        if self._loaded:
            self._load([event.pk])

    def add(
        self,
        *,
        event: EventPage,
        name: str,
        email: str = "",
        phone: str = "",
        support_needs: str = "",
        call_times: str = "",
        voicemail_ok: bool = False,
        consent: Collection[str] = (),
    ) -> RegistrationResult:
        """A place or a waitlist position for one person (saved by ``save``),
        with consent on the ``consent`` channels."""
        person = _person(
            name,
            email,
            phone,
            support_needs,
            call_times=call_times,
            voicemail_ok=voicemail_ok,
        )
        self._ensure_loaded()
        locked = self._events.get(event.pk)
        if locked is None:
            raise EventsError(
                _("This event is not part of the import."), code="not_in_batch"
            )
        _check_open(locked, by_coordinator=True)
        if locked.sign_up_per == SignUpPer.SESSION:
            raise EventsError(
                _(
                    "People sign up for single dates of this event: "
                    "add them one by one."
                ),
                code="session_missing",
            )
        existing = self._people[event.pk].get(
            person_key(person["email"], person["phone"])
        )
        if existing:
            return RegistrationResult(existing, created=False)

        def next_position():
            self._last_position[event.pk] += 1
            return self._last_position[event.pk]

        places_left = (
            None
            if locked.capacity is None
            else max(locked.capacity - self._confirmed[event.pk], 0)
        )
        registration = _newcomer(locked, places_left, next_position, person)
        registration.consent_channels = tuple(consent)
        self._remember(registration)
        self._pending.append(registration)
        return RegistrationResult(registration, created=True)

    def save(self) -> list[Registration]:
        """Insert the people added since the last save; returns them."""
        created, self._pending = self._pending, []
        if not created:
            return created
        Registration.objects.bulk_create(created)
        public_cache.places_changed()  # bulk_create sends no post_save
        record_given_many((r, r.consent_channels) for r in created)
        audit.write(
            self._summary(self._events[event_id], people)
            for event_id, people in _by_event(created).items()
        )
        if self.notify:
            # Nobody is told of a place at an event that is over.
            to_tell = [r for r in created if r.event_id in self._upcoming]
            for kind in ("confirmed", "waitlisted"):
                _notify_many([r for r in to_tell if _email_kind(r) == kind], kind)
        return created

    def _summary(self, event: EventPage, people: list[Registration]):
        """The audit entry of the people just added to ``event``: counts
        and ids, never who they are."""
        confirmed = sum(r.status == RegistrationStatus.CONFIRMED for r in people)
        return audit.entry(
            event,
            "events.registration.created_in_bulk",
            actor=self._actor,
            title=event.title,
            data={
                "event": event.pk,
                "count": len(people),
                "confirmed": confirmed,
                "waitlisted": len(people) - confirmed,
                "registrations": [r.pk for r in people],
            },
        )


def _by_event(registrations) -> dict[int, list[Registration]]:
    grouped = {}
    for registration in registrations:
        grouped.setdefault(registration.event_id, []).append(registration)
    return grouped


def _events_with_sessions_to_come(event_ids) -> list[int]:
    """Which of ``event_ids`` have a session that has not ended."""
    return list(
        EventSession.objects.filter(event_id__in=event_ids, end__gte=timezone.now())
        .exclude(status=SessionStatus.CANCELLED)
        .values_list("event_id", flat=True)
        .distinct()
    )


def _email_kind(registration: Registration) -> str:
    return {
        RegistrationStatus.CONFIRMED: "confirmed",
        RegistrationStatus.WAITLISTED: "waitlisted",
    }.get(registration.status, "cancelled")


def _promote(
    event: EventPage, *, freed_by: dict, session=None, entries=None
) -> list[Registration]:
    """Move the first waitlisted people into free places. Caller holds the lock.

    With ``session`` (a drop-in event), only that session's waitlist moves
    into that session's places.

    Each is logged as promoted automatically, by the system, with what freed
    the place (``freed_by``: ids and codes only), in one INSERT. An event
    with ``waitlist_offer_hours`` offers the places instead
    (``events.offers``): nobody is promoted yet, so this returns [].
    Given ``entries`` (a list), the promotions' entries are added to it for
    the caller to write with its own, instead of written here.
    """
    if session is None and _offers().offers_on(event):
        _offers().offer_free_places(event, freed_by=freed_by)
        return []
    places = _places_left(event, session)
    waiting = Registration.objects.in_scope(event, session).waitlisted()
    chosen = list(waiting if places is None else waiting[:places])
    for registration in chosen:
        registration.status = RegistrationStatus.CONFIRMED
        registration.waitlist_position = None
        registration.save(update_fields=["status", "waitlist_position", "updated_at"])
        _notify(registration, "promoted")
    if chosen:
        _renumber_waitlist(event, session)
        system = audit.actor(by=audit.SYSTEM)
        promoted = [
            _entry(
                registration,
                "promoted",
                event=event,
                actor=system,
                automatic=True,
                **freed_by,
            )
            for registration in chosen
        ]
        if entries is None:
            audit.write(promoted)
        else:
            entries += promoted
    return chosen


def _cancel(
    registration: Registration, event: EventPage, *, entries=None
) -> tuple[Registration, str]:
    """``cancel`` without its own audit entry (``move`` writes its own); the
    promotions it causes are logged (added to ``entries`` when given, for
    the caller to write). Caller holds the event's lock. Returns the
    cancelled row and the status it had."""
    current = Registration.objects.get(pk=registration.pk)
    if current.status == RegistrationStatus.CANCELLED:
        raise EventsError(
            _("This registration is already cancelled."), code="already_cancelled"
        )
    previous = current.status
    was_confirmed = previous == RegistrationStatus.CONFIRMED
    current.status = RegistrationStatus.CANCELLED
    current.waitlist_position = None
    current.cancelled_at = timezone.now()
    # Only what changed: a full save would encrypt the support needs again.
    current.save(
        update_fields=["status", "waitlist_position", "cancelled_at", "updated_at"]
    )
    _notify(current, "cancelled" if was_confirmed else "left_waitlist")
    current.promoted = []
    if not was_confirmed:
        _renumber_waitlist(event, current.session_id)
    # A place frees, or the place an open offer held for them does.
    if was_confirmed or _offers().close_open_offer(current):
        current.promoted = _promote(
            event,
            freed_by={"freed_by": current.pk},
            session=current.session_id,
            entries=entries,
        )
    return current, previous


@transaction.atomic
def cancel(
    *, registration: Registration, user=None, by: str | None = None
) -> Registration:
    """Cancel a place or leave the waitlist; promotes the next in line.

    The registration returned carries ``promoted``: the people who got the
    place it freed, in order (none when it was a waitlist place). Logged as
    ``events.registration.cancelled`` (a place) or ``.left_waitlist``;
    each promotion has its own entry.
    """
    actor = audit.actor(user=user, by=by)
    event = _lock_event(registration.event_id)  # not .event: never read twice
    entries = []  # the promotions', then the cancellation's: one INSERT
    current, previous = _cancel(registration, event, entries=entries)
    action = (
        "cancelled" if previous == RegistrationStatus.CONFIRMED else "left_waitlist"
    )
    entries.append(_entry(current, action, event=event, actor=actor, was=previous))
    audit.write(entries)
    return current


@transaction.atomic
def promote_waitlist(*, event: EventPage) -> list[Registration]:
    """Fill free places from the waitlist, in order. Returns who was promoted
    (each logged as promoted automatically, by the system)."""
    return _promote_all(_lock_event(event), freed_by={"freed_by": "free_places"})


def _promote_all(event: EventPage, *, freed_by: dict) -> list[Registration]:
    """``_promote`` on the whole series, or on each session with a waitlist
    of a drop-in event. Caller holds the lock."""
    if event.sign_up_per != SignUpPer.SESSION:
        return _promote(event, freed_by=freed_by)
    waiting_on = (
        Registration.objects.filter(event=event, session__isnull=False)
        .waitlisted()
        .order_by("session_id")
        .values_list("session_id", flat=True)
        .distinct()
    )
    promoted = []
    for session_id in list(waiting_on):
        promoted += _promote(event, freed_by=freed_by, session=session_id)
    return promoted


@transaction.atomic
def promote(
    *, registration: Registration, user=None, by: str | None = None
) -> Registration:
    """A coordinator gives a free place to a waitlisted person, out of turn.

    Never over capacity: when the event is full, raise the capacity instead.
    Logged as ``events.registration.promoted``.
    """
    actor = audit.actor(user=user, by=by)
    event = _lock_event(registration.event)
    current = Registration.objects.get(pk=registration.pk)
    if current.status != RegistrationStatus.WAITLISTED:
        raise EventsError(
            _("Only someone on the waitlist can be promoted."), code="not_waitlisted"
        )
    # Someone holding an offer takes the place it holds (the offer is
    # accepted for them, e.g. on the phone).
    _offers().close_open_offer(current, status="accepted")
    if _places_left(event, current.session_id) == 0:
        raise EventsError(
            _(
                "The event is full. Raise its capacity to make room; the waitlist "
                "is then promoted in order."
            ),
            code="full",
        )
    current.status = RegistrationStatus.CONFIRMED
    current.waitlist_position = None
    current.save()
    _notify(current, "promoted")
    _renumber_waitlist(event, current.session_id)
    audit.write(
        [_entry(current, "promoted", event=event, actor=actor, automatic=False)]
    )
    return current


def status_change_refusal(
    *, registration: Registration, status: str
) -> EventsError | None:
    """Why a coordinator's list may not change ``registration`` to
    ``status``, or None: someone with a place is never put back on the
    waitlist (their place would go to the next in line behind their back);
    the place is cancelled instead."""
    if (
        registration.status == RegistrationStatus.CONFIRMED
        and status == RegistrationStatus.WAITLISTED
    ):
        return EventsError(
            _(
                "This person has a place and cannot be put on the waitlist "
                "here. Cancel the place instead, or leave the status as it is."
            ),
            code="cannot_waitlist",
        )
    return None


def change_status(*, registration: Registration, status: str) -> Registration | None:
    """Bring ``registration`` to ``status`` as a coordinator's list asks:
    ``cancel`` for "cancelled", ``promote`` for a waitlisted person given a
    place. Returns the changed registration, or None when it already had
    that status; a change no workflow makes is refused."""
    if status == registration.status:
        return None
    if refusal := status_change_refusal(registration=registration, status=status):
        raise refusal
    if status == RegistrationStatus.CANCELLED:
        return cancel(registration=registration)
    if status == RegistrationStatus.CONFIRMED:
        return promote(registration=registration)
    raise EventsError(
        _("A registration cannot be changed from %(from)s to %(to)s.")
        % {
            "from": registration.get_status_display(),
            "to": dict(RegistrationStatus.choices).get(status, status),
        },
        code="cannot_change_status",
    )


@transaction.atomic
def change_capacity(*, event: EventPage, capacity: int | None, user=None):
    """Set an event's capacity and promote from the waitlist if places opened.

    Publishes a new revision so the page editor shows the new number (its
    page history logs who changed it). Lowering capacity below the confirmed
    count keeps everyone's place. Each promotion is logged as automatic.
    """
    if capacity is not None and capacity < 0:
        raise EventsError(_("Capacity cannot be negative."), code="bad_capacity")
    locked = _lock_event(event)
    page = locked.get_latest_revision_as_object()
    page.capacity = capacity
    page.save_revision(user=user, log_action=True).publish(user=user)
    locked.capacity = capacity
    return _promote_all(locked, freed_by={"freed_by": "capacity"})


@transaction.atomic
def move(
    *,
    registration: Registration,
    to_event: EventPage,
    user=None,
    by: str | None = None,
) -> Registration:
    """Move a person to another event: a place there (or its waitlist), and
    their place here goes to the next in line.

    One entry, ``events.registration.moved``, on the new registration (as
    before these entries were written here), naming the old one; the
    promotions the freed place causes have their own.
    """
    actor = audit.actor(user=user, by=by)
    if registration.event_id == to_event.pk:
        raise EventsError(_("That is the same event."), code="same_event")
    # Lock both events in a fixed order so two opposite moves cannot deadlock.
    first, second = sorted([registration.event, to_event], key=lambda e: e.pk)
    locked = {event.pk: _lock_event(event) for event in (first, second)}
    current = Registration.objects.get(pk=registration.pk)
    if current.status == RegistrationStatus.CANCELLED:
        raise EventsError(
            _("This registration is cancelled."), code="already_cancelled"
        )
    result = _register(
        event=to_event,
        person=_person(
            current.name,
            current.email,
            current.phone,
            current.support_needs,
            call_times=current.call_times,
            voicemail_ok=current.voicemail_ok,
            phone_as_typed=current.phone_as_typed,
        ),
        by_coordinator=True,
        notify=True,
        refuse_repeat=False,
        now=None,
    )
    previous = _cancel(current, locked[current.event_id])[1]
    moved = result.registration
    if result.created:
        carry_over(from_registration=current, to_registration=moved)
    audit.write(
        [
            _entry(
                moved,
                "moved",
                event=locked[to_event.pk],
                actor=actor,
                from_event=current.event_id,
                from_registration=current.pk,
                was=previous,
                already_registered=not result.created,
            )
        ]
    )
    return moved
