"""Emails: session changes, reminders, and what every message carries."""

import datetime as dt
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from events.models import SentReminder
from events.registration import manage_token
from events.reminders import send_due_reminders
from events.sessions import cancel_session, reschedule_session
from tests.conftest import make_registration_event, make_session, sign_up

pytestmark = pytest.mark.django_db


def test_cancelling_a_session_tells_everyone_confirmed(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=2)
    ana, ben, cy = (sign_up(event, n) for n in ["Ana", "Ben", "Cy"])  # Cy waits
    session = event.sessions.get()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=session, public_note="Facilitator unwell")

    assert sorted(m.to[0] for m in mail.outbox) == sorted([ana.email, ben.email])
    message = next(m for m in mail.outbox if m.to == [ana.email])
    assert message.subject == "A session is cancelled"
    assert "Facilitator unwell" in message.body
    assert manage_token(ana) in message.body


def test_changes_made_with_notify_false_email_nobody(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=5)
    make_session(event, start=timezone.now() + dt.timedelta(days=9))
    sign_up(event, "Ana")
    first, second = event.sessions.order_by("start")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        cancel_session(session=first, public_note="Room flooded", notify=False)
        later = second.start + dt.timedelta(hours=1)
        reschedule_session(
            session=second,
            start=later,
            end=later + dt.timedelta(hours=1),
            notify=False,
        )

    assert callbacks == []
    assert mail.outbox == []


def test_moving_a_session_tells_everyone_confirmed(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index)
    ana = sign_up(event, "Ana")
    session = event.sessions.get()
    mail.outbox.clear()
    later = session.start + dt.timedelta(days=1)

    with django_capture_on_commit_callbacks(execute=True):
        reschedule_session(
            session=session, start=later, end=later + dt.timedelta(hours=1)
        )

    [message] = mail.outbox
    assert message.to == [ana.email]
    assert message.subject == "A session has changed"
    local = timezone.localtime(later)
    assert f"It now starts at {local:%-I:%M} " in message.body
    assert "m.." not in message.body  # no full stop after "p.m."


def test_reminders_go_once_to_confirmed_people_who_agreed(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=1)
    agreed = sign_up(event, "Ana", consent=["email"])
    sign_up(event, "Ben", consent=["email"])  # waitlisted: no reminder
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_reminders(hours=48) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_reminders(hours=48) == 0

    [message] = mail.outbox
    assert message.to == [agreed.email]
    assert message.subject == "A reminder of your place"
    # A one-off: cancelling gives the place away. (A series says the place
    # stays for the other sessions.)
    assert "please cancel with the link below" in message.body
    assert "m.." not in message.body


def test_a_series_reminder_does_not_ask_people_to_give_up_their_place(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index)
    make_session(event, start=timezone.now() + dt.timedelta(days=8))
    sign_up(event, "Ana", consent=["email"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_due_reminders(hours=48)
    [message] = mail.outbox
    assert "you keep your place for the other sessions" in message.body


def test_no_reminder_without_consent_or_outside_the_window(event_index):
    event = make_registration_event(event_index)
    sign_up(event, "Ana", consent=[])
    later = make_registration_event(event_index)
    later.sessions.update(
        start=timezone.now() + dt.timedelta(days=5),
        end=timezone.now() + dt.timedelta(days=5, hours=1),
    )
    sign_up(later, "Ben", consent=["email"], by_coordinator=True)
    assert send_due_reminders(hours=48) == 0


def test_reminder_command_reports_count(event_index, capsys):
    event = make_registration_event(event_index)
    sign_up(event, "Ana", consent=["email"])
    call_command("send_reminders", "--hours", "48")
    assert "Queued 1 reminder(s)." in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reminder_runs_at_once_send_each_reminder_once(home_page):
    from tests.conftest import make_event_index

    event = make_registration_event(make_event_index(home_page), capacity=20)
    for i in range(10):
        sign_up(event, f"P{i}", consent=["email"])
    make_session(event, start=timezone.now() + dt.timedelta(hours=3))
    mail.outbox.clear()
    barrier = threading.Barrier(2)
    counts = []

    def run():
        try:
            barrier.wait()
            counts.append(send_due_reminders(hours=48))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 20  # 10 people x 2 sessions, whoever sent them
    assert SentReminder.objects.count() == 20
    assert len(mail.outbox) == 20
