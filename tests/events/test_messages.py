"""Emails: session changes, reminders, and what every message carries."""

import datetime as dt
import email
import email.utils
import threading
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from events.models import SentReminder
from events.registration import manage_token
from events.reminders import send_due_reminders
from events.sessions import cancel_session, reschedule_session
from tests.conftest import (
    make_event,
    make_registration_event,
    make_session,
    make_venue,
    queued_work,
    sign_up,
)

# Messages go at once whatever the time the tests run (quiet hours hold them).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_quiet_hours")]
TORONTO = ZoneInfo("America/Toronto")


def _calendar_parts(message):
    """The text/calendar parts of ``message`` as it goes over the wire."""
    sent = email.message_from_bytes(message.message().as_bytes())
    return [part for part in sent.walk() if part.get_content_type() == "text/calendar"]


def _calendar(message):
    """The one calendar ``message`` carries, and its part's iTIP method."""
    [part] = _calendar_parts(message)
    return icalendar.Calendar.from_ical(part.get_payload(decode=True)), part.get_param(
        "method"
    )


def _confirmed_with_calendar(event, name, django_capture_on_commit_callbacks):
    """Sign ``name`` up; their place and the VEVENTs (by UID) of their
    confirmation's calendar."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        registration = sign_up(event, name)
    [confirmation] = mail.outbox
    calendar, _ = _calendar(confirmation)
    mail.outbox.clear()
    return registration, {str(vevent["UID"]): vevent for vevent in calendar.events}


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

    # Nothing queued: only the public cache and content version move on.
    assert queued_work(callbacks) == []
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
    assert f"It is now: {local:%A %-d %B}, {local:%-I:%M} p.m. to " in message.body
    assert "m.." not in message.body  # no full stop after "p.m."


def test_move_email_says_the_old_and_new_time_in_the_site_zone(
    event_index, time_machine, django_capture_on_commit_callbacks
):
    """The clocks go back on 1 November 2026 in Toronto: both sessions are at
    6 p.m. there, though 22:00 and 23:00 UTC. The email is built with UTC
    active, as a worker might be, and still speaks the site's time."""
    time_machine.move_to(dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC), tick=False)
    library, hall = make_venue(name="Library"), make_venue(name="Hall")
    event = make_event(
        event_index, registration_mode="required", capacity=5, venue=library
    )
    start = dt.datetime(2026, 10, 27, 18, tzinfo=TORONTO)
    session = make_session(event, start=start, hours=1.5)
    ana, _ = _confirmed_with_calendar(event, "Ana", django_capture_on_commit_callbacks)
    later = dt.datetime(2026, 11, 3, 18, tzinfo=TORONTO)

    with timezone.override(dt.UTC), django_capture_on_commit_callbacks(execute=True):
        reschedule_session(
            session=session,
            start=later,
            end=later + dt.timedelta(minutes=90),
            venue=hall,
        )

    [message] = mail.outbox
    was = "It was: Tuesday 27 October, 6:00 p.m. to 7:30 p.m., at Library"
    now = "It is now: Tuesday 3 November, 6:00 p.m. to 7:30 p.m., at Hall"
    assert was in message.body and now in message.body
    html, _ = message.alternatives[0]
    assert was.replace("It was: ", "It was: <s>") in html
    assert now in html


def test_move_email_updates_the_session_in_the_confirmations_calendar(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=5)
    session = event.sessions.get()
    ana, confirmed = _confirmed_with_calendar(
        event, "Ana", django_capture_on_commit_callbacks
    )
    held = confirmed[session.uid]
    later = session.start + dt.timedelta(days=1)

    with django_capture_on_commit_callbacks(execute=True):
        reschedule_session(
            session=session, start=later, end=later + dt.timedelta(hours=1)
        )

    [message] = mail.outbox
    calendar, method = _calendar(message)
    assert method == "REQUEST" == str(calendar["METHOD"])
    [update] = calendar.events
    assert str(update["UID"]) == session.uid
    assert int(update["SEQUENCE"]) > int(held["SEQUENCE"])
    assert str(update["STATUS"]) == "CONFIRMED"
    assert update.decoded("DTSTART") == later
    assert update.decoded("DTEND") == later + dt.timedelta(hours=1)
    assert abs(update.decoded("DTSTAMP") - timezone.now()) < dt.timedelta(minutes=1)
    assert [str(a) for a in update.attendees] == [f"mailto:{ana.email}"]
    # The organiser of the event the person holds, and the email's sender.
    assert str(update["ORGANIZER"]) == str(held["ORGANIZER"])
    _, sender = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    assert str(update["ORGANIZER"]) == f"mailto:{sender}"
    assert str(held["ORGANIZER"]) == f"mailto:{sender}"
    assert "ATTENDEE" not in held  # the shared series file names nobody


def test_cancel_email_names_the_session_and_cancels_it_in_calendars(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=5)
    first = event.sessions.get()
    make_session(event, start=first.start + dt.timedelta(days=7))
    ben, confirmed = _confirmed_with_calendar(
        event, "Ben", django_capture_on_commit_callbacks
    )

    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=first)

    [message] = mail.outbox
    local = timezone.localtime(first.start)
    assert (
        f"The {event.title} session on {local:%A %-d %B}, 6:00 p.m. to 8:00 p.m. "
        "is cancelled." in message.body
    )
    assert "Your place for the other sessions stays the same." in message.body
    calendar, method = _calendar(message)
    assert method == "CANCEL" == str(calendar["METHOD"])
    [update] = calendar.events
    assert str(update["UID"]) == first.uid
    assert int(update["SEQUENCE"]) > int(confirmed[first.uid]["SEQUENCE"])
    assert str(update["STATUS"]) == "CANCELLED"
    assert [str(a) for a in update.attendees] == [f"mailto:{ben.email}"]
    assert "ORGANIZER" in update
    [attachment] = message.attachments
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "CANCEL"


def test_cancelling_the_only_session_says_nothing_of_other_sessions(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index)
    sign_up(event, "Ana")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=event.sessions.get())

    [message] = mail.outbox
    assert "is cancelled." in message.body
    assert "other sessions" not in message.body


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
