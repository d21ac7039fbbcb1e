"""Waitlist offers: a freed place held for the next person for a while.

An event with ``waitlist_offer_hours`` does not give a freed place straight
to the first person waiting (``registration._promote``, the default).
Instead that person gets a ``PlaceOffer`` and a message (``place_offered``:
email at once, a text outside quiet hours, or the call list) with an accept
link and the deadline. They stay on the waitlist until they say yes.

* **Accept** (``accept``) confirms them, under the event's lock, if the offer
  is still open, its deadline has not passed and the event is not over
  capacity (a coordinator may have lowered it; the offer is then withdrawn
  and they keep their place in line).
* **No thanks** (``decline``) takes them off the waitlist, as leaving it
  would, and the place is offered to the next person.
* **Expiry** (``expire_due_offers``, run every ten minutes by
  ``manage.py expire_place_offers``; an accept or decline arriving late
  expires the offer itself): the person keeps waiting but goes to the end
  of the waitlist, and is told (``offer_expired``). A missed message is not
  a "no" (phones get lost, people have bad weeks), so nobody is dropped for
  not answering; moving them back keeps the line fair to those behind them,
  who would otherwise wait out the same deadline again and again. The
  freed place goes to the next person who has not just let an offer lapse:
  someone alone on the list is not offered the same place again at once
  (the next place that frees is offered to them again).

**Counting.** A place held by an open offer is taken: confirmed people plus
people holding an open offer never exceed the capacity, counted from rows
under the event's lock (``Scope.places_taken``; ``registration._places_left``
counts the same way, so a new sign-up never takes a held place). The count
asks a ``Scope`` for its rows and its capacity; today a scope is a whole
event, and per-session sign-up would make it one session.

**Deadlines are fair**: an offer made during quiet hours starts its clock
when they end (the text is held till then), and a deadline that would fall
in quiet hours moves to their end, so nobody has to answer at night
(``deadline``).

**Links**: like the manage link, the accept link's token is derived from
the offer's salt and the site's secret and only its hash is stored; texts
carry a short link (``/o/<code>``) to it. Neither holds personal data.

Audit entries (``events.registration.*``, on the registration, ids and
codes only): ``offered`` (by the system, with what freed the place),
``offer_accepted`` and ``offer_declined`` (by the participant),
``offer_expired`` (by the system). A coordinator's "Give a place" to
someone holding an offer closes it as accepted (``promote``).
"""

import dataclasses
import datetime as dt
import re

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from core import audit, tokens
from core.http import absolute_url

from .errors import EventsError
from .messaging import _base36, _base62, queue_messages, quiet_hours_end
from .models import (
    EventPage,
    MessageKind,
    PlaceOffer,
    PlaceOfferStatus,
    Registration,
    RegistrationStatus,
    SignUpPer,
)
from .registration import (
    _entry,
    _events_with_sessions_to_come,
    _lock_event,
    _notify,
    _notify_many,
    _promote,
    _renumber_waitlist,
)

TOKEN_PURPOSE = "place.offer"
TEXT_LINK_PURPOSE = "offer-text-link"


# Scope and counting ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scope:
    """The places one capacity covers, and the people who may take them.

    That is a whole series: the places people hold for every date (offers
    are not made on drop-in dates, ``offers_on``). Offers per date would add
    a session here and narrow ``registrations`` to it; everything below
    counts through these two methods only.
    """

    event: EventPage

    @property
    def capacity(self) -> int | None:
        return self.event.capacity

    def registrations(self):
        return Registration.objects.in_scope(self.event, None)

    def offers(self):
        return PlaceOffer.objects.filter(registration__event_id=self.event.pk)

    @staticmethod
    def taking_a_place() -> Q:
        """Which of the scope's registrations take a place: confirmed, or
        holding an open offer (for counting in a query of one's own, as
        ``registration._register`` does)."""
        holding = Exists(PlaceOffer.objects.open().filter(registration=OuterRef("pk")))
        return Q(status=RegistrationStatus.CONFIRMED) | Q(holding)

    def places_taken(self) -> int:
        """Confirmed people plus people holding an open offer, in one query.
        Call under the event's lock for a count that holds."""
        return self.registrations().filter(self.taking_a_place()).count()

    def places_free(self) -> int | None:
        """Places neither confirmed nor held by an offer; None for no limit."""
        if self.capacity is None:
            return None
        return max(self.capacity - self.places_taken(), 0)


def held_by_event(event_ids) -> dict[int, int]:
    """How many places open offers hold, per event id (for
    ``RegistrationBatch``, which counts places in memory)."""
    rows = (
        PlaceOffer.objects.open()
        .filter(registration__event_id__in=event_ids)
        .values("registration__event_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["registration__event_id"]: row["count"] for row in rows}


def offers_on(event: EventPage) -> bool:
    """Whether a freed place at ``event`` is offered rather than given. An
    event without a capacity has no places to hold."""
    return (
        bool(event.waitlist_offer_hours)
        and event.capacity is not None
        # Drop-in dates fill from their own waitlists at once: offers hold
        # places of the whole series only.
        and event.sign_up_per != SignUpPer.SESSION
    )


def deadline(now: dt.datetime, hours: int) -> dt.datetime:
    """When an offer made at ``now`` ends: ``hours`` from the end of the
    quiet hours ``now`` falls in (else from now), moved to the end of the
    quiet hours it would fall in."""
    start = quiet_hours_end(now) or now
    ends = start + dt.timedelta(hours=hours)
    return quiet_hours_end(ends) or ends


# Links -----------------------------------------------------------------------


def offer_token(offer: PlaceOffer) -> str:
    return tokens.derive_token(TOKEN_PURPOSE, offer.token_salt)


def _new_token_fields() -> dict:
    salt = tokens.new_salt()
    return {
        "token_salt": salt,
        "token_hash": tokens.hash_token(tokens.derive_token(TOKEN_PURPOSE, salt)),
    }


def find_by_token(token: str) -> PlaceOffer | None:
    """The offer an accept link points to, or None."""
    if not tokens.is_plausible(token):
        return None
    return (
        PlaceOffer.objects.select_related(
            "registration", "registration__event", "registration__event__venue"
        )
        .filter(token_hash=tokens.hash_token(token))
        .first()
    )


def offer_url(offer: PlaceOffer) -> str:
    return absolute_url(reverse("place_offer", args=[offer_token(offer)]))


def short_code(offer: PlaceOffer) -> str:
    """The code of an offer's short link, as ``messaging.short_code`` is
    for the manage link: its id and 60 secret bits."""
    secret = tokens.derive_token(TEXT_LINK_PURPOSE, offer.token_salt)
    return f"{_base36(offer.pk)}-{_base62(int(secret, 16))[:10]}"


def offer_for_short_code(code: str) -> PlaceOffer | None:
    match = re.fullmatch(r"([0-9a-z]{1,12})-([0-9A-Za-z]{10})", code or "")
    if not match:
        return None
    offer = PlaceOffer.objects.filter(pk=int(match[1], 36)).first()
    if offer is None or not offer.token_salt:
        return None
    if not constant_time_compare(short_code(offer), code):
        return None
    return offer


def short_link(offer: PlaceOffer) -> str:
    return absolute_url(reverse("place_offer_short_link", args=[short_code(offer)]))


def open_offer(registration: Registration) -> PlaceOffer | None:
    """The offer ``registration`` holds now, if any."""
    return PlaceOffer.objects.open().filter(registration=registration).first()


def latest_offer(registration: Registration) -> PlaceOffer | None:
    return (
        PlaceOffer.objects.filter(registration=registration)
        .order_by("-created_at", "-pk")
        .first()
    )


# Making offers -----------------------------------------------------------------


def fill(
    event: EventPage, *, freed_by: dict, exclude=(), now=None
) -> list[Registration]:
    """Fill ``event``'s free places from the waitlist: offers when the event
    has them (made at ``now``, default the present), else places at once
    (returns who was promoted). Caller holds the lock."""
    if not offers_on(event):
        return _promote(event, freed_by=freed_by)
    offer_free_places(event, freed_by=freed_by, exclude=exclude, now=now)
    return []


def offer_free_places(
    event: EventPage, *, freed_by: dict, exclude=(), now=None
) -> list[PlaceOffer]:
    """Offer each free place to the next person waiting (by position) who
    holds no offer, except ``exclude`` (ids). Caller holds the lock.

    Each is told (``place_offered``) once the transaction commits and
    logged as ``offered`` by the system, with ``freed_by``. An event with no
    session to come offers nothing: nobody is asked to answer for a group
    that is over (accepting one would be refused anyway).
    """
    now = now or timezone.now()
    scope = Scope(event)
    free = scope.places_free()
    if not free or not _events_with_sessions_to_come([event.pk]):
        return []
    holding = Exists(PlaceOffer.objects.open().filter(registration=OuterRef("pk")))
    chosen = list(
        scope.registrations()
        .waitlisted()
        .filter(~holding)
        .exclude(pk__in=list(exclude))[:free]
    )
    if not chosen:
        return []
    expires_at = deadline(now, event.waitlist_offer_hours)
    offers = [
        PlaceOffer(
            registration=registration,
            created_at=now,
            expires_at=expires_at,
            **_new_token_fields(),
        )
        for registration in chosen
    ]
    PlaceOffer.objects.bulk_create(offers)
    _notify_many(chosen, MessageKind.PLACE_OFFERED)
    system = audit.actor(by=audit.SYSTEM)
    audit.write(
        _entry(
            offer.registration,
            "offered",
            event=event,
            actor=system,
            offer=offer.pk,
            expires_at=offer.expires_at.isoformat(),
            **freed_by,
        )
        for offer in offers
    )
    return offers


def close_open_offer(
    registration: Registration, *, status=PlaceOfferStatus.WITHDRAWN, now=None
) -> bool:
    """Close the offer ``registration`` holds, if any (it cancelled, or a
    coordinator gave it the place); True when there was one. Caller holds
    the lock."""
    return bool(
        PlaceOffer.objects.open()
        .filter(registration=registration)
        .update(status=status, closed_at=now or timezone.now())
    )


# Answering an offer ------------------------------------------------------------

EXPIRED = _(
    "Sorry, the time to accept this place has passed, so it has gone to the "
    "next person waiting. You are still on the waitlist."
)


def _closed_refusal(offer: PlaceOffer) -> EventsError:
    """Why an offer that is no longer open cannot be answered."""
    if offer.status == PlaceOfferStatus.ACCEPTED:
        return EventsError(
            _("You already accepted this place. It is yours."), code="offer_accepted"
        )
    if offer.status == PlaceOfferStatus.DECLINED:
        return EventsError(
            _("You already said no thanks to this place."), code="offer_declined"
        )
    if offer.status == PlaceOfferStatus.EXPIRED:
        return EventsError(str(EXPIRED), code="offer_expired")
    return EventsError(
        _("This offer is no longer open. Nothing has changed about your place."),
        code="offer_withdrawn",
    )


def accept(*, offer: PlaceOffer, now=None) -> Registration:
    """Take the offered place; raises ``EventsError`` (after any change it
    made is saved, e.g. a late answer expiring the offer) when refused."""
    result = _answer(offer, accepting=True, now=now)
    if isinstance(result, EventsError):
        raise result
    return result


def decline(*, offer: PlaceOffer, now=None) -> Registration:
    """Say no thanks: off the waitlist, and the place goes to the next person."""
    result = _answer(offer, accepting=False, now=now)
    if isinstance(result, EventsError):
        raise result
    return result


@transaction.atomic
def _answer(offer: PlaceOffer, *, accepting: bool, now=None):
    """Accept or decline under the event's lock; returns the registration, or
    the refusal (returned, not raised, so what was changed commits)."""
    now = now or timezone.now()
    event = _lock_event(offer.registration.event)
    current = PlaceOffer.objects.select_related("registration").get(pk=offer.pk)
    if current.status != PlaceOfferStatus.OPEN:
        return _closed_refusal(current)
    if now >= current.expires_at:
        _expire(event, [current], now)
        return EventsError(str(EXPIRED), code="offer_expired")
    registration = current.registration
    participant = audit.actor(by=audit.PARTICIPANT)
    if not accepting:
        return _decline(event, current, registration, participant, now)
    if not _events_with_sessions_to_come([event.pk]):
        return EventsError(
            _("This event has already taken place."), code="offer_event_over"
        )
    if event.capacity is not None and Scope(event).places_taken() > event.capacity:
        # The capacity was lowered after the offer was made.
        current.status = PlaceOfferStatus.WITHDRAWN
        current.closed_at = now
        current.save(update_fields=["status", "closed_at"])
        return EventsError(
            _(
                "Sorry, the number of places was lowered since we wrote, so "
                "this place is no longer free. You are still on the waitlist."
            ),
            code="offer_withdrawn",
        )
    registration.status = RegistrationStatus.CONFIRMED
    registration.waitlist_position = None
    registration.save(update_fields=["status", "waitlist_position", "updated_at"])
    current.status = PlaceOfferStatus.ACCEPTED
    current.closed_at = now
    current.save(update_fields=["status", "closed_at"])
    _renumber_waitlist(event)
    _notify(registration, MessageKind.PROMOTED)
    audit.write(
        [
            _entry(
                registration,
                "offer_accepted",
                event=event,
                actor=participant,
                offer=current.pk,
            )
        ]
    )
    return registration


def _decline(event, offer, registration, actor, now) -> Registration:
    offer.status = PlaceOfferStatus.DECLINED
    offer.closed_at = now
    offer.save(update_fields=["status", "closed_at"])
    registration.status = RegistrationStatus.CANCELLED
    registration.waitlist_position = None
    registration.cancelled_at = now
    registration.save(
        update_fields=["status", "waitlist_position", "cancelled_at", "updated_at"]
    )
    _notify(registration, MessageKind.LEFT_WAITLIST)
    _renumber_waitlist(event)
    audit.write(
        [
            _entry(
                registration, "offer_declined", event=event, actor=actor, offer=offer.pk
            )
        ]
    )
    fill(event, freed_by={"freed_by": "offer_declined", "declined_offer": offer.pk})
    return registration


# Expiry ------------------------------------------------------------------------


def _expire(event: EventPage, offers, now) -> None:
    """Close ``offers`` as expired, move their people to the end of the
    waitlist (in the order their offers were made), tell them, and offer
    the places to the next people. Caller holds the lock."""
    if not offers:
        return
    last = (
        Scope(event)
        .registrations()
        .waitlisted()
        .order_by("-waitlist_position")
        .values_list("waitlist_position", flat=True)
        .first()
    ) or 0
    people = []
    for position, offer in enumerate(offers, start=last + 1):
        offer.status = PlaceOfferStatus.EXPIRED
        offer.closed_at = now
        offer.save(update_fields=["status", "closed_at"])
        Registration.objects.filter(pk=offer.registration_id).update(
            waitlist_position=position, updated_at=now
        )
        people.append(offer.registration_id)
    _renumber_waitlist(event)
    queue_messages(people, MessageKind.OFFER_EXPIRED)
    system = audit.actor(by=audit.SYSTEM)
    registrations = Registration.objects.in_bulk(people)
    audit.write(
        _entry(
            registrations[offer.registration_id],
            "offer_expired",
            event=event,
            actor=system,
            offer=offer.pk,
        )
        for offer in offers
    )
    # The next offers start when these ended, so a run for a moment (the
    # expiry job's ``now``) never finds its own new offers already due.
    fill(event, freed_by={"freed_by": "offer_expired"}, exclude=people, now=now)


def expire_due_offers(*, now=None) -> int:
    """Expire every open offer past its deadline and pass its place on;
    returns how many expired.

    Each event is done in its own transaction under its lock, re-reading
    its offers there: two runs at once (or a run and a late accept) find
    each offer open once, so running it twice changes nothing more.
    """
    now = now or timezone.now()
    event_ids = list(
        PlaceOffer.objects.open()
        .filter(expires_at__lte=now)
        .values_list("registration__event_id", flat=True)
        .order_by("registration__event_id")
        .distinct()
    )
    expired = 0
    for event_id in event_ids:
        with transaction.atomic():
            event = _lock_event(EventPage(pk=event_id))
            due = list(
                Scope(event)
                .offers()
                .open()
                .filter(expires_at__lte=now)
                .order_by("created_at", "pk")
            )
            _expire(event, due, now)
            expired += len(due)
    return expired
