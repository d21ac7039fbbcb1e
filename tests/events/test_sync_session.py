"""sync_session: bringing an imported session to the file's times, place and
status, as the schedule spreadsheet (the coordinator's plan) and a partner's
calendar (where Gather's own cancellations win) each need it. Every change
keeps the session's calendar UID and raises its SEQUENCE."""

import datetime as dt

import pytest

from events.errors import EventsError
from events.models import EventSession, SessionStatus
from events.sessions import SessionSync, cancel_session, sync_session
from tests.conftest import make_event, make_session, make_venue

pytestmark = pytest.mark.django_db

#: What each import passes for the choices the file and Gather may disagree on.
PLAN = {"reinstate": True, "move_when_cancelling": True}
CALENDAR = {"reinstate": False, "move_when_cancelling": False}


@pytest.fixture
def session(event_index):
    return make_session(make_event(event_index))


def _sync(session, *, hours_later=0, venue=None, cancelled=False, **policy):
    later = dt.timedelta(hours=hours_later)
    return sync_session(
        session=session,
        start=session.start + later,
        end=session.end + later,
        venue=venue,
        cancelled=cancelled,
        **policy,
    )


def _fresh(session):
    return EventSession.objects.get(pk=session.pk)


@pytest.mark.parametrize("policy", [PLAN, CALENDAR])
def test_nothing_changes_when_the_file_agrees(session, policy):
    assert _sync(session, **policy) == SessionSync()
    assert (_fresh(session).status, _fresh(session).sequence) == ("scheduled", 0)


@pytest.mark.parametrize("policy", [PLAN, CALENDAR])
def test_a_moved_session_keeps_its_uid_and_raises_its_sequence(session, policy):
    done = _sync(session, hours_later=1, **policy)
    moved = _fresh(session)
    assert done == SessionSync(moved=True)
    assert (moved.uid, moved.status, moved.sequence) == (session.uid, "moved", 1)
    assert moved.start == session.start + dt.timedelta(hours=1)


@pytest.mark.parametrize("policy", [PLAN, CALENDAR])
def test_a_cancelled_session_keeps_its_uid_and_raises_its_sequence(session, policy):
    assert _sync(session, cancelled=True, **policy) == SessionSync(cancelled=True)
    cancelled = _fresh(session)
    assert (cancelled.uid, cancelled.status, cancelled.sequence) == (
        session.uid,
        "cancelled",
        1,
    )
    # Already cancelled: nothing more happens.
    assert _sync(cancelled, cancelled=True, **policy) == SessionSync()
    assert _fresh(session).sequence == 1


def test_the_plan_reinstates_a_cancelled_session(session):
    cancel_session(session=session)
    done = _sync(_fresh(session), **PLAN)
    reinstated = _fresh(session)
    assert done == SessionSync(reinstated=True)
    assert (reinstated.uid, reinstated.status, reinstated.sequence) == (
        session.uid,
        "scheduled",
        2,
    )


def test_the_plan_reinstates_then_moves(session):
    cancel_session(session=session)
    done = _sync(_fresh(session), hours_later=1, **PLAN)
    assert done == SessionSync(reinstated=True, moved=True)
    assert (_fresh(session).status, _fresh(session).sequence) == ("moved", 3)


def test_the_plan_moves_a_session_it_cancels(session):
    """A row is the whole session: it takes the row's times as well, so
    importing the same row again changes nothing."""
    done = _sync(session, hours_later=1, cancelled=True, **PLAN)
    assert done == SessionSync(moved=True, cancelled=True)
    changed = _fresh(session)
    assert changed.start == session.start + dt.timedelta(hours=1)
    assert (changed.status, changed.sequence) == ("cancelled", 2)
    assert _sync(changed, cancelled=True, **PLAN) == SessionSync()


def test_the_plan_cannot_move_a_session_that_stays_cancelled(session):
    cancel_session(session=session)
    with pytest.raises(EventsError) as refused:
        _sync(_fresh(session), hours_later=1, cancelled=True, **PLAN)
    assert refused.value.code == "session_cancelled"


def test_a_calendar_leaves_a_session_cancelled_in_gather_as_it_is(session):
    cancel_session(session=session)
    assert _sync(_fresh(session), **CALENDAR) == SessionSync()
    assert _sync(_fresh(session), hours_later=1, **CALENDAR) == SessionSync()
    left = _fresh(session)
    assert (left.status, left.sequence, left.start) == (
        "cancelled",
        1,
        session.start,
    )


def test_a_calendar_only_cancels_a_cancelled_date(session):
    done = _sync(session, hours_later=1, cancelled=True, **CALENDAR)
    cancelled = _fresh(session)
    assert done == SessionSync(cancelled=True)
    assert (cancelled.start, cancelled.status, cancelled.sequence) == (
        session.start,
        "cancelled",
        1,
    )


def test_a_session_at_the_event_s_venue_is_in_the_same_place_named_or_not(
    event_index,
):
    hall = make_venue(name="Hall")
    session = make_session(make_event(event_index, venue=hall), venue=hall)
    assert _sync(session, event_venue_id=hall.pk, **PLAN) == SessionSync()
    assert _fresh(session).venue == hall

    annex = make_venue(name="Annex")
    assert _sync(session, venue=annex, **PLAN) == SessionSync(moved=True)
    assert (_fresh(session).venue, _fresh(session).status) == (annex, "moved")


def test_a_moved_session_given_its_own_venue_keeps_it(event_index):
    annex = make_venue(name="Annex")
    session = make_session(make_event(event_index), venue=annex)
    _sync(session, hours_later=1, venue=annex, **CALENDAR)
    assert _fresh(session).venue == annex
    assert SessionStatus.MOVED == _fresh(session).status
