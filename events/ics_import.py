"""Importing a partner organisation's calendar (.ics) as draft events.

Reading happens in two steps so a coordinator sees what will change before
anything does: ``plan_import`` parses and expands the file into a plan, and
``apply_import`` carries it out in one transaction. Each VEVENT (by UID)
becomes one draft EventPage; its occurrences (RRULE, RDATE and EXDATE
expanded by ``recurring-ical-events``) become sessions. Re-importing the
same file from the same source updates instead of duplicating, and
occurrences cancelled in the file, or gone from it, become cancelled
sessions. Events imported earlier that a later file leaves out are left as
they are: a partner may simply have exported a shorter date range.

What a session cannot hold is not dropped silently:

* LOCATION becomes the event's venue when it names exactly one ``Venue``
  (``match_venue``); otherwise it is kept as a line of the event's "what to
  expect".
* Online joining links are private (only confirmed registrants see a
  venue's link), so no LOCATION or DESCRIPTION text with a web address in
  it (``has_web_address``: http(s)://, www., or a domain followed by a
  path, such as ``meet.google.com/abc`` or ``zoom.us/j/1``) is copied to a
  page. A LOCATION with one, even inside other words ("Zoom: https://..."),
  is shown in the preview only, whole: the words around a link are often
  its meeting ID or passcode. A DESCRIPTION whose first paragraph (what
  would become the page's summary) has one is not copied either; the
  summary is the title, and the preview says so.
* URL becomes a "More information" link in "what to expect", unless it is
  on a video meeting service (``MEETING_HOSTS``): then it is a joining
  link, shown in the preview only.
* An all-day event (a DTSTART that is a date) becomes one session a day from
  ``ALL_DAY_START`` to ``ALL_DAY_END`` local time, since a session has a
  start and an end time; the preview says so. Like timed occurrences, only
  days inside the expansion window (from a day ago to ``HORIZON`` ahead)
  become sessions. An all-day event longer than ``ALL_DAY_MAX_DAYS`` (a
  "whole term" entry, or a crafted file) is not imported at all: the
  preview names it so its sessions can be added by hand, and the rest of
  the file imports as usual.
* An occurrence whose LOCATION differs from its event's (one date of a
  series moved to another room) gets the venue that location names as its
  own, or else a public note "Meets at: ..." (never for a location with a
  web address).

Planning is bounded: an event that would have more than
``max_occurrences()`` sessions in the window, or a file with more than
``max_sessions()``, is refused with a message naming the event and the cap,
and nothing is imported (``_check_repeats``). Repeat rules are counted
lazily with dateutil, stopping at the cap, before the expander (which
materialises every occurrence in the window) runs.

Re-imports update sessions' times and cancellations only: an event's
details (title, venue, "what to expect") and a session's place may have
been edited since, so they are left as they are.
"""

import dataclasses
import datetime as dt
import hashlib
import re
import time
from urllib.parse import urlsplit

import icalendar
import recurring_ical_events
from dateutil import rrule
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.dates import site_zone

from .drafts import create_draft_event
from .errors import EventsError
from .models import (
    MAX_SESSION_LENGTH,
    EventIndexPage,
    EventPage,
    SessionStatus,
    Venue,
)
from .sessions import add_session, cancel_session, sync_session

#: Largest file accepted, in bytes.
MAX_ICS_BYTES = 2 * 1024 * 1024
#: Properties an event may have once only (RFC 5545): the rest of the
#: import reads each as one value.
ONCE_ONLY = ("UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID")
#: The endings a calendar file's name may have.
ICS_EXTENSIONS = (".ics", ".ical", ".icalendar", ".ifb")
#: How far ahead recurring events are expanded.
HORIZON = dt.timedelta(days=366)
#: The local times an all-day event's sessions run: a working day, which is
#: when such events (fairs, awareness days) are staffed.
ALL_DAY_START = dt.time(9, 0)
ALL_DAY_END = dt.time(17, 0)
#: The longest all-day event imported, in days. Each day becomes a session,
#: so a longer one would fill the event with sessions nobody planned.
ALL_DAY_MAX_DAYS = 14

#: Defaults of ``GATHER_ICS_MAX_OCCURRENCES`` and ``GATHER_ICS_MAX_SESSIONS``.
MAX_OCCURRENCES = 200
MAX_SESSIONS = 1000
#: Repeats stepped through while counting the file's repeat rules (before
#: and inside the window, every rule together) beyond which the file is
#: refused: a file that needs more to reach and fill the coming year is not
#: a plan of sessions (every minute since 1970, thousands of old series).
MAX_RULE_STEPS = 200_000
#: Seconds the repeat rules of one file may take to check before the file
#: is refused as too complex (each event's check is bounded on its own,
#: see ``_never_repeats``; this bounds a file of many).
MAX_PLANNING_SECONDS = 5.0
#: The Gregorian calendar repeats itself every 400 years (146,097 days, a
#: whole number of weeks): a rule with no date in 400 years has none ever.
CALENDAR_CYCLE_YEARS = 400


def max_occurrences() -> int:
    """Most sessions one imported event may have."""
    return getattr(settings, "GATHER_ICS_MAX_OCCURRENCES", MAX_OCCURRENCES)


def max_sessions() -> int:
    """Most sessions one imported file may have."""
    return getattr(settings, "GATHER_ICS_MAX_SESSIONS", MAX_SESSIONS)


#: A web address in free text: with a scheme, starting www., or a domain
#: followed by a path (``meet.google.com/abc-defg-hij``, ``zoom.us/j/1``).
#: The domain may not start inside a word or an email address. Written so
#: that matching stays linear in the text's length.
#: Video meeting services: a URL on one of these (or a subdomain) is a
#: joining link, not a page about the event.
MEETING_HOSTS = (
    "zoom.us",
    "meet.google.com",
    "teams.microsoft.com",
    "teams.live.com",
    "webex.com",
    "whereby.com",
    "meet.jit.si",
    "gotomeeting.com",
    "gotomeet.me",
)
_WEB_ADDRESS = re.compile(
    r"(?i)(?:https?://|\bwww\.)\S*|(?<![\w.@-])(?:[a-z0-9-]+\.)+[a-z]{2,}/\S*"
)


@dataclasses.dataclass
class Occurrence:
    """One meeting of an imported event."""

    uid: str
    start: dt.datetime
    end: dt.datetime
    cancelled: bool
    #: Days the all-day calendar occurrence this session is a day of lasts;
    #: 0 for an event with times.
    days: int = 0
    #: This occurrence's LOCATION, as written.
    location: str = ""
    #: Where this occurrence meets when not where the event does: a venue
    #: its location names, or else a note saying where (see ``plan_import``).
    venue: Venue | None = None
    public_note: str = ""


@dataclasses.dataclass
class PlannedEvent:
    """What the import will do with one VEVENT UID."""

    uid: str
    title: str
    summary: str
    occurrences: list[Occurrence]
    existing: EventPage | None = None
    #: The file's LOCATION, as written.
    location: str = ""
    #: The venue LOCATION names, if exactly one does.
    venue: Venue | None = None
    #: The file's URL, when it is a web address.
    url: str = ""
    #: Days an all-day event lasts; 0 for an event with times.
    all_day_days: int = 0

    @property
    def location_is_link(self) -> bool:
        """Whether LOCATION has a web address in it (likely an online joining
        link)."""
        return is_link(self.location)

    @property
    def url_is_link(self) -> bool:
        """Whether URL is on a video meeting service (a joining link)."""
        host = (urlsplit(self.url).hostname or "").rstrip(".")
        return any(host == h or host.endswith(f".{h}") for h in MEETING_HOSTS)

    @property
    def _summary_paragraph(self) -> str:
        return self.summary.split("\n\n")[0]

    @property
    def description_has_link(self) -> bool:
        """Whether the part of DESCRIPTION a new event's summary is made of
        has a web address in it, so it is not copied (see the module)."""
        return has_web_address(self._summary_paragraph)

    @property
    def page_summary(self) -> str:
        """The public summary for a new event: DESCRIPTION's first paragraph,
        or the title when there is none or it has a web address in it."""
        if self.description_has_link:
            return self.title
        return self._summary_paragraph[:500] or self.title

    @property
    def location_text(self) -> str:
        """The location kept as text on the event: none when a venue matched
        or when it is a link that must not be public."""
        if self.venue is not None or self.location_is_link:
            return ""
        return self.location

    @property
    def what_to_expect(self) -> str:
        """Rich text for a new event: where it is and where to find out more."""
        parts = []
        if self.location_text:
            parts.append(
                format_html(
                    "<p>{}</p>", _("Where: %(place)s") % {"place": self.location_text}
                )
            )
        if self.url and not self.url_is_link:
            parts.append(
                format_html(
                    '<p>{} <a href="{}">{}</a></p>',
                    _("More information:"),
                    self.url,
                    self.url,
                )
            )
        return "".join(parts)

    @property
    def all_day_note(self) -> str:
        """What happens to an all-day event, for the preview; or ''."""
        if not self.all_day_days:
            return ""
        times = {
            "start": time_format(ALL_DAY_START, "TIME_FORMAT"),
            "end": time_format(ALL_DAY_END, "TIME_FORMAT"),
        }
        if self.all_day_days == 1:
            return (
                _(
                    "All-day event: imported as %(start)s to %(end)s; change the "
                    "session's times if they differ."
                )
                % times
            )
        return ngettext(
            "All-day event over %(days)s day: imported as one session a day, "
            "%(start)s to %(end)s; change the sessions' times if they differ.",
            "All-day event over %(days)s days: imported as one session a day, "
            "%(start)s to %(end)s; change the sessions' times if they differ.",
            self.all_day_days,
        ) % {**times, "days": self.all_day_days}

    @property
    def action(self) -> str:
        return "update" if self.existing else "create"

    @property
    def first_start(self):
        return min((o.start for o in self.occurrences), default=None)

    @property
    def cancelled_count(self):
        return sum(o.cancelled for o in self.occurrences)

    @property
    def elsewhere_count(self):
        """Sessions given a place other than the event's location."""
        return sum(bool(o.venue or o.public_note) for o in self.occurrences)

    @property
    def link_elsewhere_count(self):
        """Sessions whose own location is a link, left off the page."""
        return sum(
            bool(o.location and is_link(o.location) and o.location != self.location)
            for o in self.occurrences
        )


@dataclasses.dataclass
class SkippedEvent:
    """A VEVENT UID the import leaves out, with what the preview says why."""

    uid: str
    title: str
    message: str


@dataclasses.dataclass
class ImportPlan:
    """The whole preview: one entry per event in the file."""

    source: str
    events: list[PlannedEvent]
    #: Events imported earlier from this source that the file no longer has.
    untouched: int = 0
    #: Events in the file that are not imported, and why.
    skipped: list[SkippedEvent] = dataclasses.field(default_factory=list)

    @property
    def creates(self):
        return [e for e in self.events if e.action == "create"]

    @property
    def updates(self):
        return [e for e in self.events if e.action == "update"]


def read_calendar(data: bytes) -> icalendar.Calendar:
    """Parse ``data`` or raise EventsError saying what is wrong with it."""
    if len(data) > MAX_ICS_BYTES:
        raise EventsError(
            _("The file is larger than %(size)s MB. Export a shorter date range.")
            % {"size": MAX_ICS_BYTES // (1024 * 1024)},
            code="too_large",
        )
    # Whatever its name, a calendar file starts so; anything else (a
    # workbook or a PDF renamed) is refused before it is parsed, as is one
    # with a NUL character: text never has one, and PostgreSQL cannot store it.
    if (
        data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper() != b"BEGIN:VCALENDAR"
        or b"\x00" in data
    ):
        raise EventsError(_("This is not a calendar (.ics) file."), code="malformed")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as error:
        raise EventsError(
            _("This is not a calendar file we can read (%(detail)s).")
            % {"detail": str(error)[:200]},
            code="malformed",
        ) from error
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise EventsError(_("This is not a calendar (.ics) file."), code="malformed")
    events = calendar.walk("VEVENT")
    if not events:
        raise EventsError(_("The file has no events in it."), code="no_events")
    for vevent in events:
        _check_event(vevent)
    return calendar


def _check_event(vevent) -> None:
    uid = str(_first(vevent.get("UID", ""))).strip()
    if not uid:
        raise EventsError(_("An event in the file has no UID."), code="malformed")
    if "DTSTART" not in vevent:
        raise EventsError(
            _("The event %(uid)s has no start time.") % {"uid": uid}, code="malformed"
        )
    for name in ONCE_ONLY:
        if isinstance(vevent.get(name), list):
            raise EventsError(
                _("The event %(uid)s has more than one %(name)s.")
                % {"uid": uid, "name": name},
                code="malformed",
            )
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        prop = vevent.get(name)
        if prop is None:
            continue
        tzid = prop.params.get("TZID")
        try:
            value = prop.dt
        except ValueError as error:  # icalendar's BrokenCalendarProperty
            raise EventsError(
                _("The event %(uid)s has a %(name)s we cannot read.")
                % {"uid": uid, "name": name},
                code="malformed",
            ) from error
        if tzid and isinstance(value, dt.datetime) and value.tzinfo is None:
            raise EventsError(
                _("The event %(uid)s uses a time zone we do not know: %(tzid)s.")
                % {"uid": uid, "tzid": tzid},
                code="unknown_timezone",
            )


def source_name(calendar: icalendar.Calendar, fallback: str) -> str:
    """A default name for the file's source: its calendar name, else ``fallback``."""
    name = str(calendar.get("X-WR-CALNAME", "")).strip()
    return (name or fallback)[:255]


def has_web_address(text: str) -> bool:
    """Whether ``text`` has a web address anywhere in it (see ``_WEB_ADDRESS``)."""
    return bool(_WEB_ADDRESS.search(text))


def is_link(location: str) -> bool:
    """Whether a location has a web address in it, likely an online joining
    link, rather than only naming a place."""
    return has_web_address(location)


def _normalise_place(text) -> str:
    """A place as compared: any case, line breaks as commas, single spaces,
    no space before a comma, no full stop or comma at the end."""
    text = re.sub(r"\s*[\r\n]+\s*", ", ", str(text or "").casefold())
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*,\s*", ", ", text)
    return text.strip(" ,.")


def venue_places(venue: Venue) -> set[str]:
    """The ways a calendar may write ``venue``: its name, alone or followed
    by its room and/or its address."""
    name, room, address = (
        _normalise_place(venue.name),
        _normalise_place(venue.room),
        _normalise_place(venue.address),
    )
    places = {name}
    if room:
        places.add(f"{name}, {room}")
    if address:
        places.add(f"{name}, {address}")
        if room:
            places.add(f"{name}, {room}, {address}")
    return places


def match_venue(location: str, venues) -> Venue | None:
    """The one venue of ``venues`` that ``location`` names exactly (see
    ``venue_places``), or None.

    Conservative on purpose: a wrong venue sends people to the wrong place,
    while a location kept as text is only one more thing to tidy. So a
    location two venues could be (two rooms of one building, written
    without the room) matches neither.
    """
    wanted = _normalise_place(location)
    if not wanted:
        return None
    matches = [venue for venue in venues if wanted in venue_places(venue)]
    return matches[0] if len(matches) == 1 else None


def _first(value):
    """The first of a property given more than once, else the property."""
    return value[0] if isinstance(value, list) and value else value


def _web_address(value) -> str:
    """``value`` when it is an http(s) address, else ''. Anything else
    (javascript:, a file path) must never become a link on a page."""
    text = str(value or "").strip()
    if len(text) > 500:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError:
        return ""
    return text


def _text_property(vevent, name) -> str:
    """A text property on one line; a property given twice (which some
    calendar programs write) is joined, not shown as a Python list."""
    value = vevent.get(name, "")
    values = value if isinstance(value, list) else [value]
    text = "; ".join(str(v) for v in values if str(v).strip())
    return " ".join(text.split())


def _title(vevent) -> str:
    return _text_property(vevent, "SUMMARY")[:255] or _("Untitled event")


def _location(vevent) -> str:
    """A VEVENT's LOCATION on one line."""
    return _text_property(vevent, "LOCATION")[:500]


def _place_occurrences(planned: PlannedEvent, venues) -> None:
    """Give the occurrences that meet somewhere other than the event (a
    changed LOCATION on one date of a series) a venue of their own when
    their location names one, or else a note saying where, so the place is
    not lost. A link is never put in a public note."""
    usual = _normalise_place(planned.location)
    for occurrence in planned.occurrences:
        if not occurrence.location or _normalise_place(occurrence.location) == usual:
            continue
        occurrence.venue = match_venue(occurrence.location, venues)
        if occurrence.venue is None and not is_link(occurrence.location):
            occurrence.public_note = (
                _("Meets at: %(place)s") % {"place": occurrence.location}
            )[:255]


def _all_day_days(vevent) -> int:
    """How many days an all-day event lasts; 0 when it has times. An end
    before the start counts as the expander reads it: the other way round."""
    first = vevent.DTSTART
    if isinstance(first, dt.datetime):
        return 0
    if "DTEND" in vevent:
        last = vevent.DTEND
        if isinstance(last, dt.datetime):
            last = last.date()
        days = abs((last - first).days)
    elif "DURATION" in vevent:
        days = vevent.DURATION.days
    else:
        days = 1  # RFC 5545: a date with no end lasts that one day
    return max(1, days)


def _long_all_day_events(calendar) -> dict[str, SkippedEvent]:
    """The events with an all-day date (their own or one of their overridden
    dates) longer than ``ALL_DAY_MAX_DAYS``, by UID.

    Read from the file's VEVENTs, before expansion: a long all-day event
    that repeats would otherwise be expanded into one occurrence for every
    repeat that overlaps the window, each of thousands of days."""
    longest: dict[str, int] = {}
    titles: dict[str, str] = {}
    for vevent in calendar.walk("VEVENT"):
        days = _all_day_days(vevent)
        if days > ALL_DAY_MAX_DAYS:
            uid = str(vevent["UID"]).strip()
            longest[uid] = max(days, longest.get(uid, 0))
            if uid not in titles or "RECURRENCE-ID" not in vevent:
                titles[uid] = _title(vevent)
    return {
        uid: SkippedEvent(
            uid=uid,
            title=titles[uid],
            message=_(
                "“%(title)s” runs for %(days)s days. Gather imports all-day "
                "events of up to %(most)s days; add its sessions by hand."
            )
            % {"title": titles[uid], "days": days, "most": ALL_DAY_MAX_DAYS},
        )
        for uid, days in longest.items()
    }


def _timed_length(vevent) -> dt.timedelta:
    """How long an event with times lasts; zero for an all-day one or when
    its end cannot be compared with its start."""
    first = vevent.DTSTART
    if not isinstance(first, dt.datetime):
        return dt.timedelta(0)
    if "DTEND" in vevent:
        last = vevent.DTEND
        if not isinstance(last, dt.datetime):
            return dt.timedelta(0)
        if (first.tzinfo is None) != (last.tzinfo is None):
            return dt.timedelta(0)
        return last - first
    if "DURATION" in vevent:
        return vevent.DURATION
    return dt.timedelta(0)


def _long_timed_events(calendar) -> dict[str, SkippedEvent]:
    """The events with times (their own or one overridden date's) longer
    than a session may last (``MAX_SESSION_LENGTH``), by UID."""
    titles: dict[str, str] = {}
    for vevent in calendar.walk("VEVENT"):
        if _timed_length(vevent) > MAX_SESSION_LENGTH:
            uid = str(vevent["UID"]).strip()
            if uid not in titles or "RECURRENCE-ID" not in vevent:
                titles[uid] = _title(vevent)
    return {
        uid: SkippedEvent(
            uid=uid,
            title=title,
            message=_(
                "“%(title)s” lasts longer than %(most)s days, the longest a "
                "session can be; add its sessions by hand."
            )
            % {"title": title, "most": MAX_SESSION_LENGTH.days},
        )
        for uid, title in titles.items()
    }


def _without_events(calendar, uids) -> icalendar.Calendar:
    """A copy of ``calendar`` without the VEVENTs of ``uids``."""
    kept = icalendar.Calendar()
    kept.update(calendar)
    kept.subcomponents = [
        component
        for component in calendar.subcomponents
        if component.name != "VEVENT" or str(component["UID"]).strip() not in uids
    ]
    return kept


def _aware(value, zone) -> dt.datetime:
    """A datetime in the site's zone; dates (all-day) start at local midnight."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0))
    if value.tzinfo is None:  # floating time: the site's local time
        value = value.replace(tzinfo=zone)
    return value


def _session_uid(
    source: str, uid: str, recurrence: dt.datetime | None, day: int = 0
) -> str:
    """A stable session UID: the same occurrence of the same source's event
    always maps to the same session, and sources never collide. A one-off
    event has one session whatever its time, so a moved one-off event
    updates its session instead of replacing it. ``day`` counts the days of
    a multi-day all-day occurrence after its first, each a session."""
    anchor = recurrence.astimezone(dt.UTC).isoformat() if recurrence else ""
    key = f"{source}\n{uid}\n{anchor}"
    if day:
        key += f"\n{day}"
    return f"import-{hashlib.sha256(key.encode()).hexdigest()[:32]}@gather"


def _recurring_uids(calendar) -> set[str]:
    """UIDs of events that repeat (RRULE or RDATE) or have overridden dates."""
    return {
        str(vevent["UID"]).strip()
        for vevent in calendar.walk("VEVENT")
        if "RRULE" in vevent or "RDATE" in vevent or "RECURRENCE-ID" in vevent
    }


def _readable(read, calendar, **kwargs):
    """``read(calendar, **kwargs)``, with a value it cannot read turned into
    an EventsError."""
    try:
        return read(calendar, **kwargs)
    except ValueError as error:  # a broken RRULE, EXDATE, DURATION...
        raise EventsError(
            _("An event in the file has a value we cannot read (%(detail)s).")
            % {"detail": str(error)[:200]},
            code="malformed",
        ) from error


def _too_many_for_event(vevent):
    cap = max_occurrences()
    return EventsError(
        _(
            "“%(title)s” repeats more than %(cap)s times in the coming year. "
            "Gather imports at most %(cap)s sessions an event, so nothing was "
            "imported: change how often it repeats in the calendar, or add "
            "its sessions by hand."
        )
        % {"title": _title(vevent), "cap": cap},
        code="too_many_occurrences",
    )


def _never_happens(vevent):
    return EventsError(
        _(
            "“%(title)s” repeats by a rule that never gives a date (such as "
            "30 February), so nothing was imported: fix how it repeats in "
            "the calendar, or add its sessions by hand."
        )
        % {"title": _title(vevent)},
        code="never_repeats",
    )


def _too_many_for_file():
    return EventsError(
        _(
            "The file has more than %(cap)s sessions in the coming year. "
            "Gather imports at most %(cap)s at a time, so nothing was "
            "imported: export a shorter date range or fewer events."
        )
        % {"cap": max_sessions()},
        code="too_many_sessions",
    )


def _window(now):
    """The expansion window: from a day ago to ``HORIZON`` ahead."""
    return now - dt.timedelta(days=1), now + HORIZON


def _comparable(value, like):
    """``value`` (a date or datetime) made comparable with ``like``: naive
    or aware as ``like`` is, dates at midnight."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0))
    if like.tzinfo is None and value.tzinfo is not None:
        return value.astimezone(site_zone()).replace(tzinfo=None)
    if like.tzinfo is not None and value.tzinfo is None:
        return value.replace(tzinfo=site_zone())
    return value


def _too_complex():
    return EventsError(
        _(
            "The repeat rules in this file take too long to work out, so "
            "nothing was imported: export a shorter date range or fewer "
            "events."
        ),
        code="too_complex",
    )


class _NeverRepeats(Exception):
    """A repeat rule that can never give a date (February 30th)."""


def _never_repeats(rule, first) -> bool:
    """Whether ``rule`` (a dateutil rrule starting at ``first``) can never
    give a date, found out in bounded time.

    dateutil looks for a rule's next date all the way to the year 9999, day
    by day for a daily rule, so a rule that cannot match ("every 30
    February") takes seconds to give nothing. Moved forward by whole
    400-year cycles, every date keeps its weekday and the rule gives the
    same dates, shifted: started less than two cycles before the year 9999,
    its search ends within those cycles, and if it finds nothing there it
    would find nothing anywhere.
    """
    cycles = (dt.MAXYEAR - first.year) // CALENDAR_CYCLE_YEARS - 1
    if cycles <= 0:
        return False
    moved = rule.replace(
        dtstart=first.replace(year=first.year + cycles * CALENDAR_CYCLE_YEARS),
        until=None,
        count=None,
    )
    return next(iter(moved), None) is None


def _rule_count(recur, first, start, stop, cap, steps) -> int:
    """How many times one RRULE (a ``vRecur``) starting at ``first`` repeats
    between ``start`` and ``stop``, counted lazily and stopping past
    ``cap``. ``steps`` (a one-item list) counts the repeats stepped through
    for the whole file, up to ``MAX_RULE_STEPS``."""
    recur = dict(recur)
    # UNTIL is applied here: dateutil refuses an UNTIL whose kind (date,
    # floating, UTC) differs from DTSTART's, which calendar files often have.
    until = recur.pop("UNTIL", [None])[0]
    try:
        rule = rrule.rrulestr(icalendar.vRecur(recur).to_ical().decode(), dtstart=first)
        start, stop = _comparable(start, first), _comparable(stop, first)
        if until is not None:
            stop = min(stop, _comparable(until, first) + dt.timedelta(seconds=1))
        if _never_repeats(rule, first):
            raise _NeverRepeats
        found = 0
        for when in rule:
            steps[0] += 1
            if steps[0] > MAX_RULE_STEPS:
                raise _too_complex()
            if when >= stop:
                break
            if when >= start:
                found += 1
                if found > cap:
                    break
    except (TypeError, OverflowError) as error:
        raise ValueError(str(error)) from error
    return found


def _check_repeats(calendar, *, now) -> None:
    """Refuse the file, before any occurrence is made, when an event repeats
    more than ``max_occurrences()`` times in the window or the file would
    have more than ``max_sessions()`` sessions.

    One-off events count one each when they start in the window; repeating
    ones count each RRULE's repeats (lazily, stopping at the cap) and their
    RDATEs. Each day of an all-day event is a session of its own.
    """
    start, stop = _window(now)
    per_event, per_file = max_occurrences(), max_sessions()
    total, steps = 0, [0]
    deadline = time.monotonic() + MAX_PLANNING_SECONDS
    for vevent in calendar.walk("VEVENT"):
        if time.monotonic() > deadline:
            raise _too_complex()
        first = vevent.DTSTART
        if not isinstance(first, dt.datetime):
            first = dt.datetime.combine(first, dt.time(0))
        days = _all_day_days(vevent) or 1
        count = 0
        rules = vevent.get("RRULE", [])
        for recur in rules if isinstance(rules, list) else [rules]:
            try:
                count += _rule_count(
                    recur, first, start, stop, per_event - count, steps
                )
            except _NeverRepeats:
                raise _never_happens(vevent) from None
            if count > per_event:
                raise _too_many_for_event(vevent)
        rdates = vevent.get("RDATE", [])
        for rdate in rdates if isinstance(rdates, list) else [rdates]:
            for value in rdate.dts:
                when = value.dt[0] if isinstance(value.dt, tuple) else value.dt
                count += (
                    _comparable(start, first)
                    <= _comparable(when, first)
                    < (_comparable(stop, first))
                )
        if not rules and not rdates:
            count = int(
                _comparable(start, first) - dt.timedelta(days=days)
                <= first
                < _comparable(stop, first)
            )
        if count > per_event:
            raise _too_many_for_event(vevent)
        total += count * min(days, ALL_DAY_MAX_DAYS)
        if total > per_file:
            raise _too_many_for_file()


def _check_counts(calendar, occurrences) -> None:
    """The caps again, on what was expanded: overridden dates and
    cancellations can add occurrences that ``_check_repeats`` does not
    count."""
    first = {}
    for vevent in calendar.walk("VEVENT"):
        first.setdefault(str(vevent["UID"]).strip(), vevent)
    for uid, found in occurrences.items():
        if len(found) > max_occurrences():
            raise _too_many_for_event(first[uid])
    if sum(len(found) for found in occurrences.values()) > max_sessions():
        raise _too_many_for_file()


def _expand(calendar, *, source, now) -> dict[str, list[Occurrence]]:
    zone = site_zone()
    recurring = _recurring_uids(calendar)
    start, stop = _window(now)
    found: dict[str, list[Occurrence]] = {}
    for vevent in recurring_ical_events.of(calendar).between(start, stop):
        uid = str(vevent["UID"]).strip()
        begins = _aware(vevent.DTSTART, zone)
        days = _all_day_days(vevent)
        if days:
            # A session has times: each day of an all-day event becomes one
            # session from ALL_DAY_START to ALL_DAY_END (see the preview),
            # if it is inside the window, as timed occurrences must be.
            # Longer events were left out before expansion; the bound on the
            # range keeps any that were not from running on regardless.
            spans = []
            for offset in range(min(days, ALL_DAY_MAX_DAYS)):
                day = vevent.DTSTART + dt.timedelta(days=offset)
                session_start = dt.datetime.combine(day, ALL_DAY_START, tzinfo=zone)
                session_end = dt.datetime.combine(day, ALL_DAY_END, tzinfo=zone)
                if session_end > start and session_start < stop:
                    spans.append((offset, session_start, session_end))
        else:
            if "DTEND" in vevent:
                ends = _aware(vevent.DTEND, zone)
            else:
                ends = begins + (
                    vevent.DURATION if "DURATION" in vevent else dt.timedelta(hours=1)
                )
            if ends <= begins:
                ends = begins + dt.timedelta(hours=1)
            spans = [(0, begins, ends)]
        recurrence = vevent.get("RECURRENCE-ID")
        anchor = None
        if uid in recurring:
            anchor = _aware(recurrence.dt, zone) if recurrence else begins
        status = str(vevent.get("STATUS", "")).upper()
        # A day keeps its offset from the event's first day, so its UID
        # stays the same as earlier days drop out of the window.
        for day, session_start, session_end in spans:
            found.setdefault(uid, []).append(
                Occurrence(
                    uid=_session_uid(source, uid, anchor, day),
                    start=session_start,
                    end=session_end,
                    cancelled=status == "CANCELLED",
                    days=days,
                    location=_location(vevent),
                )
            )
    for occurrences in found.values():
        occurrences.sort(key=lambda o: o.start)
    return found


def plan_import(data: bytes, *, source: str, now=None) -> ImportPlan:
    """Read ``data`` and say what importing it would create or update."""
    now = now or timezone.now()
    calendar = read_calendar(data)
    source = source.strip()[:255]
    if not source:
        raise EventsError(_("Give the calendar's source a name."), code="no_source")
    too_long = {
        **_readable(_long_timed_events, calendar),
        **_readable(_long_all_day_events, calendar),
    }
    calendar = _without_events(calendar, too_long)
    _readable(_check_repeats, calendar, now=now)
    occurrences = _readable(_expand, calendar, source=source, now=now)
    _check_counts(calendar, occurrences)
    first_by_uid = {}
    for vevent in calendar.walk("VEVENT"):
        uid = str(vevent["UID"]).strip()
        if "RECURRENCE-ID" not in vevent or uid not in first_by_uid:
            first_by_uid[uid] = vevent
    existing = {
        page.import_uid: page
        for page in EventPage.objects.filter(
            import_source=source, import_uid__in=list(first_by_uid)
        )
    }
    venues = list(Venue.objects.all())
    planned = []
    for uid, vevent in first_by_uid.items():
        location = _location(vevent)
        found = occurrences.get(uid, [])
        planned.append(
            PlannedEvent(
                uid=uid,
                title=_title(vevent),
                summary=str(_first(vevent.get("DESCRIPTION", ""))).strip(),
                occurrences=found,
                existing=existing.get(uid),
                location=location,
                venue=match_venue(location, venues),
                url=_web_address(_first(vevent.get("URL"))),
                # As expanded: the expander orders an end before the start.
                all_day_days=max(
                    (o.days for o in found), default=_all_day_days(vevent)
                ),
            )
        )
        _place_occurrences(planned[-1], venues)
    planned = [p for p in planned if p.occurrences or p.existing]
    if not planned and too_long:
        raise EventsError(
            " ".join(skipped.message for skipped in too_long.values()),
            code="all_day_too_long",
        )
    if not planned:
        raise EventsError(
            _("None of the events in the file take place in the coming year."),
            code="no_events",
        )
    untouched = (
        EventPage.objects.filter(import_source=source)
        .exclude(import_uid__in=[*first_by_uid, *too_long])
        .count()
    )
    return ImportPlan(
        source=source,
        events=planned,
        untouched=untouched,
        skipped=list(too_long.values()),
    )


@dataclasses.dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    sessions_added: int = 0
    sessions_changed: int = 0
    sessions_cancelled: int = 0


@transaction.atomic
def apply_import(plan: ImportPlan, *, index: EventIndexPage, user=None) -> ImportResult:
    """Create or update draft events as planned. All or nothing."""
    result = ImportResult()
    for planned in plan.events:
        event = planned.existing
        if event is None:
            event = create_draft_event(
                index=index,
                title=planned.title,
                summary=planned.page_summary,
                user=user,
                venue=planned.venue,
                what_to_expect=planned.what_to_expect,
                import_source=plan.source,
                import_uid=planned.uid,
            )
            result.created += 1
        else:
            result.updated += 1
        _sync_sessions(event, planned, result)
    return result


def _sync_sessions(event, planned, result) -> None:
    current = {
        session.uid: session for session in event.sessions.select_related("venue")
    }
    seen = set()
    for occurrence in planned.occurrences:
        seen.add(occurrence.uid)
        session = current.get(occurrence.uid)
        if session is None:
            _add_session(event, occurrence, result)
            continue
        # A partner's calendar: a cancellation made in Gather wins, a
        # cancelled date is only cancelled, and the session's place may have
        # been edited since, so it is kept (see the module).
        done = sync_session(
            session=session,
            start=occurrence.start,
            end=occurrence.end,
            venue=session.venue,
            cancelled=occurrence.cancelled,
            reinstate=False,
            move_when_cancelling=False,
        )
        result.sessions_changed += done.moved
        result.sessions_cancelled += done.cancelled
    # Upcoming sessions that the file no longer has were cancelled at source.
    for uid, session in current.items():
        if (
            uid not in seen
            and not session.is_past
            and session.status != SessionStatus.CANCELLED
        ):
            cancel_session(session=session)
            result.sessions_cancelled += 1


def _add_session(event, occurrence, result) -> None:
    session = add_session(
        event=event,
        start=occurrence.start,
        end=occurrence.end,
        venue=occurrence.venue,
        public_note=occurrence.public_note,
        uid=occurrence.uid,
    )
    result.sessions_added += 1
    if occurrence.cancelled:
        cancel_session(session=session)
        result.sessions_cancelled += 1
