"""The registration workflows: places, waitlist order, refusals, tokens."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from events.errors import EventsError
from events.models import Registration, RegistrationStatus
from events.registration import (
    cancel,
    change_capacity,
    find_by_token,
    manage_token,
    move,
    promote,
    promote_waitlist,
    register,
)
from events.sessions import cancel_session
from tests.conftest import make_event, make_registration_event, make_session, sign_up

pytestmark = pytest.mark.django_db


def _statuses(event):
    rows = Registration.objects.filter(event=event).order_by("pk")
    return [(r.name, r.status, r.waitlist_position) for r in rows]


def _waitlist(event):
    return [
        (r.name, r.waitlist_position)
        for r in Registration.objects.filter(event=event).waitlisted()
    ]


def test_confirms_until_full_then_waitlists_in_order(event_index):
    event = make_registration_event(event_index, capacity=2)
    for name in ["Ana", "Ben", "Cy", "Di"]:
        sign_up(event, name)
    assert _statuses(event) == [
        ("Ana", "confirmed", None),
        ("Ben", "confirmed", None),
        ("Cy", "waitlisted", 1),
        ("Di", "waitlisted", 2),
    ]


def test_full_without_waitlist_is_refused(event_index):
    event = make_registration_event(event_index, capacity=1, waitlist=False)
    sign_up(event, "Ana")
    with pytest.raises(EventsError) as error:
        sign_up(event, "Ben")
    assert error.value.code == "full"
    assert Registration.objects.count() == 1


def test_no_capacity_means_no_limit(event_index):
    event = make_registration_event(event_index, capacity=None)
    for i in range(5):
        sign_up(event, f"P{i}")
    assert event.registrations.confirmed().count() == 5


def test_repeat_sign_up_adds_no_row_and_resends_the_same_email(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = register(event=event, name="Ana", email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        again = register(event=event, name="Ana B", email="ANA@example.org")
    assert (first.created, again.created) == (True, False)
    assert again.registration.pk == first.registration.pk
    assert Registration.objects.count() == 1
    assert [m.subject for m in mail.outbox] == ["Your place is booked"] * 2


def test_repeat_phone_only_sign_up_is_recognised(event_index):
    event = make_registration_event(event_index)
    register(event=event, name="Ana", phone="(416) 555-0100")
    result = register(event=event, name="Ana", phone="416 555 0100")
    assert not result.created
    assert Registration.objects.count() == 1


def test_needs_a_name_and_a_way_to_reach_the_person(event_index):
    event = make_registration_event(event_index)
    with pytest.raises(EventsError) as error:
        register(event=event, name="Ana")
    assert error.value.code == "no_contact"
    with pytest.raises(EventsError) as error:
        register(event=event, name="  ", email="a@example.org")
    assert error.value.code == "name_missing"


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"registration_mode": "none"}, "no_registration"),
        ({"publish": False}, "not_published"),
        ({"opens_in_days": 2}, "not_open_yet"),
        ({"closed_days_ago": 1}, "closed"),
        ({"past": True}, "past"),
        ({"all_cancelled": True}, "cancelled"),
    ],
)
def test_refusals(event_index, setup, code):
    now = timezone.now()
    fields = {
        "registration_mode": setup.get("registration_mode", "required"),
        "capacity": 5,
        "publish": setup.get("publish", True),
    }
    if "opens_in_days" in setup:
        fields["registration_opens_at"] = now + dt.timedelta(
            days=setup["opens_in_days"]
        )
    if "closed_days_ago" in setup:
        fields["registration_closes_at"] = now - dt.timedelta(days=1)
    event = make_event(event_index, **fields)
    start = now - dt.timedelta(days=3) if setup.get("past") else None
    session = make_session(event, start=start)
    if setup.get("all_cancelled"):
        cancel_session(session=session)

    with pytest.raises(EventsError) as error:
        sign_up(event)
    assert error.value.code == code
    assert not Registration.objects.exists()


def test_sign_up_closes_when_first_session_starts_by_default(event_index):
    event = make_event(event_index, registration_mode="required")
    started = make_session(event, start=timezone.now() - dt.timedelta(minutes=5))
    make_session(event, start=started.start + dt.timedelta(days=7))
    with pytest.raises(EventsError) as error:
        sign_up(event)
    assert error.value.code == "closed"


def test_coordinator_can_add_outside_the_window_but_not_over_capacity(event_index):
    event = make_registration_event(
        event_index,
        capacity=1,
        waitlist=False,
        registration_closes_at=timezone.now() - dt.timedelta(hours=1),
    )
    sign_up(event, "Ana", by_coordinator=True)
    with pytest.raises(EventsError) as error:
        sign_up(event, "Ben", by_coordinator=True)
    assert error.value.code == "full"


def test_cancelling_a_place_promotes_the_first_waiting_and_keeps_positions_contiguous(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=2)
    ana, _, cy, di, ed = (sign_up(event, n) for n in ["Ana", "Ben", "Cy", "Di", "Ed"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cancel(registration=ana)

    cy.refresh_from_db()
    assert (cy.status, cy.waitlist_position) == ("confirmed", None)
    assert _waitlist(event) == [("Di", 1), ("Ed", 2)]
    assert event.registrations.confirmed().count() == 2
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == sorted(
        [
            "Your place is cancelled",
            "Good news, a place opened up",
        ]
    )
    assert mail.outbox[
        [m.to for m in mail.outbox].index([cy.email])
    ].subject.startswith("Good news")


def test_leaving_the_waitlist_closes_the_gap_and_says_so(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=1)
    _, _, cy, _ = (sign_up(event, n) for n in ["Ana", "Ben", "Cy", "Di"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancel(registration=cy)
    assert _waitlist(event) == [("Ben", 1), ("Di", 2)]
    [message] = mail.outbox
    assert message.subject == "You have left the waitlist"
    assert "You have left the waitlist" in message.body
    assert "place" not in message.subject


def test_cancel_twice_is_refused(event_index):
    event = make_registration_event(event_index)
    ana = sign_up(event, "Ana")
    cancel(registration=ana)
    with pytest.raises(EventsError) as error:
        cancel(registration=ana)
    assert error.value.code == "already_cancelled"


def test_raising_capacity_promotes_in_order_and_publishes(event_index, admin_user):
    event = make_registration_event(event_index, capacity=1)
    for name in ["Ana", "Ben", "Cy", "Di"]:
        sign_up(event, name)

    promoted = change_capacity(event=event, capacity=3, user=admin_user)

    assert [r.name for r in promoted] == ["Ben", "Cy"]
    assert _waitlist(event) == [("Di", 1)]
    event.refresh_from_db()
    assert event.capacity == 3
    assert event.get_latest_revision().as_object().capacity == 3


def test_lowering_capacity_keeps_everyones_place(event_index):
    event = make_registration_event(event_index, capacity=3)
    for name in ["Ana", "Ben", "Cy"]:
        sign_up(event, name)
    assert change_capacity(event=event, capacity=1) == []
    assert event.registrations.confirmed().count() == 3
    assert sign_up(event, "Di").status == RegistrationStatus.WAITLISTED


def test_promote_waitlist_fills_free_places(event_index):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event, "Ana")
    sign_up(event, "Ben")
    type(event).objects.filter(pk=event.pk).update(capacity=2)
    assert [r.name for r in promote_waitlist(event=event)] == ["Ben"]


def test_manual_promote_only_into_a_free_place(event_index):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event, "Ana")
    ben = sign_up(event, "Ben")
    with pytest.raises(EventsError) as error:
        promote(registration=ben)
    assert error.value.code == "full"
    type(event).objects.filter(pk=event.pk).update(capacity=2)
    assert promote(registration=ben).status == RegistrationStatus.CONFIRMED


def test_move_gives_a_place_there_and_promotes_here(event_index):
    here = make_registration_event(event_index, capacity=1)
    there = make_registration_event(event_index, capacity=5)
    ana = sign_up(here, "Ana", email="ana@example.org")
    sign_up(here, "Ben")

    moved = move(registration=ana, to_event=there)

    assert (moved.event_id, moved.status, moved.email) == (
        there.pk,
        "confirmed",
        "ana@example.org",
    )
    ana.refresh_from_db()
    assert ana.status == "cancelled"
    assert [r.name for r in here.registrations.confirmed()] == ["Ben"]


def test_manage_token_is_long_random_and_only_its_hash_is_stored(event_index):
    event = make_registration_event(event_index)
    ana, ben = sign_up(event, "Ana"), sign_up(event, "Ben")
    token = manage_token(ana)
    assert len(token) == 64 and int(token, 16) >= 0  # 256 bits of hex
    assert token != manage_token(ben)
    stored = Registration.objects.filter(pk=ana.pk).values().get()
    assert token not in {str(value) for value in stored.values()}
    assert find_by_token(token) == ana
    assert (
        find_by_token(token[:-1] + "0" if token[-1] != "0" else token[:-1] + "1")
        is None
    )
    assert find_by_token("") is None


def test_rolled_back_registration_sends_nothing(
    event_index, django_capture_on_commit_callbacks
):
    from django.db import transaction

    event = make_registration_event(event_index)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            sign_up(event, "Ana")
            raise RuntimeError
    assert callbacks == []
    assert mail.outbox == []
    assert not Registration.objects.exists()


@pytest.mark.parametrize("typed", ["555-01", "555-0100", "123-456-7890", "call me"])
def test_a_phone_number_nobody_could_call_is_refused(event_index, typed):
    event = make_registration_event(event_index)
    with pytest.raises(EventsError) as error:
        register(event=event, name="Ana", phone=typed, by_coordinator=True)
    assert error.value.code == "phone_invalid"
    assert "for example (506) 234-5678" in error.value.message
    assert not Registration.objects.exists()
    result = register(event=event, name="Ana", phone="416 555 0100")
    assert result.created
    result.registration.refresh_from_db()
    assert str(result.registration.phone) == "+14165550100"
