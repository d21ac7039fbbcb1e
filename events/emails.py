"""Registration and session emails: built from templates in templates/email/.

Every message has a plain-text and an HTML part, says what happened in plain
language, and carries the person's manage link.
"""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from website.models import absolute_url

from .calendars import build_calendar, calendar_bytes
from .models import EventSession, Registration, RegistrationStatus

#: kind -> subject line; ``{event}`` is the event title.
SUBJECTS = {
    "confirmed": _("Your place is booked: {event}"),
    "waitlisted": _("You are on the waitlist: {event}"),
    "promoted": _("Good news, a place opened up: {event}"),
    "cancelled": _("Your place is cancelled: {event}"),
    "session_cancelled": _("A session is cancelled: {event}"),
    "session_moved": _("A session has changed: {event}"),
    "reminder": _("Reminder: {event} is coming up"),
}

#: Kinds whose email carries the series as an .ics attachment.
WITH_CALENDAR = {"confirmed", "promoted"}


def manage_url(registration: Registration) -> str:
    from .registration import manage_token

    return absolute_url(
        reverse("registration_manage", args=[manage_token(registration)])
    )


def _organisation():
    from wagtail.models import Site

    from website.models import SiteSettings

    site = Site.objects.filter(is_default_site=True).first()
    return SiteSettings.for_site(site) if site else None


def build_email(
    registration: Registration, kind: str, *, session: EventSession | None = None
) -> EmailMultiAlternatives:
    """The email of ``kind`` for one registration, ready to send."""
    event = registration.event
    sessions = list(
        event.sessions.select_related("venue", "event__venue").order_by("start")
    )
    for each in sessions:
        each.event = event
    show_joining_link = registration.status == RegistrationStatus.CONFIRMED
    context = {
        "kind": kind,
        "registration": registration,
        "event": event,
        "event_url": absolute_url(event.url or ""),
        "sessions": sessions,
        "session": session,
        "venue": session.effective_venue if session else event.venue,
        "show_joining_link": show_joining_link,
        "manage_url": manage_url(registration),
        "organisation": _organisation(),
    }
    subject = SUBJECTS[kind].format(event=event.title)
    text = render_to_string(f"email/{kind}.txt", context)
    html = render_to_string(f"email/{kind}.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[registration.email]
    )
    message.attach_alternative(html, "text/html")
    if kind in WITH_CALENDAR and sessions:
        calendar = build_calendar(
            sessions, name=event.title, include_joining_link=show_joining_link
        )
        message.attach(
            f"{event.slug}.ics",
            calendar_bytes(calendar),
            "text/calendar; charset=utf-8",
        )
    return message
