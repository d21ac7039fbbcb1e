"""Benchmarks for the public events pages: the listing and one event.

Each is paired with its floor in ``floors`` and checked against it: the floor
must show the same sessions (titles, times, counts) as the real page, so the
comparison is between two renderings of the same content.
"""

import re

from django.urls import reverse

from attendance.management.commands.generate_bench_data import INDEX_SLUG
from events.models import EventIndexPage, EventPage, RegistrationMode

from .registry import Benchmark, register


def bench_index(ctx):
    """The bench events listing page (cached for the run)."""
    if "index" not in ctx.cache:
        ctx.cache["index"] = EventIndexPage.objects.get(slug=INDEX_SLUG)
    return ctx.cache["index"]


def bench_event(ctx):
    """An event that exercises most of its template (cached for the run).

    It has a capacity and required sign-up (places left), a workshop, topics,
    facilitators and a session at another venue, where such an event exists.
    """
    if "event" not in ctx.cache:
        events = EventPage.objects.child_of(bench_index(ctx)).order_by("path")
        rich = events.filter(
            workshop__isnull=False,
            capacity__isnull=False,
            registration_mode=RegistrationMode.REQUIRED,
            facilitators__isnull=False,
            sessions__venue__isnull=False,
        )
        ctx.cache["event"] = rich.first() or events.first()
    return ctx.cache["event"]


def listing(ctx):
    """The events listing, through Wagtail's page serving."""
    return ctx.get(bench_index(ctx).url)


#: Words in one in eight bench event titles (``TITLE_STARTS``).
SEARCH_WORDS = "recovery circle"


def listing_search(ctx):
    """The events listing searched for words that many events share."""
    return ctx.get(bench_index(ctx).url, data={"q": SEARCH_WORDS})


def listing_floor(ctx):
    """The listing's floor view."""
    return ctx.get(reverse("bench-floor-listing", args=[bench_index(ctx).pk]))


def event_detail(ctx):
    """One event page, through Wagtail's page serving."""
    return ctx.get(bench_event(ctx).url)


def event_detail_floor(ctx):
    """The event page's floor view."""
    return ctx.get(reverse("bench-floor-event", args=[bench_event(ctx).pk]))


CARD_TITLE = re.compile(r'class="session-card__title"><a href="[^"]*">([^<]*)</a>')
TIME = re.compile(r'<time datetime="([^"]+)"')
RESULTS_COUNT = re.compile(r'class="results-count"[^>]*>([^<]*)<')
LIST_ITEM = re.compile(r'<li class="session-list__item[^"]*">')
HEADING = re.compile(r"<h[123][^>]*>(.*?)</h[123]>", re.S)
PLACES = re.compile(r'<p class="places">(.*?)</p>', re.S)
FACILITATORS = re.compile(r'id="facilitators-heading".*?<ul>(.*?)</ul>', re.S)


def compare(page_html, floor_html, features, *, required):
    """Problems where ``features`` (name -> extractor) differ.

    Features named in ``required`` must also be found on the page, so a
    template change that hides them cannot make the check pass vacuously.
    """
    problems = []
    for name, extract in features.items():
        on_page, on_floor = extract(page_html), extract(floor_html)
        if name in required and not on_page:
            problems.append(f"no {name} found on the page")
        elif on_page != on_floor:
            problems.append(f"{name} differ: page {on_page!r} vs floor {on_floor!r}")
    return problems


def same_listing(page_html, floor_html):
    """The floor lists the same sessions, at the same times, with the same count."""
    return compare(
        page_html,
        floor_html,
        {
            "session titles": CARD_TITLE.findall,
            "session times": TIME.findall,
            "results count": RESULTS_COUNT.findall,
        },
        required={"session titles", "session times", "results count"},
    )


def same_event(page_html, floor_html):
    """The floor shows the same sessions, venues, people and places left."""
    return compare(
        page_html,
        floor_html,
        {
            "session items": lambda html: len(LIST_ITEM.findall(html)),
            "session times": TIME.findall,
            "headings": HEADING.findall,
            "places left": PLACES.findall,
            "facilitators": FACILITATORS.findall,
        },
        required={"session items", "session times", "headings"},
    )


register(
    Benchmark(
        name="events listing",
        run=listing,
        floor=listing_floor,
        check=same_listing,
        description="EventIndexPage, first page of upcoming sessions",
    )
)
register(
    Benchmark(
        name="events listing, text search",
        run=listing_search,
        max_ratio=None,
        description=f"EventIndexPage searched for {SEARCH_WORDS!r}: one event in eight",
    )
)
register(
    Benchmark(
        name="event detail",
        run=event_detail,
        floor=event_detail_floor,
        check=same_event,
        description="EventPage with sessions, venues, facilitators, workshop",
    )
)
