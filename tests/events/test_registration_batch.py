"""RegistrationBatch: the coordinator's rules for many people at once."""

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events import messaging
from events import registration as workflows
from events.errors import EventsError
from events.models import Delivery, DeliveryStatus, Registration
from events.registration import RegistrationBatch, find_by_token, manage_token
from events.tasks import send_messages
from tests.conftest import (
    make_event,
    make_registration_event,
    make_session,
    queued_work,
    sign_up,
)

pytestmark = [pytest.mark.django_db, pytest.mark.tasks]


def _statuses(event):
    rows = Registration.objects.filter(event=event).order_by("pk")
    return [(r.name, r.status, r.waitlist_position) for r in rows]


def _add_all(event, names, *, emails=True):
    with transaction.atomic():
        batch = RegistrationBatch([event])
        results = [
            batch.add(
                event=event,
                name=name,
                email=f"{name.lower()}@example.org" if emails else "",
                phone="" if emails else f"416 555 {n:04d}",
            )
            for n, name in enumerate(names)
        ]
        batch.save()
    return results


def test_places_then_the_waitlist_in_order_after_people_already_there(event_index):
    event = make_registration_event(event_index, capacity=2)
    sign_up(event, "Ana")
    sign_up(event, "Ben")
    sign_up(event, "Cy")  # waiting at 1
    _add_all(event, ["Di", "Ed"])
    assert _statuses(event) == [
        ("Ana", "confirmed", None),
        ("Ben", "confirmed", None),
        ("Cy", "waitlisted", 1),
        ("Di", "waitlisted", 2),
        ("Ed", "waitlisted", 3),
    ]


def test_fills_free_places_first_and_ignores_cancelled_people(event_index):
    event = make_registration_event(event_index, capacity=2)
    gone = sign_up(event, "Ana", email="ana@example.org")
    workflows.cancel(registration=gone)
    results = _add_all(event, ["Ana", "Ben", "Cy"])
    assert [r.created for r in results] == [True, True, True]
    assert _statuses(event)[1:] == [
        ("Ana", "confirmed", None),
        ("Ben", "confirmed", None),
        ("Cy", "waitlisted", 1),
    ]


def test_people_already_registered_are_found_and_not_emailed_again(
    event_index, django_capture_on_commit_callbacks, run_tasks
):
    event = make_registration_event(event_index, capacity=None)
    ana = sign_up(event, "Ana", email="ana@example.org")
    bo = sign_up(event, "Bo", email="", phone="(416) 555-0100")
    run_tasks()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        batch = RegistrationBatch([event])
        again = batch.add(event=event, name="Ana", email="ANA@example.org ")
        by_phone = batch.add(event=event, name="Bo", phone="416.555.0100")
        new = batch.add(event=event, name="Cy", email="cy@example.org")
        twice = batch.add(event=event, name="Cy", email="Cy@Example.org")
        batch.save()
    assert (again.created, again.registration.pk) == (False, ana.pk)
    assert (by_phone.created, by_phone.registration.pk) == (False, bo.pk)
    assert new.created and not twice.created
    assert twice.registration is new.registration
    assert Registration.objects.filter(event=event).count() == 3
    assert [m.to for m in mail.outbox] == [["cy@example.org"]]


def test_refusals(event_index):
    no_signup = make_event(event_index, registration_mode="none")
    full = make_registration_event(event_index, capacity=1, waitlist=False)
    sign_up(full, "Ana")
    other = make_registration_event(event_index)
    with transaction.atomic():
        batch = RegistrationBatch([no_signup, full])
        for event, code in [
            (no_signup, "no_registration"),
            (full, "full"),
            (other, "not_in_batch"),
        ]:
            with pytest.raises(EventsError) as error:
                batch.add(event=event, name="Ben", email="ben@example.org")
            assert error.value.code == code
        with pytest.raises(EventsError) as error:
            batch.add(event=full, name=" ", email="ben@example.org")
        assert error.value.code == "name_missing"
        with pytest.raises(EventsError) as error:
            batch.add(event=full, name="Ben")
        assert error.value.code == "no_contact"
        assert batch.save() == []
    assert Registration.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_needs_a_transaction(event_index):
    event = make_registration_event(event_index)
    with pytest.raises(RuntimeError):
        RegistrationBatch([event])


def test_a_batch_that_adds_nobody_locks_and_reads_nothing(event_index):
    event = make_registration_event(event_index)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        batch = RegistrationBatch([event])
        with batch.changing(event):
            pass
        assert batch.save() == []
    assert len(queries) == 0


def test_queries_do_not_grow_with_the_people(event_index):
    def count(people):
        event = make_registration_event(event_index, capacity=people // 2)
        with CaptureQueriesContext(connection) as queries:
            _add_all(event, [f"P{people}x{n}" for n in range(people)])
        assert Registration.objects.filter(event=event).count() == people
        return len(queries)

    # 50 people: SQLite takes at most 999 parameters per statement, so Django
    # splits a bulk insert of more than 58 registrations (17 columns) in two.
    assert count(4) == count(50)


def test_emails_go_out_after_commit_in_shared_tasks(
    event_index, django_capture_on_commit_callbacks, monkeypatch, task_backend
):
    monkeypatch.setattr(messaging, "PER_TASK", 2)
    event = make_registration_event(event_index, capacity=3)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        results = _add_all(event, ["Ana", "Ben", "Cy", "Di", "Ed"])
    # confirmed: 2 + 1; waitlisted: 1 (the database backend writes the
    # three task rows in the transaction instead)
    assert len(queued_work(callbacks)) == (0 if task_backend == "db" else 3)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert len(by_address) == 5
    for result in results:
        person = result.registration
        message = by_address[person.email]
        token = manage_token(person)
        assert token in message.body
        assert find_by_token(token).pk == person.pk
        has_calendar = any(a[0].endswith(".ics") for a in message.attachments)
        assert has_calendar == (person.status == "confirmed")
    assert by_address["di@example.org"].subject.startswith("You are on the waitlist")


def test_a_rolled_back_batch_leaves_nothing(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            batch = RegistrationBatch([event])
            batch.add(event=event, name="Ana", email="ana@example.org")
            batch.save()
            1 / 0  # noqa: B018
    assert callbacks == []
    assert mail.outbox == []
    assert not Registration.objects.exists()


def test_changing_saves_first_and_reads_the_event_again(event_index):
    event = make_registration_event(event_index, capacity=1)
    with transaction.atomic():
        batch = RegistrationBatch([event])
        ana = batch.add(event=event, name="Ana", email="ana@example.org")
        with batch.changing(event):
            assert Registration.objects.filter(event=event).count() == 1
            workflows.cancel(registration=ana.registration)
        ben = batch.add(event=event, name="Ben", email="ben@example.org")
        batch.save()
    assert ben.registration.status == "confirmed"
    assert _statuses(event) == [
        ("Ana", "cancelled", None),
        ("Ben", "confirmed", None),
    ]


def test_notify_false_sends_nothing(event_index, django_capture_on_commit_callbacks):
    event = make_registration_event(event_index, capacity=1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            batch = RegistrationBatch([event], notify=False)
            batch.add(event=event, name="Ana", email="ana@example.org")
            batch.add(event=event, name="Ben", email="ben@example.org")
            batch.save()
        workflows.register(
            event=event,
            name="Cy",
            email="cy@example.org",
            by_coordinator=True,
            notify=False,
        )
    assert queued_work(callbacks) == []
    assert mail.outbox == []
    assert _statuses(event) == [
        ("Ana", "confirmed", None),
        ("Ben", "waitlisted", 1),
        ("Cy", "waitlisted", 2),
    ]


class RefusingBackend(locmem.EmailBackend):
    """Refuses one address, as an SMTP server would."""

    def send_messages(self, messages):
        for message in messages:
            if "refused@example.org" in message.to:
                raise smtplib.SMTPRecipientsRefused({"refused@example.org": (550, b"")})
        return super().send_messages(messages)


def test_one_refused_address_does_not_stop_the_others(event_index, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    event = make_registration_event(event_index, capacity=None)
    with transaction.atomic():
        batch = RegistrationBatch([event], notify=False)
        for name in ["ana", "refused", "cy"]:
            batch.add(event=event, name=name, email=f"{name}@example.org")
        people = batch.save()
    mail.outbox.clear()
    refused = people[1].pk

    send_messages.call([p.pk for p in people], "confirmed")

    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.org", "cy@example.org"]
    # The refused one is tried again later, not lost.
    again = Delivery.objects.get(registration_id=refused)
    assert again.status == DeliveryStatus.PENDING
    assert again.attempts == 1
    assert again.send_after > timezone.now()


def test_places_at_an_event_that_is_over_are_recorded_without_email(
    event_index, django_capture_on_commit_callbacks
):
    over = make_event(event_index, registration_mode="required", capacity=5)
    make_session(over, start=timezone.now() - dt.timedelta(days=7))
    coming = make_registration_event(event_index)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            batch = RegistrationBatch([over, coming])
            batch.add(event=over, name="Ana", email="ana@example.org")
            batch.add(event=coming, name="Ben", email="ben@example.org")
            batch.save()
        workflows.register(
            event=over, name="Cy", email="cy@example.org", by_coordinator=True
        )
    assert [m.to for m in mail.outbox] == [["ben@example.org"]]
    assert over.registrations.confirmed().count() == 2
