"""Audit entries for looking at people's details in the facilitator area:
opening a session's roster and printing a document that names people.

Each entry is on the session, its user is who looked, and it holds how
many people were shown and which document, never a name
(``core.audit.log_access``). Coordinators read them in Wagtail's site
history; facilitators and editors hold no permission on sessions, so it
shows them none.
"""

from django.utils.translation import gettext as _

from core import audit
from events.models import EventSession, Registration, RegistrationStatus

ROSTER_VIEWED = "attendance.roster.viewed"
PRINTED = "attendance.document.printed"

#: The printable documents that name people (``attendance.views``' keys).
NAMING_DOCUMENTS = ("sign-in-sheet", "register", "pack")


def people_named(session: EventSession) -> int:
    """How many people the session's roster and sheets name: its event's
    confirmed registrations that cover the session (none for a
    headcount-only event)."""
    if session.event.headcount_only:
        return 0
    return (
        Registration.objects.for_session(session)
        .filter(status=RegistrationStatus.CONFIRMED)
        .count()
    )


def log_roster_viewed(*, session: EventSession, user, count: int) -> None:
    """``user`` opened ``session``'s page, which lists ``count`` people."""
    audit.log_access(
        session,
        ROSTER_VIEWED,
        user=user,
        title=_("Roster of session %(id)s") % {"id": session.pk},
        count=count,
        event=session.event_id,
    )


def log_printed(
    *, session: EventSession, user, document: str, full_names: bool
) -> None:
    """``user`` printed ``document`` of ``session``, which names people."""
    audit.log_access(
        session,
        PRINTED,
        user=user,
        title=_("%(document)s of session %(id)s")
        % {"document": document, "id": session.pk},
        count=people_named(session),
        event=session.event_id,
        document=document,
        full_names=full_names,
    )
