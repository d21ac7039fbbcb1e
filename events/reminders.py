"""Reminders before each session, sent once per person and session.

A reminder goes only by the channels a person agreed to be reminded on
(email, text, or a call from staff: ``events.messaging.route``). A
SentReminder row is written before the message is queued; its unique
constraint means two runs at once (cron and a worker, say) can never both
send the same reminder.
"""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .messaging import queue_messages
from .models import (
    Channel,
    Consent,
    EventSession,
    MessageKind,
    Registration,
    SentReminder,
)


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
    """Queue a reminder for every confirmed person who agreed to be reminded
    on a channel that reaches them, for sessions starting soon. Returns how
    many were queued."""
    now = now or timezone.now()
    hours = settings.GATHER_REMINDER_HOURS if hours is None else hours
    queued = 0
    for session in due_sessions(now=now, hours=hours):
        people = (
            Registration.objects.for_session(session)
            .confirmed()
            .filter(_reachable_for_reminders())
            .exclude(reminders__session=session)
        )
        with transaction.atomic():  # the rows and their task commit together
            reminded = []
            for registration in people:
                try:
                    with transaction.atomic():
                        SentReminder.objects.create(
                            registration=registration, session=session
                        )
                except IntegrityError:
                    continue  # another run got there first
                reminded.append(registration.pk)
            queue_messages(reminded, MessageKind.REMINDER, session=session)
        queued += len(reminded)
    return queued


def _reachable_for_reminders() -> Q:
    """People who agreed to reminders on a channel they gave details for."""

    def consenting(channel):
        return Q(
            pk__in=Consent.objects.given()
            .filter(channel=channel)
            .values("registration")
        )

    return (
        (~Q(email="") & consenting(Channel.EMAIL))
        | (~Q(phone="") & consenting(Channel.TEXT))
        | (~Q(phone="") & consenting(Channel.CALL))
    )
