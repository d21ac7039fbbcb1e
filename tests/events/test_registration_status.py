"""change_status: a coordinator's list sets a registration's status through
cancel and promote, and never puts someone with a place on the waitlist."""

import pytest

from events.errors import EventsError
from events.models import Registration
from events.registration import change_status, status_change_refusal
from tests.conftest import make_registration_event, sign_up

pytestmark = pytest.mark.django_db


def _fresh(registration):
    return Registration.objects.get(pk=registration.pk)


def test_the_same_status_changes_nothing(event_index):
    sam = sign_up(make_registration_event(event_index))
    assert change_status(registration=sam, status="confirmed") is None
    assert _fresh(sam).status == "confirmed"


def test_cancelled_cancels_and_the_waitlist_moves_up(event_index):
    event = make_registration_event(event_index, capacity=1)
    sam, kim = sign_up(event), sign_up(event, name="Kim")
    assert kim.status == "waitlisted"
    cancelled = change_status(registration=sam, status="cancelled")
    assert cancelled.status == "cancelled" and cancelled.promoted == [kim]
    assert _fresh(kim).status == "confirmed"


def test_confirmed_promotes_someone_waiting(event_index):
    event = make_registration_event(event_index, capacity=1)
    sam, kim = sign_up(event), sign_up(event, name="Kim")
    event.capacity = 2
    event.save()
    assert change_status(registration=kim, status="confirmed").status == "confirmed"
    assert _fresh(sam).status == "confirmed"


def test_someone_with_a_place_is_never_put_on_the_waitlist(event_index):
    sam = sign_up(make_registration_event(event_index))
    refusal = status_change_refusal(registration=sam, status="waitlisted")
    assert refusal.code == "cannot_waitlist"
    with pytest.raises(EventsError) as refused:
        change_status(registration=sam, status="waitlisted")
    assert refused.value.code == "cannot_waitlist"
    assert _fresh(sam).status == "confirmed"


def test_a_change_no_workflow_makes_is_refused(event_index):
    sam = sign_up(make_registration_event(event_index))
    change_status(registration=sam, status="cancelled")
    with pytest.raises(EventsError) as refused:
        change_status(registration=_fresh(sam), status="waitlisted")
    assert refused.value.code == "cannot_change_status"
