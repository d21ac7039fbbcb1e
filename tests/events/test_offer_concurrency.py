"""Waitlist offers racing on real PostgreSQL connections: accepts against
the expiry job, and against cancellations and sign-ups.

Each thread has its own connection, so only the event's row lock (taken by
``events.offers`` as by every registration workflow) keeps the numbers
right: never more confirmed people and open offers than places, each held
place offered to one person at a time, the waitlist numbered 1..n.
"""

import datetime as dt
import time

import pytest

from events import offers
from events import registration as workflows
from events.errors import EventsError
from events.models import (
    PlaceOffer,
    PlaceOfferStatus,
    Registration,
    RegistrationStatus,
)
from tests.conftest import make_event_index, make_registration_event
from tests.events.test_concurrency import _run_at_once, _signup_job

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CAPACITY = 5
WAITING = 20
ROUNDS = 3


@pytest.fixture
def index(home_page):
    return make_event_index(home_page)


def _full_event(index):
    """An event with offers on, full, and ``WAITING`` people waiting."""
    event = make_registration_event(index, capacity=CAPACITY, waitlist_offer_hours=24)
    people = [
        workflows.register(event=event, name=f"P{i}", email=f"p{i}@example.org")
        for i in range(CAPACITY + WAITING)
    ]
    return event, [result.registration for result in people]


def offer_problems(event):
    """Everything wrong with an event's places and offers, as readable lines."""
    problems = []
    rows = Registration.objects.filter(event=event)
    confirmed = rows.filter(status=RegistrationStatus.CONFIRMED).count()
    open_offers = PlaceOffer.objects.open().filter(registration__event=event)
    held = open_offers.count()
    if confirmed + held > event.capacity:
        problems.append(f"{confirmed} confirmed + {held} offers > {event.capacity}")
    holders = list(open_offers.values_list("registration_id", flat=True))
    if len(holders) != len(set(holders)):
        problems.append(f"someone holds two open offers: {holders}")
    not_waiting = open_offers.exclude(
        registration__status=RegistrationStatus.WAITLISTED
    )
    if not_waiting.exists():
        problems.append(f"{not_waiting.count()} open offers to people not waiting")
    positions = list(rows.waitlisted().values_list("waitlist_position", flat=True))
    if positions != list(range(1, len(positions) + 1)):
        problems.append(f"waitlist positions not 1..n: {positions}")
    for offer in PlaceOffer.objects.filter(registration__event=event).exclude(
        status=PlaceOfferStatus.OPEN
    ):
        if offer.closed_at is None:
            problems.append(f"offer {offer.pk} closed without a time")
    accepted = PlaceOffer.objects.filter(
        registration__event=event, status=PlaceOfferStatus.ACCEPTED
    )
    if accepted.exclude(registration__status=RegistrationStatus.CONFIRMED).exists():
        problems.append("an accepted offer without a place")
    return problems


def _accept_job(offer, now):
    def job():
        try:
            offers.accept(offer=offer, now=now)
        except EventsError:
            pass  # refused: expired first, or already answered

    return job


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_accepts_racing_the_expiry_job_keep_the_invariants(index, round_number):
    event, people = _full_event(index)
    for person in people[:CAPACITY]:
        workflows.cancel(registration=person)
    first = list(PlaceOffer.objects.open().filter(registration__event=event))
    assert len(first) == CAPACITY
    # The job runs at the first offers' deadline; their people answer a
    # moment before it (each may win or lose the race for the lock).
    deadline = max(offer.expires_at for offer in first)
    jobs = [_accept_job(offer, deadline - dt.timedelta(seconds=1)) for offer in first]
    jobs += [lambda: offers.expire_due_offers(now=deadline) for _ in range(3)]

    errors = _run_at_once(jobs)

    assert errors == []
    assert offer_problems(event) == []
    statuses = {offer.pk: PlaceOffer.objects.get(pk=offer.pk).status for offer in first}
    accepted = [pk for pk, status in statuses.items() if status == "accepted"]
    expired = [pk for pk, status in statuses.items() if status == "expired"]
    # Each first offer ended exactly one way, once.
    assert len(accepted) + len(expired) == CAPACITY
    confirmed = Registration.objects.filter(event=event).confirmed().count()
    assert confirmed == len(accepted)
    # Every place is either taken or offered to exactly one other person.
    assert (
        confirmed + PlaceOffer.objects.open().filter(registration__event=event).count()
        == CAPACITY
    )
    # The expiry of each expired offer was logged once.
    from wagtail.models import ModelLogEntry

    assert ModelLogEntry.objects.filter(
        action="events.registration.offer_expired"
    ).count() == len(expired)


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_accepts_racing_cancellations_and_sign_ups_keep_the_invariants(
    index, round_number
):
    event, people = _full_event(index)
    for person in people[:3]:
        workflows.cancel(registration=person)
    held = list(PlaceOffer.objects.open().filter(registration__event=event))
    assert len(held) == 3

    jobs = [_accept_job(offer, None) for offer in held[:2]]
    # The third holder says no while others cancel.
    jobs.append(lambda: offers.decline(offer=held[2]))
    # Two people with a place cancel; two waiting without an offer leave.
    jobs += [lambda r=r: workflows.cancel(registration=r) for r in people[3:5]]
    jobs += [lambda r=r: workflows.cancel(registration=r) for r in people[-2:]]
    jobs += [_signup_job(event, i) for i in range(4)]

    errors = _run_at_once(jobs)

    assert errors == []
    assert offer_problems(event) == []
    confirmed = Registration.objects.filter(event=event).confirmed().count()
    open_count = PlaceOffer.objects.open().filter(registration__event=event).count()
    assert confirmed + open_count == CAPACITY
    assert confirmed == 2  # the two accepts; everyone else with a place left
    # Newcomers never took a held place.
    assert not Registration.objects.filter(
        event=event, name__startswith="Person", status=RegistrationStatus.CONFIRMED
    ).exists()


def test_control_without_the_lock_offers_too_many_places(index, monkeypatch):
    """With the row lock removed from cancellations and offers, the same
    load must break the invariants (or trip the one-open-offer constraint)."""
    counted = offers.Scope.places_taken

    def slow_places_taken(self):
        taken = counted(self)
        time.sleep(0.02)  # widen the gap between counting and offering
        return taken

    def unlocked(event):
        from events.models import EventPage

        return EventPage.objects.only(*workflows.RULE_FIELDS).get(pk=event.pk)

    monkeypatch.setattr(workflows, "_lock_event", unlocked)
    monkeypatch.setattr(offers, "_lock_event", unlocked)
    monkeypatch.setattr(offers.Scope, "places_taken", slow_places_taken)

    found = []
    for _ in range(ROUNDS):
        event, people = _full_event(index)
        jobs = [lambda r=r: workflows.cancel(registration=r) for r in people[:3]]
        jobs += [_signup_job(event, i) for i in range(6)]
        errors = _run_at_once(jobs)
        found += offer_problems(event) + [type(e).__name__ for e in errors]
    assert found, "the race did not show without the lock"
