"""Calendar (.ics) files for sessions, written with icalendar.

Each session is one VEVENT whose UID never changes and whose SEQUENCE rises
with every change, so calendar apps update it in place; a cancelled session
stays in the file with STATUS:CANCELLED so subscribed calendars remove it.
Times carry the site's TZID with a matching VTIMEZONE.

Feeds and the confirmation email's file are published calendars
(METHOD:PUBLISH). When a session is cancelled or moved, the email about it
carries an iTIP update of that one session (RFC 5546, METHOD:CANCEL or
REQUEST, ``session_change_calendar``) that calendar apps apply to the copy
they hold. Only an email's file names anyone (its organiser and its one
recipient); public feeds never do.
"""

import datetime as dt
import email.utils
import hashlib
from collections.abc import Iterable
from typing import NamedTuple

import icalendar
from django.conf import settings
from django.db.models import Count, Max
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from core import tokens
from core.http import absolute_url
from core.http import private as private_response

from .models import (
    CalendarFeedToken,
    EventPage,
    EventSession,
    RegistrationStatus,
    SessionStatus,
    Venue,
)

PRODID = "-//Gather//Peer support groups//EN"

#: What a VEVENT reads, fetched as plain values: 2,000 sessions loaded as
#: model instances, each with its event and two venues, cost more than
#: writing the calendar.
_SESSION_FIELDS = (
    "uid",
    "start",
    "end",
    "status",
    "sequence",
    "public_note",
    "updated_at",
    "event_id",
)
_EVENT_FIELDS = ("title", "summary", "url_path", "slug")
_VENUE_FIELDS = ("id", "name", "room", "address", "setting", "online_joining_link")
CONTENT_TYPE = "text/calendar; charset=utf-8"


class _FeedSession:
    """The parts of a session ``session_event`` reads, from one row of values."""

    __slots__ = (*_SESSION_FIELDS, "event", "effective_venue")

    def __init__(self, values):
        for name, value in zip(_SESSION_FIELDS, values, strict=True):
            setattr(self, name, value)


class _FeedEvent:
    """The parts of an event page a VEVENT reads, from values."""

    __slots__ = (*_EVENT_FIELDS, "_router")

    def __init__(self, values, router):
        for name, value in zip(_EVENT_FIELDS, values, strict=True):
            setattr(self, name, value)
        self._router = router

    def get_url(self):
        """The page's URL as Wagtail routes it. Wagtail needs only the page's
        ``url_path`` for that, so one page object (``router``) serves every
        event of a feed instead of an EventPage each."""
        self._router.url_path = self.url_path
        return self._router.get_url()


def feed_sessions(sessions) -> Iterable[_FeedSession]:
    """``sessions`` in date order, ready for ``build_calendar``, from one
    query of plain values; one event and one Venue object per distinct event
    and venue, shared by their sessions."""
    fields = (
        *_SESSION_FIELDS,
        *(f"event__{name}" for name in _EVENT_FIELDS),
        *(f"venue__{name}" for name in _VENUE_FIELDS),
        *(f"event__venue__{name}" for name in _VENUE_FIELDS),
    )
    events, venues = {}, {}
    router = EventPage()
    event_at = len(_SESSION_FIELDS)
    venue_at = event_at + len(_EVENT_FIELDS)
    event_venue_at = venue_at + len(_VENUE_FIELDS)
    for row in sessions.order_by("start", "pk").values_list(*fields):
        session = _FeedSession(row[:event_at])
        event = events.get(session.event_id)
        if event is None:
            event = _FeedEvent(row[event_at:venue_at], router)
            events[session.event_id] = event
        session.event = event
        venue = row[venue_at:event_venue_at]
        if venue[0] is None:
            venue = row[event_venue_at:]
        if venue[0] is not None and venue[0] not in venues:
            venues[venue[0]] = Venue(**dict(zip(_VENUE_FIELDS, venue, strict=True)))
        session.effective_venue = venues.get(venue[0])
        yield session


def session_location(session: EventSession, *, include_joining_link=False) -> str:
    """Venue, room and address on one line; the joining link only if allowed."""
    venue = session.effective_venue
    if venue is None:
        return ""
    if venue.is_online:
        if include_joining_link and venue.online_joining_link:
            return f"{venue.name}: {venue.online_joining_link}"
        return venue.name
    parts = [venue.name, venue.room, " ".join(venue.address.split())]
    return ", ".join(part for part in parts if part)


def vevent_status(session, registration_status: str | None = None) -> str:
    """STATUS for a session: CANCELLED when it is cancelled, or, in a
    person's own calendar, when their place is; TENTATIVE while they wait
    for a place; else CONFIRMED."""
    if (
        session.status == SessionStatus.CANCELLED
        or registration_status == RegistrationStatus.CANCELLED
    ):
        return "CANCELLED"
    if registration_status == RegistrationStatus.WAITLISTED:
        return "TENTATIVE"
    return "CONFIRMED"


def session_event(
    session: EventSession,
    *,
    include_joining_link: bool = False,
    page_url: str | None = None,
    registration_status: str | None = None,
    organizer: icalendar.vCalAddress | None = None,
    stamp: dt.datetime | None = None,
) -> icalendar.Event:
    """One session as a VEVENT. Needs ``session.event`` and venues loaded.
    ``registration_status``: whose calendar this is, for a person's own;
    ``organizer`` (``calendar_organizer``) only in files sent by email;
    ``stamp`` (DTSTAMP): when the file was made, by default when the session
    last changed."""
    event_page = session.event
    if page_url is None:
        page_url = absolute_url(event_page.get_url() or "")
    zone = timezone.get_current_timezone()
    vevent = icalendar.Event()
    vevent.add("uid", session.uid)
    vevent.add("dtstamp", stamp or session.updated_at or timezone.now())
    vevent.add("sequence", session.sequence)
    vevent.add("dtstart", session.start.astimezone(zone))
    vevent.add("dtend", session.end.astimezone(zone))
    vevent.add("summary", event_page.title)
    description = [event_page.summary]
    if session.public_note:
        description.append(session.public_note)
    description.append(page_url)
    # Summaries and notes are plain text fields: nothing to strip.
    vevent.add("description", "\n\n".join(description))
    location = session_location(session, include_joining_link=include_joining_link)
    if location:
        vevent.add("location", location)
    vevent.add("url", page_url)
    vevent.add("status", vevent_status(session, registration_status))
    if organizer is not None:
        vevent.add("organizer", organizer)
    return vevent


def calendar_organizer(name: str) -> icalendar.vCalAddress:
    """ORGANIZER for the files emails carry: the address the emails come
    from (``DEFAULT_FROM_EMAIL``), named ``name`` (the organisation).

    The same address as the message's sender, because calendar apps apply an
    update only from the organiser of the event they hold, and some compare
    it with who sent the email.
    """
    display_name, address = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = icalendar.vCalAddress(f"mailto:{address}")
    organizer.params["CN"] = name or display_name or "Gather"
    return organizer


def _calendar(*, method: str, name: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    return calendar


def build_calendar(
    sessions: Iterable[EventSession],
    *,
    name: str,
    include_joining_link: bool = False,
    registration_status: str | None = None,
    organizer: icalendar.vCalAddress | None = None,
) -> icalendar.Calendar:
    """A published calendar (METHOD:PUBLISH) of ``sessions`` with the
    VTIMEZONE their times refer to; ``registration_status`` for one person's
    own calendar (see ``vevent_status``), ``organizer`` for a file sent by
    email (never in a feed).

    The confirmation email attaches the whole series this way, one VEVENT per
    session, and stays PUBLISH: an iTIP REQUEST carries one UID, and a series
    is one UID per session, so it could not be one. Calendar apps import a
    published event under its UID and ORGANIZER, and apply a later REQUEST or
    CANCEL with the same UID, the same organiser and a higher SEQUENCE
    (``session_change_calendar``) to it.
    """
    calendar = _calendar(method="PUBLISH", name=name)
    page_urls = {}  # one URL look-up per event, not per session
    for session in sessions:
        if session.event_id not in page_urls:
            page_urls[session.event_id] = absolute_url(session.event.get_url() or "")
        calendar.add_component(
            session_event(
                session,
                include_joining_link=include_joining_link,
                page_url=page_urls[session.event_id],
                registration_status=registration_status,
                organizer=organizer,
            )
        )
    calendar.add_missing_timezones()
    return calendar


def change_method(session: EventSession) -> str:
    """The iTIP method of the update for a session's latest change: CANCEL
    for a cancelled session, else REQUEST (the session, as it now is)."""
    return "CANCEL" if session.is_cancelled else "REQUEST"


def session_change_calendar(
    session: EventSession,
    *,
    attendee_email: str,
    organizer: icalendar.vCalAddress,
    include_joining_link: bool = False,
    page_url: str | None = None,
) -> icalendar.Calendar:
    """The update to one session that the email telling ``attendee_email``
    it was cancelled or moved carries (RFC 5546 iTIP).

    The same UID as the session's VEVENT in the confirmation's calendar, its
    new (higher) SEQUENCE and DTSTAMP now, so calendar apps replace the copy
    they hold: METHOD:CANCEL with STATUS:CANCELLED for a cancellation,
    METHOD:REQUEST with the new times and STATUS:CONFIRMED for a move. iTIP
    requires ORGANIZER and ATTENDEE; the attendee is the one recipient, with
    no reply asked for (RSVP=FALSE): nobody needs to accept a move.
    ``page_url``: the event's address, when the caller has it already.
    """
    calendar = _calendar(method=change_method(session), name=session.event.title)
    vevent = session_event(
        session,
        include_joining_link=include_joining_link,
        page_url=page_url,
        registration_status=RegistrationStatus.CONFIRMED,
        organizer=organizer,
        stamp=timezone.now(),
    )
    attendee = icalendar.vCalAddress(f"mailto:{attendee_email}")
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "ACCEPTED"
    attendee.params["RSVP"] = "FALSE"
    vevent.add("attendee", attendee)
    calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return calendar


def series_change_calendar(
    sessions: Iterable[EventSession],
    *,
    method: str,
    attendee_email: str,
    organizer: icalendar.vCalAddress,
    include_joining_link: bool = False,
    page_url: str | None = None,
) -> icalendar.Calendar:
    """The update a change to the rest of a series carries: one VEVENT per
    changed session, each with its own UID and new SEQUENCE, as
    ``session_change_calendar`` makes for one. ``method`` is REQUEST when
    they moved, CANCEL when they were cancelled: a change is one or the
    other for all of them."""
    sessions = list(sessions)
    calendar = _calendar(method=method, name=sessions[0].event.title)
    attendee = icalendar.vCalAddress(f"mailto:{attendee_email}")
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "ACCEPTED"
    attendee.params["RSVP"] = "FALSE"
    stamp = timezone.now()
    for session in sessions:
        vevent = session_event(
            session,
            include_joining_link=include_joining_link,
            page_url=page_url,
            registration_status=RegistrationStatus.CONFIRMED,
            organizer=organizer,
            stamp=stamp,
        )
        vevent.add("attendee", attendee)
        calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return calendar


def calendar_bytes(calendar: icalendar.Calendar) -> bytes:
    return calendar.to_ical()


# Private feed addresses -------------------------------------------------------

FEED_TOKEN_PURPOSE = "calendar.feed"


def feed_token(user) -> str:
    """The secret in ``user``'s private feed address, made on first use."""
    record = CalendarFeedToken.objects.filter(user=user).first()
    if record is None:
        record = _store_new_feed_token(user)
    return tokens.derive_token(FEED_TOKEN_PURPOSE, record.salt)


def regenerate_feed_token(user) -> str:
    """A new feed address for ``user``; the old one stops working at once."""
    return tokens.derive_token(FEED_TOKEN_PURPOSE, _store_new_feed_token(user).salt)


def _store_new_feed_token(user) -> CalendarFeedToken:
    salt = tokens.new_salt()
    record, _ = CalendarFeedToken.objects.update_or_create(
        user=user,
        defaults={
            "salt": salt,
            "token_hash": tokens.hash_token(
                tokens.derive_token(FEED_TOKEN_PURPOSE, salt)
            ),
        },
    )
    return record


def user_for_feed_token(token: str):
    """The active user a private feed address belongs to, or None."""
    if not tokens.is_plausible(token):
        return None
    record = (
        CalendarFeedToken.objects.select_related("user")
        .filter(token_hash=tokens.hash_token(token), user__is_active=True)
        .first()
    )
    return record.user if record else None


# HTTP ------------------------------------------------------------------------


class FeedHorizon(NamedTuple):
    """The start times a feed covers (``earliest``, and ``latest``
    exclusive), and when that window last moved."""

    earliest: dt.datetime
    latest: dt.datetime
    moved_at: dt.datetime


def site_feed_horizon(now: dt.datetime | None = None) -> FeedHorizon:
    """The whole-site feed's window: from midnight ``GATHER_SITE_FEED_DAYS_BACK``
    days ago to the end of the day ``GATHER_SITE_FEED_DAYS_AHEAD`` days
    ahead, local time.

    Whole days, so the window moves once a day, at midnight: in between, an
    unchanged feed keeps its ETag and calendar apps get their 304.
    """
    today = timezone.localdate(now)

    def midnight(days):
        day = today + dt.timedelta(days=days)
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    return FeedHorizon(
        earliest=midnight(-settings.GATHER_SITE_FEED_DAYS_BACK),
        latest=midnight(settings.GATHER_SITE_FEED_DAYS_AHEAD + 1),
        moved_at=midnight(0),
    )


def _fingerprint(sessions):
    """One query that changes whenever anything shown in the feed changes."""
    return sessions.order_by().aggregate(
        count=Count("pk"),
        sessions=Max("updated_at"),
        events=Max("event__last_published_at"),
        venues=Max("venue__updated_at"),
        event_venues=Max("event__venue__updated_at"),
    )


def calendar_response(
    request,
    sessions,
    *,
    name: str,
    filename: str,
    private: bool = False,
    include_joining_link: bool = False,
    max_age: int = 900,
    horizon: FeedHorizon | None = None,
    version: tuple | None = None,
):
    """An .ics response for a sessions queryset, answering 304 when unchanged.

    Calendar apps poll feeds often: the ETag and Last-Modified come from one
    aggregate query, and the calendar is built only when they changed. The
    sessions are fetched in one query whatever their number.

    ``horizon``: the window ``sessions`` are already limited to, for a feed
    that has one. Sessions leave and enter it without changing, so its
    bounds go into the ETag and its last move into Last-Modified.

    ``version``: instead of the aggregate, what the ETag is made of (a
    tuple whose last item is when it last changed, or None): the site feed
    passes the stored public content version (``core.public_cache.
    content_version``) and its filters, so its 304 is one single-row read
    rather than an aggregate over every session in its window.
    """
    if version is None:
        fingerprint = _fingerprint(sessions)
        stamps = [
            value for key, value in fingerprint.items() if key != "count" and value
        ]
    else:
        fingerprint = {"version": version}
        stamps = [version[-1]] if version[-1] else []
    if horizon is not None:
        stamps.append(horizon.moved_at)
    last_modified = max(stamps) if stamps else None
    shown = (sorted(fingerprint.items()), name, include_joining_link, horizon)
    digest = hashlib.sha256(repr(shown).encode()).hexdigest()[:32]
    etag = f'"{digest}"'
    cache_control = f"{'private' if private else 'public'}, max-age={max_age}"

    not_modified = get_conditional_response(
        request,
        etag=etag,
        last_modified=int(last_modified.timestamp()) if last_modified else None,
    )
    if not_modified is not None:
        not_modified["Cache-Control"] = cache_control
        return not_modified

    calendar = build_calendar(
        feed_sessions(sessions), name=name, include_joining_link=include_joining_link
    )
    response = HttpResponse(calendar_bytes(calendar), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["ETag"] = etag
    if last_modified:
        response["Last-Modified"] = http_date(last_modified.timestamp())
    if private:
        return private_response(response, cache=cache_control)
    response["Cache-Control"] = cache_control
    return response
