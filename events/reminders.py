"""Reminders before each session, sent once per person and session.

A SentReminder row is written before the email is queued; its unique
constraint means two runs at once (cron and a worker, say) can never both
send the same reminder.
"""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.background import enqueue_on_commit

from .models import Channel, EventSession, Registration, SentReminder
from .tasks import send_reminder_email


def due_sessions(*, now: dt.datetime, hours: int):
    """Sessions going ahead that start within ``hours`` from ``now``."""
    return (
        EventSession.objects.published()
        .not_cancelled()
        .filter(start__gt=now, start__lte=now + dt.timedelta(hours=hours))
        .select_related("event")
    )


def send_due_reminders(
    *, now: dt.datetime | None = None, hours: int | None = None
) -> int:
    """Queue a reminder for every confirmed person with an email who agreed to
    be emailed (and has not withdrawn it), for sessions starting soon.
    Returns how many were queued."""
    now = now or timezone.now()
    hours = settings.GATHER_REMINDER_HOURS if hours is None else hours
    queued = 0
    for session in due_sessions(now=now, hours=hours):
        people = (
            Registration.objects.filter(event_id=session.event_id)
            .confirmed()
            .consenting(Channel.EMAIL)
            .with_email()
            .exclude(reminders__session=session)
        )
        for registration in people:
            try:
                with transaction.atomic():
                    SentReminder.objects.create(
                        registration=registration, session=session
                    )
                    enqueue_on_commit(send_reminder_email, registration.pk, session.pk)
            except IntegrityError:
                continue  # another run got there first
            queued += 1
    return queued
