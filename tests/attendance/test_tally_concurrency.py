"""Attendance written for one session from many connections at once keeps
the reports' stored counts (``attendance.tallies``) right, on PostgreSQL.

Each rewrite of a session's tally deletes its row and inserts it again from
the records. Without the row locks ``tallies._lock`` takes, two at once
insert the same row (a duplicate key, so a failed save) or count without
each other's record. The control run removes the locks and must break,
which proves the test can fail.
"""

import time

import pytest
from django.db import transaction

from attendance import tallies
from attendance.models import AttendanceRecord, AttendanceStatus, SessionTally
from tests.conftest import make_event_index, make_registration_event, sign_up
from tests.events.test_concurrency import _run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PEOPLE = 12


def _check_in(session, registration):
    def job():
        with transaction.atomic():
            AttendanceRecord.objects.create(
                session=session,
                registration=registration,
                status=AttendanceStatus.PRESENT,
            )
            # Hold the transaction open a moment after the tally's rewrite,
            # as a save of a whole register does, so the rewrites overlap.
            time.sleep(0.05)

    return job


def _race(home_page):
    event = make_registration_event(
        make_event_index(home_page), capacity=PEOPLE, title="Busy group"
    )
    session = event.sessions.get()
    people = [sign_up(event, f"Person {i}") for i in range(PEOPLE)]
    errors = _run_at_once([_check_in(session, person) for person in people])
    return session, errors


def test_check_ins_at_once_keep_the_stored_counts(home_page):
    session, errors = _race(home_page)

    assert errors == []
    assert AttendanceRecord.objects.filter(session=session).count() == PEOPLE
    tally = SessionTally.objects.get(session=session)
    assert (tally.registrants_attended, tally.records) == (PEOPLE, PEOPLE)
    assert tallies.differences() == {"session tallies": 0, "participant spans": 0}


def test_without_the_locks_check_ins_at_once_break_the_counts(home_page, monkeypatch):
    monkeypatch.setattr(tallies, "_lock", lambda *args, **kwargs: None)
    session, errors = _race(home_page)

    saved = AttendanceRecord.objects.filter(session=session).count()
    assert errors or saved < PEOPLE or any(tallies.differences().values())
