"""Registration and session emails: built from templates in templates/email/.

Every message has a plain-text and an HTML part, says what happened in plain
language, and carries the person's manage link.
"""

import functools

from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _
from wagtail.models import Site

from core.http import absolute_url
from core.models import SiteSettings

from .calendars import (
    build_calendar,
    calendar_bytes,
    calendar_organizer,
    change_method,
    series_change_calendar,
    session_change_calendar,
)
from .drop_in import dates_of
from .models import EventSession, Registration, RegistrationStatus
from .offers import offer_url, open_offer
from .registration import manage_token

#: kind -> subject line. Discreet: it names no group unless the
#: organisation chose that (``SiteSettings.messages_name_the_group``), then
#: ``: {event}`` follows. Lazy, so each email is translated in the language
#: active when it is built, not at import.
SUBJECTS = {
    "confirmed": _("Your place is booked"),
    "dates_booked": _("Your dates"),
    "waitlisted": _("You are on the waitlist"),
    "promoted": _("Good news, a place opened up"),
    "cancelled": _("Your place is cancelled"),
    "left_waitlist": _("You have left the waitlist"),
    "session_cancelled": _("A session is cancelled"),
    "session_moved": _("A session has changed"),
    "reminder": _("A reminder of your place"),
    "group": _("A message about your place"),
    "series_changed": _("Sessions have changed"),
    "place_offered": _("A place is free for you: please reply"),
    "offer_expired": _("The time to take a place has passed"),
}


def subject_for(kind: str, event, organisation) -> str:
    """The subject of an email of ``kind``: with the event's title only when
    the organisation chose to name groups in messages."""
    subject = str(SUBJECTS[kind])
    if organisation is not None and organisation.messages_name_the_group:
        return f"{subject}: {event.title}"
    return subject


#: Kinds whose email carries the series as an .ics attachment.
WITH_CALENDAR = {"confirmed", "promoted"}

#: Kinds whose email carries an update to the one session it is about
#: (``calendars.session_change_calendar``).
WITH_CALENDAR_UPDATE = {"session_cancelled", "session_moved"}


#: Where a person's own details go in an email rendered for many
#: (``EmailContext.words``): characters no name or address contains, and
#: that HTML escaping leaves alone.
NAME = "\x00name\x00"
MANAGE_URL = "\x00manage-url\x00"
OFFER_URL = "\x00offer-url\x00"


def manage_url(registration: Registration) -> str:
    return absolute_url(
        reverse("registration_manage", args=[manage_token(registration)])
    )


class EmailContext:
    """What emails about the same events share, read once: each event's
    sessions, its calendar attachment, and the organisation's details.

    Pass one to ``build_email`` when building many emails in a row.
    """

    def __init__(self):
        self._sessions = {}
        self._calendars = {}
        self._urls = {}
        self._words = {}

    def event_url(self, event) -> str:
        if event.pk not in self._urls:
            self._urls[event.pk] = absolute_url(event.url or "")
        return self._urls[event.pk]

    def sessions(self, event) -> list[EventSession]:
        if event.pk not in self._sessions:
            sessions = list(
                event.sessions.select_related("venue", "event__venue").order_by("start")
            )
            for each in sessions:
                each.event = event
            self._sessions[event.pk] = sessions
        return self._sessions[event.pk]

    def sessions_of(self, registration) -> list[EventSession]:
        """The sessions a registration's place covers: every session of its
        event, or its one session (a drop-in date)."""
        sessions = self.sessions(registration.event)
        if registration.session_id is None:
            return sessions
        return [s for s in sessions if s.pk == registration.session_id]

    def calendar(self, event, *, include_joining_link: bool, session_ids=None) -> bytes:
        """The event's sessions (or those of ``session_ids``) as an .ics file."""
        key = (event.pk, include_joining_link, tuple(session_ids or ()))
        if key not in self._calendars:
            sessions = self.sessions(event)
            if session_ids is not None:
                sessions = [s for s in sessions if s.pk in set(session_ids)]
            calendar = build_calendar(
                sessions,
                name=event.title,
                include_joining_link=include_joining_link,
                organizer=self.organizer,
            )
            self._calendars[key] = calendar_bytes(calendar)
        return self._calendars[key]

    def words(
        self, registration, kind, session, group_message, series_change=None, offer=None
    ) -> tuple[str, str]:
        """The text and HTML of an email of ``kind``, rendered once for
        everyone it says the same to: the person's name and manage link are
        marks (``NAME``, ``MANAGE_URL``, ``OFFER_URL``) that ``build_email``
        fills in, so a message to 500 people renders its templates once, not
        500 times. An offer's deadline is part of what is shared."""
        event = registration.event
        personal = kind == "dates_booked"  # lists the person's own dates
        key = (
            registration.pk if personal else None,
            registration.session_id,
            event.pk,
            kind,
            getattr(session, "pk", None),
            getattr(group_message, "pk", None),
            getattr(series_change, "pk", None),
            registration.status,
            registration.waitlist_position,
            offer.expires_at if offer else None,
        )
        if key not in self._words:
            stand_in = Registration(
                event=event,
                name=NAME,
                status=registration.status,
                waitlist_position=registration.waitlist_position,
            )
            context = {
                "kind": kind,
                "registration": stand_in,
                "event": event,
                "event_url": self.event_url(event),
                "sessions": [] if personal else self.sessions_of(registration),
                "dates": _dates(registration) if personal else [],
                "session": session,
                "venue": session.effective_venue if session else event.venue,
                "show_joining_link": registration.status
                == RegistrationStatus.CONFIRMED,
                "manage_url": MANAGE_URL,
                "organisation": self.organisation,
                "group_message": group_message,
                "series_change": series_change,
                "changed_sessions": (
                    series_change.changed_sessions() if series_change else []
                ),
                "offer_url": OFFER_URL,
                "offer": offer,
            }
            self._words[key] = (
                render_to_string(f"email/{kind}.txt", context),
                render_to_string(f"email/{kind}.html", context),
            )
        return self._words[key]

    @functools.cached_property
    def organisation(self):
        site = Site.objects.filter(is_default_site=True).first()
        return SiteSettings.for_site(site) if site else None

    @functools.cached_property
    def organizer(self):
        """ORGANIZER of every calendar file the emails carry: the same in
        the confirmation and in later updates, so calendar apps match them."""
        organisation = self.organisation
        return calendar_organizer(
            organisation.organisation_name if organisation else ""
        )


def _dates(registration: Registration) -> list[Registration]:
    """The person's drop-in dates of the event (``drop_in.dates_of``), each
    with its own manage link, for the message listing them."""
    dates = dates_of(registration)
    for each in dates:
        each.manage_url = manage_url(each)
    return dates


def calendar_attachment(content: bytes, *, filename: str, method: str):
    """An .ics attachment whose Content-Type names its iTIP method
    (``text/calendar; method=CANCEL``), as iMIP (RFC 6047) requires and as
    mail apps (Outlook, Gmail) look for before offering it as an update to
    the event rather than as a file to import.

    ``EmailMessage.attach(filename, content, mimetype)`` takes a bare MIME
    type: a parameter written into it would reach the header only through
    how Django happens to split the type, so the part is built here and
    attached whole (``attach`` takes a MIME part as it is).
    """
    part = SafeMIMEText(content.decode(), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def build_email(
    registration: Registration,
    kind: str,
    *,
    session: EventSession | None = None,
    shared: EmailContext | None = None,
    group_message=None,
    series_change=None,
) -> EmailMultiAlternatives:
    """The email of ``kind`` for one registration, ready to send (for a
    message to the group, ``group_message`` is what was written; for a
    change to the rest of a series, ``series_change``, whose sessions the
    email lists and its one calendar file updates)."""
    shared = shared or EmailContext()
    event = registration.event
    sessions = shared.sessions_of(registration)
    show_joining_link = registration.status == RegistrationStatus.CONFIRMED
    offer = open_offer(registration) if kind == "place_offered" else None
    text, html = shared.words(
        registration, kind, session, group_message, series_change, offer
    )
    personal = {NAME: registration.name, MANAGE_URL: manage_url(registration)}
    if offer is not None:
        personal[OFFER_URL] = offer_url(offer)
    for mark, value in personal.items():
        text = text.replace(mark, value)
        html = html.replace(mark, str(escape(value)))
    subject = subject_for(kind, event, shared.organisation)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[registration.email]
    )
    message.attach_alternative(html, "text/html")
    if kind in WITH_CALENDAR and sessions:
        message.attach(
            f"{event.slug}.ics",
            shared.calendar(
                event,
                include_joining_link=show_joining_link,
                session_ids=(
                    None
                    if registration.session_id is None
                    else [registration.session_id]
                ),
            ),
            "text/calendar",  # Django adds the charset
        )
    elif kind == "dates_booked":
        booked = [
            r.session_id
            for r in _dates(registration)
            if r.status == RegistrationStatus.CONFIRMED
        ]
        if booked:
            message.attach(
                f"{event.slug}.ics",
                shared.calendar(event, include_joining_link=True, session_ids=booked),
                "text/calendar",
            )
    elif kind in WITH_CALENDAR_UPDATE and session is not None:
        update = session_change_calendar(
            session,
            attendee_email=registration.email,
            organizer=shared.organizer,
            include_joining_link=show_joining_link,
            page_url=shared.event_url(event),
        )
        message.attach(
            calendar_attachment(
                calendar_bytes(update),
                filename=f"{event.slug}.ics",
                method=change_method(session),
            )
        )
    elif kind == "series_changed" and series_change is not None:
        changed = series_change.changed_sessions()
        for each in changed:
            each.event = event
        if changed:
            method = "CANCEL" if series_change.is_cancellation else "REQUEST"
            update = series_change_calendar(
                changed,
                method=method,
                attendee_email=registration.email,
                organizer=shared.organizer,
                include_joining_link=show_joining_link,
                page_url=shared.event_url(event),
            )
            message.attach(
                calendar_attachment(
                    calendar_bytes(update),
                    filename=f"{event.slug}.ics",
                    method=method,
                )
            )
    return message
