"""Background tasks: registration, session-change and reminder emails.

Tasks take ids, never personal data or tokens, because task arguments are
stored by the task backend.
"""

import logging

from django.core.mail import get_connection
from django_tasks import task

from website.background import enqueue_on_commit

from .emails import EmailContext, build_email
from .models import EventSession, Registration, RegistrationStatus, SessionStatus

logger = logging.getLogger(__name__)


@task()
def send_registration_email(registration_id: int, kind: str) -> None:
    """Send one registration email (confirmed, waitlisted, promoted, ...)."""
    send_registration_emails.call([registration_id], kind)


@task()
def send_registration_emails(registration_ids: list[int], kind: str) -> None:
    """Send the same kind of registration email to several people, over one
    mail connection, reading each event's sessions once (imports queue these)."""
    registrations = (
        Registration.objects.select_related("event", "event__venue")
        .filter(pk__in=registration_ids)
        .exclude(email="")
        .order_by("event_id", "pk")
    )
    messages = []
    shared = EmailContext()
    for registration in registrations:
        messages.append(build_email(registration, kind, shared=shared))
    if messages:
        get_connection().send_messages(messages)
    logger.info("Sent %s %s emails", len(messages), kind)


@task()
def send_session_change_emails(session_id: int) -> None:
    """Tell everyone with a confirmed place that a session was cancelled or moved."""
    session = (
        EventSession.objects.select_related("event", "venue")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        return
    kind = (
        "session_cancelled"
        if session.status == SessionStatus.CANCELLED
        else "session_moved"
    )
    # People who signed up after the change saw it when they did.
    people = (
        Registration.objects.filter(
            event=session.event,
            status=RegistrationStatus.CONFIRMED,
            created_at__lte=session.updated_at,
        )
        .exclude(email="")
        .select_related("event", "event__venue")
    )
    shared = EmailContext()
    messages = [
        build_email(registration, kind, session=session, shared=shared)
        for registration in people
    ]
    if messages:
        get_connection().send_messages(messages)
    logger.info("Sent %s emails for session %s", kind, session_id)


@task()
def send_reminder_email(registration_id: int, session_id: int) -> None:
    """Remind one person of one session."""
    registration = (
        Registration.objects.select_related("event", "event__venue")
        .filter(pk=registration_id, status=RegistrationStatus.CONFIRMED)
        .first()
    )
    session = EventSession.objects.select_related("venue").filter(pk=session_id).first()
    if registration is None or session is None or session.is_cancelled:
        return
    build_email(registration, "reminder", session=session).send()


def enqueue_session_change_emails(session: EventSession) -> None:
    """Queue the session-change emails for when the current transaction commits."""
    enqueue_on_commit(send_session_change_emails, session.pk)
