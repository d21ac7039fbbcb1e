"""Sign-ups, cancellations and weekly series racing on real PostgreSQL
connections.

Each worker thread has its own database connection, so the event row lock in
``events.registration`` is what keeps the numbers right (and keeps a weekly
series added twice at once from listing its dates twice). A control run with
the lock removed must break the invariants, which proves these tests can
fail.
"""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction

from events import registration as workflows
from events import sessions as session_workflows
from events.errors import EventsError
from events.models import EventPage, EventSession, Registration, RegistrationStatus
from tests.conftest import make_event, make_event_index, make_registration_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CAPACITY = 10
PEOPLE = 50
ROUNDS = 3


def _run_at_once(jobs):
    """Start every job at the same moment, each on its own connection."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def worker(job):
        try:
            barrier.wait()
            job()
        except Exception as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _signup_job(event, i):
    return lambda: workflows.register(
        event=event, name=f"Person {i}", email=f"person{i}-{event.pk}@example.org"
    )


def invariant_problems(event):
    """Everything wrong with an event's registrations, as readable lines."""
    problems = []
    confirmed = Registration.objects.filter(
        event=event, status=RegistrationStatus.CONFIRMED
    ).count()
    if event.capacity is not None and confirmed > event.capacity:
        problems.append(f"{confirmed} confirmed for {event.capacity} places")
    positions = list(
        Registration.objects.filter(event=event)
        .waitlisted()
        .values_list("waitlist_position", flat=True)
    )
    if positions != list(range(1, len(positions) + 1)):
        problems.append(f"waitlist positions not 1..n: {positions}")
    if positions and confirmed < (event.capacity or 0):
        problems.append(f"{len(positions)} waiting while {confirmed} confirmed")
    return problems


@pytest.fixture
def index(home_page):
    return make_event_index(home_page)


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_fifty_simultaneous_sign_ups_for_ten_places(index, round_number):
    event = make_registration_event(index, capacity=CAPACITY)

    errors = _run_at_once([_signup_job(event, i) for i in range(PEOPLE)])

    assert errors == []
    rows = Registration.objects.filter(event=event)
    assert rows.filter(status="confirmed").count() == CAPACITY
    assert sorted(
        rows.filter(status="waitlisted").values_list("waitlist_position", flat=True)
    ) == list(range(1, PEOPLE - CAPACITY + 1))
    assert invariant_problems(event) == []


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_cancellations_racing_sign_ups_keep_the_invariants(index, round_number):
    event = make_registration_event(index, capacity=CAPACITY)
    first = [
        workflows.register(event=event, name=f"Early {i}", email=f"e{i}@example.org")
        for i in range(20)
    ]
    leaving = [result.registration for result in first[::2]]  # 5 confirmed, 5 waiting

    jobs = [lambda r=r: workflows.cancel(registration=r) for r in leaving]
    jobs += [_signup_job(event, i) for i in range(20)]
    errors = _run_at_once(jobs)

    assert errors == []
    assert invariant_problems(event) == []
    confirmed = Registration.objects.filter(event=event, status="confirmed").count()
    waiting = Registration.objects.filter(event=event, status="waitlisted").count()
    assert confirmed == CAPACITY
    assert confirmed + waiting == 20 - len(leaving) + 20


def _import_job(event, people, tag):
    """A coordinator's import of ``people`` new people, in one transaction."""

    def job():
        with transaction.atomic():
            batch = workflows.RegistrationBatch([event], notify=False)
            for i in range(people):
                batch.add(
                    event=event,
                    name=f"Imported {tag}{i}",
                    email=f"{tag}{i}@example.org",
                )
            batch.save()

    return job


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_imports_racing_sign_ups_keep_the_invariants(index, round_number):
    event = make_registration_event(index, capacity=CAPACITY)

    jobs = [_import_job(event, 8, "a"), _import_job(event, 8, "b")]
    jobs += [_signup_job(event, i) for i in range(16)]
    errors = _run_at_once(jobs)

    assert errors == []
    assert invariant_problems(event) == []
    rows = Registration.objects.filter(event=event)
    assert rows.filter(status="confirmed").count() == CAPACITY
    assert rows.count() == 32


def test_control_without_the_lock_overbooks(index, monkeypatch):
    """With the row lock removed, the same load must break the invariant."""

    def unlocked(event):
        return EventPage.objects.get(pk=event.pk)

    counted = workflows._places_left

    def slow_places_left(event):
        places = counted(event)
        time.sleep(0.005)  # widen the gap between counting and inserting
        return places

    monkeypatch.setattr(workflows, "_lock_event", unlocked)
    monkeypatch.setattr(workflows, "_places_left", slow_places_left)

    found = []
    for _ in range(ROUNDS):
        event = make_registration_event(index, capacity=CAPACITY)
        _run_at_once([_signup_job(event, i) for i in range(PEOPLE)])
        found += invariant_problems(event)
    assert found, "the race did not show without the lock"


def _series_job(event):
    """A coordinator adding six Tuesdays from 23 February 2027 at 6 pm."""
    return lambda: session_workflows.generate_weekly_series(
        event=event,
        first_date=dt.date(2027, 2, 23),
        start_time=dt.time(18),
        end_time=dt.time(19, 30),
        weeks=6,
    )


def _series_problems(event):
    starts = list(event.sessions.values_list("start", flat=True))
    if len(starts) != len(set(starts)):
        return [f"{len(starts)} sessions for {len(set(starts))} starts"]
    return []


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_the_same_series_added_at_once_is_created_once(index, round_number):
    event = make_event(index)

    errors = _run_at_once([_series_job(event) for _ in range(4)])

    assert _series_problems(event) == []
    assert event.sessions.count() == 6
    assert [e.code for e in errors if isinstance(e, EventsError)] == [
        "already_scheduled"
    ] * 3
    assert len(errors) == 3


def test_control_without_the_lock_duplicates_a_series(index, monkeypatch):
    """With the row lock removed, adding a series at once must list dates twice."""
    bulk_create = EventSession.objects.bulk_create

    def slow_bulk_create(*args, **kwargs):
        time.sleep(0.05)  # widen the gap between checking and inserting
        return bulk_create(*args, **kwargs)

    monkeypatch.setattr(session_workflows, "_lock_event", lambda event: event)
    monkeypatch.setattr(EventSession.objects, "bulk_create", slow_bulk_create)

    found = []
    for _ in range(ROUNDS):
        event = make_event(index)
        _run_at_once([_series_job(event) for _ in range(4)])
        found += _series_problems(event)
    assert found, "the race did not show without the lock"
