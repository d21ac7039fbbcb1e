"""Calendar (.ics) files for sessions, written with icalendar.

Each session is one VEVENT whose UID never changes and whose SEQUENCE rises
with every change, so calendar apps update it in place; a cancelled session
stays in the file with STATUS:CANCELLED so subscribed calendars remove it.
Times carry the site's TZID with a matching VTIMEZONE.
"""

from collections.abc import Iterable

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.html import strip_tags

from .models import EventSession, SessionStatus

PRODID = "-//Gather//Peer support groups//EN"


def absolute_url(path: str) -> str:
    """A full URL on the public site for a site-relative path."""
    return settings.BASE_URL + path


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


def session_event(
    session: EventSession, *, include_joining_link: bool = False
) -> icalendar.Event:
    """One session as a VEVENT. Needs ``session.event`` and venues loaded."""
    event_page = session.event
    page_url = absolute_url(event_page.url or "")
    zone = timezone.get_current_timezone()
    vevent = icalendar.Event()
    vevent.add("uid", session.uid)
    vevent.add("dtstamp", session.updated_at or timezone.now())
    vevent.add("sequence", session.sequence)
    vevent.add("dtstart", session.start.astimezone(zone))
    vevent.add("dtend", session.end.astimezone(zone))
    vevent.add("summary", event_page.title)
    description = [event_page.summary]
    if session.public_note:
        description.append(session.public_note)
    description.append(page_url)
    vevent.add("description", "\n\n".join(strip_tags(part) for part in description))
    location = session_location(session, include_joining_link=include_joining_link)
    if location:
        vevent.add("location", location)
    vevent.add("url", page_url)
    vevent.add(
        "status",
        "CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED",
    )
    return vevent


def build_calendar(
    sessions: Iterable[EventSession],
    *,
    name: str,
    include_joining_link: bool = False,
) -> icalendar.Calendar:
    """A VCALENDAR of ``sessions`` with the VTIMEZONE their times refer to."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    for session in sessions:
        calendar.add_component(
            session_event(session, include_joining_link=include_joining_link)
        )
    calendar.add_missing_timezones()
    return calendar


def calendar_bytes(calendar: icalendar.Calendar) -> bytes:
    return calendar.to_ical()
