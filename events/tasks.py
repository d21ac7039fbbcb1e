"""Background tasks: registration, session-change and reminder emails.

Each task reads who to send to when it runs (``with_email()``), so a person
who withdrew their consent to emails after it was queued gets nothing.

Tasks take ids, never personal data or tokens, because task arguments are
stored by the task backend.
"""

import logging

from django.core.mail import get_connection
from django_tasks import task

from core.background import enqueue_on_commit

from .emails import EmailContext, build_email
from .models import (
    Channel,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionStatus,
)

logger = logging.getLogger(__name__)


class EmailsNotSent(Exception):
    """Some emails of a task could not be sent; the others were."""


def _send_each(registrations, build, *, what: str) -> None:
    """Build and send one email per registration over one mail connection.

    A failure (a refused address, a dropped connection, a template error) is
    logged with the registration id and the others still go; the task then
    fails naming the registrations missed, so they can be sent again without
    repeating anyone else's.
    """
    registrations = list(registrations)
    if not registrations:
        return  # nobody left to tell: no mail connection
    connection = get_connection()
    sent, failed = 0, []
    connection.open()
    try:
        for registration in registrations:
            try:
                message = build(registration)
                message.connection = connection
                message.send()
            except Exception:  # noqa: BLE001 - one failure must not stop the rest
                logger.exception(
                    "Could not send the %s email of registration %s",
                    what,
                    registration.pk,
                )
                failed.append(registration.pk)
                connection.close()  # the next send opens a fresh connection
            else:
                sent += 1
    finally:
        connection.close()
    logger.info("Sent %s %s emails", sent, what)
    if failed:
        raise EmailsNotSent(f"{what} emails not sent to registrations {failed}")


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
        .with_email()
        .order_by("event_id", "pk")
    )
    shared = EmailContext()
    _send_each(
        registrations,
        lambda registration: build_email(registration, kind, shared=shared),
        what=kind,
    )


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
    people = (
        Registration.objects.filter(event=session.event)
        .confirmed()
        .with_email()
        .select_related("event", "event__venue")
        .order_by("pk")
    )
    shared = EmailContext()
    _send_each(
        people,
        lambda registration: build_email(
            registration, kind, session=session, shared=shared
        ),
        what=kind,
    )


@task()
def send_reminder_email(registration_id: int, session_id: int) -> None:
    """Remind one person of one session."""
    registration = (
        Registration.objects.select_related("event", "event__venue")
        .filter(pk=registration_id, status=RegistrationStatus.CONFIRMED)
        .consenting(Channel.EMAIL)
        .with_email()
        .first()
    )
    session = EventSession.objects.select_related("venue").filter(pk=session_id).first()
    if registration is None or session is None or session.is_cancelled:
        return
    build_email(registration, "reminder", session=session).send()


def enqueue_session_change_emails(session: EventSession) -> None:
    """Queue the session-change emails for when the current transaction commits."""
    enqueue_on_commit(send_session_change_emails, session.pk)
