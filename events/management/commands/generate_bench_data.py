"""Fill the database with many live events and sessions, for benchmarks.

``manage.py generate_bench_data --events 1000 --sessions 5000`` builds, under
the site's home page, an events listing (slug ``bench-events``) with that many
live event pages and sessions spread over them, all in the future, plus a few
venues, topics, facilitators, workshops and registrations so every part of
the event templates has something to show.

It is meant for a throwaway database (``make bench`` uses its own file). It
trades the usual page workflow for speed: pages are created live without
revisions, sessions and link rows are bulk-inserted, and the search index is
filled in bulk at the end instead of one queued task per page.
"""

import contextlib
import datetime as dt
import hashlib
import logging
import time
import uuid
from itertools import islice

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone
from modelsearch.signal_handlers import post_save_signal_handler
from taggit.models import Tag
from wagtail.models import Site
from wagtail.search.backends import get_search_backends
from wagtail.signal_handlers import disable_reference_index_auto_update

from core.dates import site_zone
from events.groups import FACILITATORS_GROUP
from events.models import (
    EventIndexPage,
    EventKind,
    EventPage,
    EventSession,
    EventTopic,
    Registration,
    RegistrationMode,
    RegistrationStatus,
    SessionStatus,
    Setting,
    Venue,
)
from workshops.models import WorkshopIndexPage, WorkshopPage

#: Slugs of the pages this command owns below the home page.
INDEX_SLUG = "bench-events"
WORKSHOP_INDEX_SLUG = "bench-workshops"

VENUES = [
    {
        "name": "Bench General Hospital",
        "setting": Setting.HOSPITAL,
        "room": "Room 4B, second floor",
        "address": "100 Queen Street West\nToronto ON",
        "directions": "Main entrance, then the east lifts.",
        "step_free": True,
        "hearing_loop": True,
        "default_capacity": 14,
    },
    {
        "name": "Bench Community Hall",
        "setting": Setting.COMMUNITY,
        "address": "22 Elm Avenue\nToronto ON",
        "directions": "Side door on Elm; ring the bell.",
        "quiet_room": True,
        "accessibility_notes": "Accessible toilet on the ground floor.",
        "default_capacity": 30,
    },
    {
        "name": "Bench Public Library",
        "setting": Setting.COMMUNITY,
        "room": "Meeting room 2",
        "address": "5 Library Lane\nToronto ON",
        "step_free": True,
        "default_capacity": 20,
    },
    {
        "name": "Bench Online Room",
        "setting": Setting.ONLINE,
        "online_joining_link": "https://meet.example.org/bench-room",
    },
]

#: A topic given to exactly FEED_EVENTS events, so the calendar benchmark
#: can ask the site feed for a known number of sessions (400 x 5 = 2,000).
FEED_TOPIC = "feed-bench"
FEED_EVENTS = 400

TOPICS = [
    "Recovery",
    "Harm reduction",
    "Hearing voices",
    "Family and friends",
    "Anxiety",
    "Grief",
    "Peer work",
    "Wellbeing",
]

TITLE_STARTS = [
    "Hearing Voices",
    "Recovery Circle",
    "Family Support",
    "Wellness Recovery Action Plan",
    "Grief and Loss",
    "Anxiety Skills",
    "Peer Connection",
    "Art and Wellbeing",
]

KINDS = list(EventKind.values)
MODES = list(RegistrationMode.values)
SESSION_HOURS = [(10, 0), (13, 30), (18, 0)]
SESSION_MINUTES = 90
#: Events start on one of this many days from tomorrow, then meet weekly.
START_DAY_SPREAD = 90
FACILITATOR_COUNT = 4
WORKSHOP_COUNT = 3


@contextlib.contextmanager
def quiet_bulk_creation(models):
    """Skip per-save side effects that bulk work replaces.

    Wagtail queues a search-index task and a reference-index task for every
    saved page and logs a line per page; the command indexes in bulk at the
    end instead, and the bench pages reference nothing worth tracking.
    """
    wagtail_logger = logging.getLogger("wagtail")
    old_level = wagtail_logger.level
    wagtail_logger.setLevel(logging.WARNING)
    disconnected = [
        model
        for model in models
        if post_save.disconnect(post_save_signal_handler, sender=model)
    ]
    try:
        with disable_reference_index_auto_update():
            yield
    finally:
        for model in disconnected:
            post_save.connect(post_save_signal_handler, sender=model)
        wagtail_logger.setLevel(old_level)


def chunked(items, size):
    """Yield lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Command(BaseCommand):
    """Create bench events and sessions under the home page."""

    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        """Declare the command-line options."""
        parser.add_argument("--events", type=int, default=1000)
        parser.add_argument("--sessions", type=int, default=5000)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete bench pages made by an earlier run first.",
        )
        parser.add_argument(
            "--no-search-index",
            action="store_true",
            help="Skip filling the search index (faster; search finds nothing).",
        )

    def handle(self, *args, events, sessions, replace, no_search_index, **options):
        """Build the bench data and say how long it took."""
        if events < 1 or sessions < 0:
            raise CommandError("Need at least one event and no negative sessions.")
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            raise CommandError("No site: run `manage.py migrate` first.")
        home = site.root_page.specific
        began = time.perf_counter()
        page_models = [EventIndexPage, EventPage, WorkshopIndexPage, WorkshopPage]
        with quiet_bulk_creation([*page_models, Venue]), transaction.atomic():
            self.remove_existing(home, replace=replace)
            index = self.build(home, events=events, sessions=sessions)
        if not no_search_index:
            self.index_for_search(index)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {events} events and {sessions} sessions under "
                f"{index.url_path} in {time.perf_counter() - began:.1f}s."
            )
        )

    def remove_existing(self, home, *, replace):
        """Delete an earlier run's pages, or refuse to build beside them."""
        existing = home.get_children().filter(
            slug__in=[INDEX_SLUG, WORKSHOP_INDEX_SLUG]
        )
        if not existing.exists():
            return
        if not replace:
            raise CommandError(
                "Bench pages already exist; pass --replace to rebuild them."
            )
        for page in existing:
            page.delete()
        home.refresh_from_db()

    def build(self, home, *, events, sessions):
        """Create every row; returns the new events listing page."""
        venues = self.make_venues()
        facilitators = self.make_facilitators()
        tags = [Tag.objects.get_or_create(name=name)[0] for name in TOPICS]
        feed_tag = Tag.objects.get_or_create(name=FEED_TOPIC, slug=FEED_TOPIC)[0]
        workshops = self.make_workshops(home)
        index = home.add_child(
            instance=EventIndexPage(
                title="Groups and events",
                slug=INDEX_SLUG,
                intro="<p>Peer-led groups, workshops and social events.</p>",
                locale_id=home.locale_id,
                live=True,
            )
        )
        pages = self.make_events(index, events, venues=venues, workshops=workshops)
        self.link_rows(pages, tags=tags, facilitators=facilitators)
        EventTopic.objects.bulk_create(
            EventTopic(tag=feed_tag, content_object=page)
            for page in pages[:FEED_EVENTS]
        )
        self.make_sessions(pages, sessions, venues=venues)
        return index

    def make_venues(self):
        """The bench venues, created or brought up to date."""
        return [
            Venue.objects.update_or_create(name=fields["name"], defaults=fields)[0]
            for fields in VENUES
        ]

    def make_facilitators(self):
        """A few active users in the Facilitators group."""
        group, _ = Group.objects.get_or_create(name=FACILITATORS_GROUP)
        user_model = get_user_model()
        people = []
        for n in range(1, FACILITATOR_COUNT + 1):
            user, created = user_model.objects.get_or_create(
                username=f"bench-facilitator-{n}",
                defaults={"first_name": f"Facilitator{n}", "last_name": "Bench"},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            people.append(user)
        group.user_set.add(*people)
        return people

    def make_workshops(self, home):
        """A workshop library with a few live workshops for events to deliver."""
        library = home.add_child(
            instance=WorkshopIndexPage(
                title="Bench workshops",
                slug=WORKSHOP_INDEX_SLUG,
                locale_id=home.locale_id,
                live=True,
            )
        )
        return [
            library.add_child(
                instance=WorkshopPage(
                    title=f"Bench workshop {n}",
                    slug=f"bench-workshop-{n}",
                    summary="A two-hour workshop on living well with voices.",
                    duration_minutes=120,
                    locale_id=home.locale_id,
                    live=True,
                )
            )
            for n in range(1, WORKSHOP_COUNT + 1)
        ]

    def make_events(self, index, count, *, venues, workshops):
        """Live event pages with mixed kinds, venues and sign-up rules."""
        pages = []
        now = timezone.now()
        for i in range(count):
            # Event 1 (i == 0) gets everything: sign-up, capacity, workshop...
            mode = MODES[(i + 2) % len(MODES)]
            capacity = 12 if mode != RegistrationMode.NONE and i % 2 == 0 else None
            start = TITLE_STARTS[i % len(TITLE_STARTS)]
            page = EventPage(
                title=f"{start} {i + 1}",
                slug=f"bench-event-{i + 1:05d}",
                kind=KINDS[i % len(KINDS)],
                summary=(
                    f"A friendly {start.lower()} group run by people with lived "
                    "experience. Come as you are; you never have to talk."
                ),
                what_to_expect=(
                    "<p>We start with a <b>check-in</b>, then talk about the "
                    "week's theme.</p><ul><li>Tea and snacks</li>"
                    "<li>Breaks whenever you need</li></ul>"
                ),
                venue=venues[i % len(venues)],
                registration_mode=mode,
                capacity=capacity,
                registration_closes_at=(
                    now + dt.timedelta(days=200) if i % 5 == 0 else None
                ),
                waitlist_enabled=i % 4 != 0,
                workshop=workshops[i % len(workshops)] if i % 7 == 0 else None,
                locale_id=index.locale_id,
                live=True,
                first_published_at=now,
                last_published_at=now,
            )
            pages.append(index.add_child(instance=page))
            if (i + 1) % 250 == 0:
                self.stdout.write(f"  {i + 1} events...")
        return pages

    def link_rows(self, pages, *, tags, facilitators):
        """Topics, facilitators and registrations, bulk-inserted."""
        topic_rows, facilitator_rows, registrations = [], [], []
        through = EventPage.facilitators.through
        for i, page in enumerate(pages):
            for k in range(1 + i % 3):
                topic_rows.append(
                    EventTopic(tag=tags[(i + 3 * k) % len(tags)], content_object=page)
                )
            if i % 4 != 3:
                for k in range(1 + i % 2):
                    person = facilitators[(i + k) % len(facilitators)]
                    facilitator_rows.append(
                        through(eventpage_id=page.pk, user_id=person.pk)
                    )
            if page.capacity:
                for n in range(i % 13):
                    token = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
                    registrations.append(
                        Registration(
                            event=page,
                            name=f"Bench person {n + 1}",
                            email=f"person{n + 1}@example.org",
                            status=RegistrationStatus.CONFIRMED,
                            manage_token_hash=token,
                        )
                    )
        EventTopic.objects.bulk_create(topic_rows, batch_size=500)
        through.objects.bulk_create(facilitator_rows, batch_size=500)
        Registration.objects.bulk_create(registrations, batch_size=500)

    def make_sessions(self, pages, count, *, venues):
        """``count`` future sessions spread evenly over ``pages``, weekly."""
        zone = site_zone()
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        per_event, extra = divmod(count, len(pages))
        rows = []
        for i, page in enumerate(pages):
            first = tomorrow + dt.timedelta(days=i % START_DAY_SPREAD)
            hour, minute = SESSION_HOURS[i % len(SESSION_HOURS)]
            for k in range(per_event + (1 if i < extra else 0)):
                start = dt.datetime.combine(
                    first + dt.timedelta(weeks=k), dt.time(hour, minute), tzinfo=zone
                )
                session = EventSession(
                    event=page,
                    start=start,
                    end=start + dt.timedelta(minutes=SESSION_MINUTES),
                )
                if k == 2 and i % 4 == 0:
                    # A session that meets somewhere other than usual.
                    session.venue = venues[(i + 1) % len(venues)]
                if k == 3 and i % 10 == 0:
                    session.status = SessionStatus.CANCELLED
                    session.public_note = "Cancelled because of the holiday."
                elif k == 1 and i % 10 == 5:
                    session.status = SessionStatus.MOVED
                    session.public_note = "Moved to the afternoon this week."
                rows.append(session)
        for chunk in chunked(rows, 1000):
            EventSession.objects.bulk_create(chunk)

    def index_for_search(self, index):
        """Add the new pages to every search backend, in bulk."""
        began = time.perf_counter()
        pages = list(
            EventPage.get_indexed_objects().descendant_of(index).order_by("pk")
        )
        library = index.get_siblings().get(slug=WORKSHOP_INDEX_SLUG).specific
        workshops = list(WorkshopPage.get_indexed_objects().child_of(library))
        venues = list(Venue.objects.filter(name__in=[v["name"] for v in VENUES]))
        for backend in get_search_backends():
            for chunk in chunked(pages, 500):
                backend.add_bulk(EventPage, chunk)
            backend.add_bulk(WorkshopPage, workshops)
            backend.add_bulk(EventIndexPage, [index.specific])
            backend.add_bulk(WorkshopIndexPage, [library])
            backend.add_bulk(Venue, venues)
        self.stdout.write(
            f"  indexed {len(pages)} events for search in "
            f"{time.perf_counter() - began:.1f}s"
        )
