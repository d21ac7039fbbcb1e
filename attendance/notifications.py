"""Emails to coordinators about the follow-up inbox, as each chose
(``StaffNotificationPreference``).

* ``email_flagged_note``: "A session note was flagged for follow-up", with
  the event, the session's date and a link to the inbox; never the note's
  words, which may name someone. Sent from a background task
  (``attendance.tasks.email_flagged_note``, which takes the follow-up's id).
* ``send_staff_digest``: once a day (``manage.py send_staff_digest``), new
  sign-ups and cancellations per event in the last 24 hours and how many
  follow-ups are open; counts only, no names. Nothing goes on a day with
  nothing to say, and each coordinator gets at most one a day (the day is
  recorded on their preference).
"""

import dataclasses
import datetime as dt

from django.core.mail import EmailMessage, get_connection
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.http import absolute_url
from events.models import EventPage, Registration, RegistrationStatus
from events.permissions import coordinators

from .models import FollowUp, StaffNotificationPreference


def inbox_url() -> str:
    return absolute_url(reverse("follow_ups"))


def _recipients(**preference):
    """Coordinators with an email address who chose ``preference``."""
    return (
        coordinators()
        .exclude(email="")
        .filter(**{f"staff_notifications__{k}": v for k, v in preference.items()})
        .order_by("pk")
    )


def _send(messages) -> None:
    if messages:
        with get_connection() as connection:
            connection.send_messages(messages)


def email_flagged_note(follow_up_id: int) -> int:
    """Tell the coordinators who asked that a note was flagged; returns how
    many were emailed."""
    follow_up = (
        FollowUp.objects.select_related("event", "session_note__session")
        .filter(pk=follow_up_id, session_note__isnull=False)
        .first()
    )
    if follow_up is None:
        return 0
    context = {
        "event": follow_up.event,
        "session": follow_up.session_note.session,
        "inbox_url": inbox_url(),
    }
    body = render_to_string("email/staff/flagged_note.txt", context)
    subject = _("A session note was flagged for follow-up")
    messages = [
        EmailMessage(subject=subject, body=body, to=[user.email])
        for user in _recipients(email_on_flagged_note=True)
    ]
    _send(messages)
    return len(messages)


@dataclasses.dataclass(frozen=True)
class EventCounts:
    """One event's line in the digest."""

    title: str
    sign_ups: int
    cancellations: int


def digest_counts(*, now: dt.datetime) -> tuple[list[EventCounts], int]:
    """New sign-ups and cancellations per event in the 24 hours before
    ``now`` (events with either), and how many follow-ups are open."""
    since = now - dt.timedelta(hours=24)
    rows = (
        Registration.objects.filter(
            Q(created_at__gt=since, created_at__lte=now)
            | Q(cancelled_at__gt=since, cancelled_at__lte=now)
        )
        .values("event_id")
        .annotate(
            sign_ups=Count("pk", filter=Q(created_at__gt=since, created_at__lte=now)),
            cancellations=Count(
                "pk",
                filter=Q(
                    status=RegistrationStatus.CANCELLED,
                    cancelled_at__gt=since,
                    cancelled_at__lte=now,
                ),
            ),
        )
        .order_by()
    )
    by_event = {row["event_id"]: row for row in rows}
    titles = dict(EventPage.objects.filter(pk__in=by_event).values_list("pk", "title"))
    events = sorted(
        (
            EventCounts(
                title=titles.get(pk, ""),
                sign_ups=row["sign_ups"],
                cancellations=row["cancellations"],
            )
            for pk, row in by_event.items()
            if row["sign_ups"] or row["cancellations"]
        ),
        key=lambda counts: (counts.title.casefold(), counts.title),
    )
    return events, FollowUp.objects.open().count()


def send_staff_digest(*, now: dt.datetime | None = None) -> int:
    """Email today's digest to each coordinator who chose it and has not had
    it today; returns how many were sent (none when there is nothing to
    say)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    recipients = list(
        _recipients(daily_digest=True).exclude(
            staff_notifications__digest_sent_on=today
        )
    )
    if not recipients:
        return 0
    events, open_follow_ups = digest_counts(now=now)
    if not events and not open_follow_ups:
        return 0
    body = render_to_string(
        "email/staff/digest.txt",
        {
            "events": events,
            "open_follow_ups": open_follow_ups,
            "inbox_url": inbox_url(),
            "day": today,
        },
    )
    subject = _("Gather: the last 24 hours")
    _send(
        [
            EmailMessage(subject=subject, body=body, to=[user.email])
            for user in recipients
        ]
    )
    StaffNotificationPreference.objects.filter(
        user__in=[user.pk for user in recipients]
    ).update(digest_sent_on=today)
    return len(recipients)


def preference_for(user) -> StaffNotificationPreference:
    """``user``'s preferences (unsaved defaults when they chose nothing yet)."""
    return StaffNotificationPreference.objects.filter(
        user=user
    ).first() or StaffNotificationPreference(user=user)


def save_preference(
    *, user, email_on_flagged_note: bool, daily_digest: bool
) -> StaffNotificationPreference:
    preference, _created = StaffNotificationPreference.objects.update_or_create(
        user=user,
        defaults={
            "email_on_flagged_note": email_on_flagged_note,
            "daily_digest": daily_digest,
        },
    )
    return preference
