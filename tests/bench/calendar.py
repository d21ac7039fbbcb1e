"""Benchmarks for the site calendar feed: a full build and a 304 answer.

The feed is asked for the sessions of the bench topic that
``generate_bench_data`` sizes to exactly 2,000 sessions within the feed's
window (``FEED_SESSIONS``: past ones from the last 30 days included), at any
scale and past share, so the feed does the same work at 1x and 10x and only
the tables around it grow. Its floor builds the
same calendar (the same properties and text) with icalendar from plain
tuples prepared before timing: no database, no Django, so the ratio is what
the feed costs on top of icalendar itself.
"""

import re

import icalendar
from django.conf import settings
from django.utils import timezone

from attendance.management.commands.generate_bench_data import (
    FEED_SESSIONS,
    FEED_TOPIC,
)
from events.calendars import PRODID, session_location, site_feed_horizon
from events.models import EventSession, SessionStatus

from .registry import Benchmark, register

FEED_PATH = f"/calendar/events.ics?topic={FEED_TOPIC}"
UID = re.compile(r"^UID:(.*)$", re.M)


def _rows(ctx):
    """The feed's sessions as plain tuples, fetched once, outside timing."""
    if "feed_rows" not in ctx.cache:
        zone = timezone.get_current_timezone()
        horizon = site_feed_horizon()
        sessions = (
            EventSession.objects.starting_between(horizon.earliest, horizon.latest)
            .published()
            .filter(event__tagged_topics__tag__slug=FEED_TOPIC)
            .select_related("event", "venue", "event__venue")
            .order_by("start", "pk")
        )
        rows = []
        for s in sessions:
            text = [s.event.summary]
            if s.public_note:
                text.append(s.public_note)
            text.append(settings.BASE_URL + s.event.url)
            rows.append(
                (
                    s.uid,
                    s.updated_at,
                    s.sequence,
                    s.start.astimezone(zone),
                    s.end.astimezone(zone),
                    s.event.title,
                    "\n\n".join(text),
                    session_location(s),
                    settings.BASE_URL + s.event.url,
                    "CANCELLED" if s.status == SessionStatus.CANCELLED else "CONFIRMED",
                )
            )
        ctx.cache["feed_rows"] = rows
    return ctx.cache["feed_rows"]


def feed(ctx):
    """The site feed, built from the database."""
    return ctx.get(FEED_PATH)


def feed_floor(ctx):
    """The same calendar built with icalendar from tuples in memory."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Groups and events")
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    for uid, stamp, sequence, start, end, title, text, where, url, status in _rows(ctx):
        vevent = icalendar.Event()
        vevent.add("uid", uid)
        vevent.add("dtstamp", stamp)
        vevent.add("sequence", sequence)
        vevent.add("dtstart", start)
        vevent.add("dtend", end)
        vevent.add("summary", title)
        vevent.add("description", text)
        if where:
            vevent.add("location", where)
        vevent.add("url", url)
        vevent.add("status", status)
        calendar.add_component(vevent)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode()


def feed_not_modified(ctx):
    """A calendar app polling with the ETag it already has: 304."""
    if "feed_etag" not in ctx.cache:
        ctx.cache["feed_etag"] = ctx.client.get(FEED_PATH)["ETag"]
    response = ctx.client.get(FEED_PATH, HTTP_IF_NONE_MATCH=ctx.cache["feed_etag"])
    if response.status_code != 304:
        raise AssertionError(f"expected 304, got {response.status_code}")
    return ""


def same_events(feed_text, floor_text):
    """Both calendars are the same bytes, with 2,000 sessions."""
    on_feed = UID.findall(feed_text)
    problems = []
    if len(on_feed) != FEED_SESSIONS:
        problems.append(f"the feed has {len(on_feed)} sessions, not {FEED_SESSIONS:,}")
    if feed_text != floor_text:
        feed_lines, floor_lines = feed_text.splitlines(), floor_text.splitlines()
        first = next(
            (
                n
                for n, pair in enumerate(zip(feed_lines, floor_lines, strict=False))
                if len(set(pair)) > 1
            ),
            min(len(feed_lines), len(floor_lines)),
        )
        problems.append(
            f"the feed and the floor differ from line {first + 1}: "
            f"{feed_lines[first : first + 1]} vs {floor_lines[first : first + 1]}"
        )
    return problems


register(
    Benchmark(
        name="site feed, 2,000 sessions",
        run=feed,
        floor=feed_floor,
        check=same_events,
        max_ratio=1.3,
        query_limit=15,
        description="/calendar/events.ics, uncached",
    )
)
register(
    Benchmark(
        name="site feed, 304",
        run=feed_not_modified,
        max_ratio=None,
        query_limit=15,
        max_median_ms=20,
        description="the same feed with If-None-Match: the ETag it answered",
    )
)
