"""Drop-in sign-ups racing on real PostgreSQL connections: many people
after the same date while others take other dates of the same event.

As in ``test_concurrency``, each worker thread has its own connection, so
the event's row lock in ``events.drop_in.register_sessions`` is what keeps
each date's numbers right; a control run without the lock must overbook.
"""

import datetime as dt
import time

import pytest
from django.utils import timezone

from events import drop_in
from events.models import Registration, RegistrationStatus
from tests.conftest import make_event, make_event_index, make_session
from tests.events.test_concurrency import _run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CAPACITY = 10
PEOPLE = 50
OTHERS = 6  # each takes the two other dates
ROUNDS = 2


@pytest.fixture
def index(home_page):
    return make_event_index(home_page)


def _drop_in(index):
    event = make_event(
        index,
        registration_mode="required",
        capacity=CAPACITY,
        sign_up_per="session",
    )
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    sessions = [
        make_session(
            event,
            start=timezone.make_aware(
                dt.datetime.combine(tomorrow + dt.timedelta(weeks=week), dt.time(18))
            ),
        )
        for week in range(3)
    ]
    return event, sessions


def _job(event, sessions, tag):
    return lambda: drop_in.register_sessions(
        event=event,
        session_ids=[s.pk for s in sessions],
        name=f"Person {tag}",
        email=f"{tag}-{event.pk}@example.org",
    )


def session_problems(session, capacity):
    """Everything wrong with one date's places and waitlist."""
    rows = Registration.objects.filter(session=session)
    confirmed = rows.filter(status=RegistrationStatus.CONFIRMED).count()
    positions = sorted(
        rows.filter(status=RegistrationStatus.WAITLISTED).values_list(
            "waitlist_position", flat=True
        )
    )
    problems = []
    if confirmed > capacity:
        problems.append(f"{confirmed} confirmed for {capacity} places")
    if positions != list(range(1, len(positions) + 1)):
        problems.append(f"waitlist positions not 1..n: {positions}")
    return problems


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_fifty_at_once_for_one_date_while_others_take_other_dates(index, round_number):
    event, (busy, second, third) = _drop_in(index)
    jobs = [_job(event, [busy], f"busy{i}") for i in range(PEOPLE)]
    jobs += [_job(event, [second, third], f"other{i}") for i in range(OTHERS)]

    started = time.perf_counter()
    errors = _run_at_once(jobs)
    took = time.perf_counter() - started

    assert errors == []
    rows = Registration.objects.filter(session=busy)
    confirmed = rows.filter(status="confirmed").count()
    waiting = sorted(
        rows.filter(status="waitlisted").values_list("waitlist_position", flat=True)
    )
    print(  # noqa: T201 - the figures, shown with -s
        f"\ndrop-in race: {confirmed} confirmed, {len(waiting)} waitlisted "
        f"(positions {waiting[0]}..{waiting[-1]}) on the busy date, "
        f"{len(jobs)} sign-ups in {took:.2f}s"
    )
    assert confirmed == CAPACITY
    assert waiting == list(range(1, PEOPLE - CAPACITY + 1))
    for other in (second, third):
        assert (
            Registration.objects.filter(session=other, status="confirmed").count()
            == OTHERS
        )
        assert not Registration.objects.filter(
            session=other, status="waitlisted"
        ).exists()
    for session in (busy, second, third):
        assert session_problems(session, CAPACITY) == []


def test_control_without_the_lock_overbooks_a_date(index, monkeypatch):
    """With the row lock removed, the same load must break the invariant."""
    from events.models import EventPage

    counted = drop_in._places_left

    def unlocked(event):
        return EventPage.objects.get(pk=event.pk)

    def slow_places_left(event, session=None):
        places = counted(event, session)
        time.sleep(0.005)  # widen the gap between counting and inserting
        return places

    monkeypatch.setattr(drop_in, "_lock_event", unlocked)
    monkeypatch.setattr(drop_in, "_places_left", slow_places_left)

    found = []
    for _ in range(ROUNDS):
        event, (busy, *_rest) = _drop_in(index)
        _run_at_once([_job(event, [busy], f"c{i}") for i in range(PEOPLE)])
        found += session_problems(busy, CAPACITY)
    assert found, "the race did not show without the lock"
