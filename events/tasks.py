"""Background tasks: messages to participants (``events.messaging``).

Tasks take ids, never personal data or tokens, because task arguments are
stored by the task backend. Each task reads who to tell, and by which
channel, when it runs, so a person who withdrew a consent after it was
queued is not contacted that way.
"""

from django_tasks import task

from core.background import enqueue_on_commit

from . import messaging, offers
from .models import (
    EventSession,
    GroupMessage,
    MessageKind,
    Registration,
    SeriesChange,
    SessionStatus,
)


@task()
def send_messages(
    registration_ids: list[int],
    kind: str,
    session_id: int | None = None,
    group_message_id: int | None = None,
    series_change_id: int | None = None,
) -> None:
    """Tell these people about ``kind``: by email, by text, or on the call
    list (``events.messaging.route``); what quiet hours hold is sent later
    by ``send_due_messages``."""
    session = (
        EventSession.objects.select_related("venue").filter(pk=session_id).first()
        if session_id
        else None
    )
    group_message = (
        GroupMessage.objects.filter(pk=group_message_id).first()
        if group_message_id
        else None
    )
    series_change = (
        SeriesChange.objects.prefetch_related("sessions")
        .filter(pk=series_change_id)
        .first()
        if series_change_id
        else None
    )
    if (
        (session_id and session is None)
        or (group_message_id and group_message is None)
        or (series_change_id and series_change is None)
    ):
        return  # deleted since: nothing left to say
    due = messaging.plan_messages(
        registration_ids,
        kind,
        session=session,
        group_message=group_message,
        series_change=series_change,
    )
    messaging.deliver(due, fresh=True)


@task()
def send_session_change_messages(session_id: int) -> None:
    """Tell everyone with a confirmed place that a session was cancelled or moved."""
    session = EventSession.objects.filter(pk=session_id).first()
    if session is None:
        return
    kind = (
        MessageKind.SESSION_CANCELLED
        if session.status == SessionStatus.CANCELLED
        else MessageKind.SESSION_MOVED
    )
    people = list(
        Registration.objects.for_session(session)
        .confirmed()
        .values_list("pk", flat=True)
    )
    for start in range(0, len(people), messaging.PER_TASK):
        send_messages.call(
            people[start : start + messaging.PER_TASK], kind, session_id=session_id
        )


@task()
def send_due_messages() -> None:
    """Send what quiet hours held and the next tries of failed messages."""
    messaging.send_due_messages()


@task()
def expire_place_offers() -> None:
    """Pass on waitlist offers past their deadline (``events.offers``); safe
    to run beside the scheduled command, each event under its lock."""
    offers.expire_due_offers()


def enqueue_session_change_messages(session: EventSession) -> None:
    """Queue the session-change messages for when the current transaction commits."""
    enqueue_on_commit(send_session_change_messages, session.pk)


# Tasks queued before an upgrade run under their old names --------------------


@task()
def send_registration_email(registration_id: int, kind: str) -> None:
    send_messages.call([registration_id], kind)


@task()
def send_registration_emails(registration_ids: list[int], kind: str) -> None:
    send_messages.call(registration_ids, kind)


@task()
def send_session_change_emails(session_id: int) -> None:
    send_session_change_messages.call(session_id)


@task()
def send_reminder_email(registration_id: int, session_id: int) -> None:
    send_messages.call([registration_id], MessageKind.REMINDER, session_id=session_id)
