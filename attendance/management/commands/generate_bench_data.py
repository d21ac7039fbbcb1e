"""Fill the database with many live events, their history and sign-ups, for
benchmarks.

``manage.py generate_bench_data --events 1000 --sessions 5000`` builds, under
the site's home page, an events listing (slug ``bench-events``) with that many
live event pages and sessions spread over them: by default 70% in past terms
(``--past-share``) and the rest ahead, a few cancelled or moved. Events that
take sign-ups get registrations (``--registrations-per-event``): confirmed
places up to capacity, a contiguous waitlist where the event keeps one, some
cancellations, and consent rows; every past session that went ahead gets
attendance records (present, late, left early, absent, excused) for its
confirmed people, who signed up before the event began (one in
``UNRECORDED`` is missed, as facilitators miss people), and walk-ins by
made-up name at drop-in events. A few
venues, topics, facilitators and workshops give the templates something to
show. ``--seed`` makes two runs build the same rows.

It is meant for a throwaway database (``make bench`` uses its own file) and
is built for size (``--events 10000 --sessions 50000`` in minutes): event
pages are inserted in bulk with their tree paths computed here, live and
without revisions, and every other row is bulk-inserted, one transaction per
chunk of events, with progress on stdout. The search index is filled in bulk
at the end. ``--reset`` (or ``--replace``) removes an earlier run's pages and
everything hanging off them first: only what this command made, below its two
index pages.
"""

import contextlib
import datetime as dt
import hashlib
import logging
import random
import time
from itertools import islice

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.utils import timezone
from modelsearch.signal_handlers import post_save_signal_handler
from taggit.models import Tag
from wagtail.models import Page, Site
from wagtail.search.backends import get_search_backends
from wagtail.signal_handlers import (
    disable_reference_index_auto_update,
    reference_index_auto_update_disabled,
)

from attendance import tallies
from attendance.models import AttendanceRecord, AttendanceStatus, RecordedBy
from core import public_cache
from core.dates import site_zone
from core.statistics import update_query_statistics
from events.calendars import site_feed_horizon
from events.consent import CONSENT_WORDING_VERSION
from events.groups import FACILITATORS_GROUP
from events.models import (
    Channel,
    Consent,
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

#: A topic given to the first events whose sessions in the site feed's
#: window (``events.calendars.site_feed_horizon``) add up to FEED_SESSIONS,
#: so the calendar benchmark asks the site feed for a known number of
#: sessions whatever the size and past share (``feed_event_numbers``).
FEED_TOPIC = "feed-bench"
FEED_SESSIONS = 2000

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
#: An event's last past session was on one of this many days before today.
PAST_DAY_SPREAD = 60
#: Capacities of the events with a limit (every other event that takes
#: sign-ups); the rest take everyone.
CAPACITIES = [14, 20, 24, 30]
#: Attendance statuses and how often each is recorded.
ATTENDANCE_MIX = [
    (AttendanceStatus.PRESENT, 68),
    (AttendanceStatus.LATE, 10),
    (AttendanceStatus.LEFT_EARLY, 4),
    (AttendanceStatus.ABSENT, 12),
    (AttendanceStatus.EXCUSED, 6),
]
#: About one expected person in this many has no record at a session.
UNRECORDED = 40
#: Events built and committed together: one transaction each.
CHUNK_EVENTS = 500
#: Rows per INSERT, small enough for SQLite's limit on query variables.
BATCH = 500
FACILITATOR_COUNT = 4
WORKSHOP_COUNT = 3


@contextlib.contextmanager
def given_creation_times(model):
    """Let ``bulk_create`` keep the ``created_at`` each row was given: its
    ``auto_now_add`` would stamp every row with the moment of the insert,
    after every past session."""
    field = model._meta.get_field("created_at")
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


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
    # Not nested: leaving an inner block would re-enable it for the outer one.
    already_off = getattr(reference_index_auto_update_disabled, "value", False)
    try:
        with (
            contextlib.nullcontext()
            if already_off
            else disable_reference_index_auto_update()
        ):
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


def spread(total, parts):
    """``total`` split over ``parts`` as evenly as whole numbers allow."""
    per, extra = divmod(total, parts)
    return [per + (1 if i < extra else 0) for i in range(parts)]


def past_counts(session_counts, share):
    """How many of each event's sessions are past, so that ``share`` of all
    sessions are (rounded cumulatively, so the total is exact)."""
    counts, seen = [], 0
    for n in session_counts:
        before = round(seen * share)
        seen += n
        counts.append(round(seen * share) - before)
    return counts


def session_days(i, past, upcoming, today):
    """The days event number ``i`` meets, weekly: ``past`` of them ending in
    the weeks before ``today``, ``upcoming`` from tomorrow on."""
    last_past = today - dt.timedelta(days=1 + i % PAST_DAY_SPREAD)
    first_upcoming = today + dt.timedelta(days=1 + i % START_DAY_SPREAD)
    days = [last_past - dt.timedelta(weeks=past - 1 - k) for k in range(past)]
    return days + [first_upcoming + dt.timedelta(weeks=k) for k in range(upcoming)]


def session_start(i, day, zone):
    """When event number ``i``'s session on ``day`` starts."""
    hour, minute = SESSION_HOURS[i % len(SESSION_HOURS)]
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def feed_event_numbers(session_counts, pasts, today, zone):
    """The event numbers that get FEED_TOPIC: the first events whose
    sessions starting within the site feed's window add up to exactly
    FEED_SESSIONS (an event that would overshoot is passed over), or all
    there are when the data is too small. The same numbers at every size,
    since events meet the same days whatever their count."""
    horizon = site_feed_horizon()
    chosen, total = set(), 0
    for i, (count, past) in enumerate(zip(session_counts, pasts, strict=True)):
        if total == FEED_SESSIONS:
            break
        in_feed = sum(
            horizon.earliest <= session_start(i, day, zone) < horizon.latest
            for day in session_days(i, past, count - past, today)
        )
        if in_feed and total + in_feed <= FEED_SESSIONS:
            chosen.add(i)
            total += in_feed
    return chosen


def insert_child_rows(model, objs):
    """INSERT only ``model``'s own table rows for ``objs``, whose parent page
    rows already exist (``bulk_create`` refuses multi-table inheritance)."""
    fields = model._meta.local_concrete_fields
    per_insert = max(1, min(BATCH, 900 // len(fields)))
    for batch in chunked(objs, per_insert):
        model._base_manager._insert(batch, fields=fields, using=connection.alias)


class Command(BaseCommand):
    """Create bench events, their history and sign-ups under the home page."""

    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        """Declare the command-line options."""
        parser.add_argument("--events", type=int, default=1000)
        parser.add_argument("--sessions", type=int, default=5000)
        parser.add_argument(
            "--past-share",
            type=float,
            default=0.7,
            help="Share of the sessions that are in the past (0 to 1; default 0.7).",
        )
        parser.add_argument(
            "--registrations-per-event",
            type=int,
            default=28,
            help="Typical sign-ups per event that takes them (varies by a few).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed.")
        parser.add_argument(
            "--reset",
            "--replace",
            dest="replace",
            action="store_true",
            help="Delete bench pages (and their rows) made by an earlier run first.",
        )
        parser.add_argument(
            "--no-search-index",
            action="store_true",
            help="Skip filling the search index (faster; search finds nothing).",
        )

    def handle(
        self,
        *args,
        events,
        sessions,
        replace,
        no_search_index,
        past_share=0.7,
        registrations_per_event=28,
        seed=1,
        **options,
    ):
        """Build the bench data and say how long it took."""
        if events < 1 or sessions < 0 or registrations_per_event < 0:
            raise CommandError("Need at least one event and no negative counts.")
        if not 0 <= past_share <= 1:
            raise CommandError("--past-share must be between 0 and 1.")
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            raise CommandError("No site: run `manage.py migrate` first.")
        home = site.root_page.specific
        self.rng = random.Random(seed)
        self.seed = seed
        self.now = timezone.now()
        began = time.perf_counter()
        page_models = [EventIndexPage, EventPage, WorkshopIndexPage, WorkshopPage]
        # Records are deleted and written in bulk: the reports' stored
        # counts are left alone meanwhile and rebuilt from them once after.
        with quiet_bulk_creation([*page_models, Venue]), tallies.suspended():
            with transaction.atomic():
                self.remove_existing(home, replace=replace)
            index, counts = self.build(
                home,
                events=events,
                sessions=sessions,
                past_share=past_share,
                registrations_per_event=registrations_per_event,
            )
        tallies_began = time.perf_counter()
        tallies.rebuild()
        self.stdout.write(
            "  counted the attendance for the reports in "
            f"{time.perf_counter() - tallies_began:.1f}s"
        )
        # Bulk writes send no signals: public pages and the site feed's
        # ETag (the stored content version) must still move on.
        public_cache.content_changed()
        if not no_search_index:
            self.index_for_search(index)
        # The planner's statistics, as the daily job would leave them: a
        # benchmark of a database with none measures the wrong plans.
        update_query_statistics()
        summary = ", ".join(f"{value} {name}" for name, value in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {summary} under {index.url_path} in "
                f"{time.perf_counter() - began:.1f}s."
            )
        )

    def remove_existing(self, home, *, replace):
        """Delete an earlier run's pages, or refuse to build beside them.

        The big tables hanging off the events are emptied first with plain
        bulk deletes, so deleting the pages has little left to cascade.
        """
        existing = home.get_children().filter(
            slug__in=[INDEX_SLUG, WORKSHOP_INDEX_SLUG]
        )
        if not existing.exists():
            return
        if not replace:
            raise CommandError(
                "Bench pages already exist; pass --reset to rebuild them."
            )
        began = time.perf_counter()
        for page in existing:
            events = EventPage.objects.descendant_of(page).values("pk")
            AttendanceRecord.objects.filter(session__event__in=events).delete()
            Consent.objects.filter(registration__event__in=events).delete()
            Registration.objects.filter(event__in=events).delete()
            EventSession.objects.filter(event__in=events).delete()
            EventTopic.objects.filter(content_object__in=events).delete()
            EventPage.facilitators.through.objects.filter(eventpage__in=events).delete()
            # Not live: Wagtail would otherwise unpublish each page, one by
            # one, as it is deleted.
            Page.objects.descendant_of(page).update(live=False)
            page.delete()
        home.refresh_from_db()
        self.stdout.write(
            f"  removed the earlier bench data in {time.perf_counter() - began:.1f}s"
        )

    def build(self, home, *, events, sessions, past_share, registrations_per_event):
        """Create every row, a chunk of events per transaction.

        Returns the new events listing page and the row counts.
        """
        with transaction.atomic():
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
        session_counts = spread(sessions, events)
        pasts = past_counts(session_counts, past_share)
        feed_numbers = feed_event_numbers(
            session_counts, pasts, timezone.localdate(), site_zone()
        )
        counts = dict.fromkeys(
            [
                "events",
                "past sessions",
                "upcoming sessions",
                "registrations",
                "consents",
                "attendance records",
            ],
            0,
        )
        began = time.perf_counter()
        for first in range(0, events, CHUNK_EVENTS):
            numbers = range(first, min(first + CHUNK_EVENTS, events))
            with transaction.atomic():
                pages = self.make_events(index, numbers, venues, workshops)
                self.link_rows(pages, numbers, tags=tags, facilitators=facilitators)
                EventTopic.objects.bulk_create(
                    [
                        EventTopic(tag=feed_tag, content_object_id=page.pk)
                        for i, page in zip(numbers, pages, strict=True)
                        if i in feed_numbers
                    ],
                    batch_size=BATCH,
                )
                by_event = self.make_sessions(
                    pages, numbers, session_counts, pasts, venues=venues
                )
                people = self.make_registrations(
                    pages, numbers, registrations_per_event
                )
                self.make_attendance(pages, by_event, people, facilitators)
            for name, value in self.chunk_counts.items():
                counts[name] += value
            done = numbers.stop
            rate = done / (time.perf_counter() - began)
            self.stdout.write(
                f"  {done}/{events} events, {counts['registrations']} "
                f"registrations, {counts['attendance records']} attendance "
                f"records ({rate:.0f} events/s)"
            )
        return index, counts

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

    def event_fields(self, i, venues, workshops):
        """The EventPage fields of event number ``i`` (from 0)."""
        # Event 1 (i == 0) gets everything: sign-up, capacity, workshop...
        mode = MODES[(i + 2) % len(MODES)]
        capacity = None
        if mode != RegistrationMode.NONE and i % 2 == 0:
            capacity = CAPACITIES[(i // 2) % len(CAPACITIES)]
        start = TITLE_STARTS[i % len(TITLE_STARTS)]
        return {
            "kind": KINDS[i % len(KINDS)],
            "summary": (
                f"A friendly {start.lower()} group run by people with lived "
                "experience. Come as you are; you never have to talk."
            ),
            "what_to_expect": (
                "<p>We start with a <b>check-in</b>, then talk about the "
                "week's theme.</p><ul><li>Tea and snacks</li>"
                "<li>Breaks whenever you need</li></ul>"
            ),
            "venue": venues[i % len(venues)],
            "registration_mode": mode,
            "capacity": capacity,
            "registration_closes_at": (
                self.now + dt.timedelta(days=200) if i % 5 == 0 else None
            ),
            "waitlist_enabled": i % 4 != 0,
            "workshop": workshops[i % len(workshops)] if i % 7 == 0 else None,
        }

    def make_events(self, index, numbers, venues, workshops):
        """Live event pages, inserted in bulk below ``index``.

        The ``wagtailcore_page`` rows come first, with the materialised
        paths treebeard would give them (the next steps after the index's
        current children), then the event table's rows; the index's child
        count goes up in the same transaction. Returns EventPage objects.
        """
        index.refresh_from_db(fields=["numchild"])
        content_type = ContentType.objects.get_for_model(EventPage)
        base_rows = []
        for step, i in enumerate(numbers, start=index.numchild + 1):
            title = f"{TITLE_STARTS[i % len(TITLE_STARTS)]} {i + 1}"
            slug = f"bench-event-{i + 1:05d}"
            base_rows.append(
                Page(
                    title=title,
                    draft_title=title,
                    slug=slug,
                    content_type=content_type,
                    path=EventPage._get_path(index.path, index.depth + 1, step),
                    depth=index.depth + 1,
                    numchild=0,
                    url_path=f"{index.url_path}{slug}/",
                    locale_id=index.locale_id,
                    live=True,
                    has_unpublished_changes=False,
                    first_published_at=self.now,
                    last_published_at=self.now,
                )
            )
        Page.objects.bulk_create(base_rows, batch_size=BATCH)
        if any(row.pk is None for row in base_rows):
            # A database that cannot return ids from a bulk insert.
            ids = dict(
                Page.objects.filter(
                    path__in=[row.path for row in base_rows]
                ).values_list("path", "pk")
            )
            for row in base_rows:
                row.pk = row.id = ids[row.path]
        pages = []
        for row, i in zip(base_rows, numbers, strict=True):
            page = EventPage(
                page_ptr_id=row.pk, **self.event_fields(i, venues, workshops)
            )
            page.id = row.pk
            for field in Page._meta.concrete_fields:
                setattr(page, field.attname, getattr(row, field.attname))
            pages.append(page)
        insert_child_rows(EventPage, pages)
        Page.objects.filter(pk=index.pk).update(numchild=F("numchild") + len(pages))
        self.chunk_counts = {"events": len(pages)}
        return pages

    def link_rows(self, pages, numbers, *, tags, facilitators):
        """Topics and facilitators, bulk-inserted."""
        topic_rows, facilitator_rows = [], []
        through = EventPage.facilitators.through
        for i, page in zip(numbers, pages, strict=True):
            for k in range(1 + i % 3):
                topic_rows.append(
                    EventTopic(
                        tag=tags[(i + 3 * k) % len(tags)], content_object_id=page.pk
                    )
                )
            if i % 4 != 3:
                for k in range(1 + i % 2):
                    person = facilitators[(i + k) % len(facilitators)]
                    facilitator_rows.append(
                        through(eventpage_id=page.pk, user_id=person.pk)
                    )
        EventTopic.objects.bulk_create(topic_rows, batch_size=BATCH)
        through.objects.bulk_create(facilitator_rows, batch_size=BATCH)

    def make_sessions(self, pages, numbers, session_counts, pasts, *, venues):
        """Each event's sessions, weekly: its past ones ending in the weeks
        before today, its upcoming ones from tomorrow on.

        Returns ``{event id: [past sessions that went ahead]}``.
        """
        zone = site_zone()
        today = timezone.localdate()
        rows, went_ahead = [], {}
        self.first_starts = {}
        for i, page in zip(numbers, pages, strict=True):
            past = pasts[i]
            days = session_days(i, past, session_counts[i] - past, today)
            went_ahead[page.pk] = []
            for k, day in enumerate(days):
                start = session_start(i, day, zone)
                self.first_starts.setdefault(page.pk, start)
                session = EventSession(
                    event_id=page.pk,
                    start=start,
                    end=start + dt.timedelta(minutes=SESSION_MINUTES),
                )
                if k == 2 and i % 4 == 0:
                    # A session that meets somewhere other than usual.
                    session.venue = venues[(i + 1) % len(venues)]
                if (k == 3 and i % 10 == 0) or (i + k) % 19 == 0:
                    session.status = SessionStatus.CANCELLED
                    session.public_note = "Cancelled because of the holiday."
                elif k == 1 and i % 10 == 5:
                    session.status = SessionStatus.MOVED
                    session.public_note = "Moved to the afternoon this week."
                rows.append(session)
                if k < past and session.status != SessionStatus.CANCELLED:
                    went_ahead[page.pk].append(session)
        EventSession.objects.bulk_create(rows, batch_size=BATCH)
        past_total = sum(pasts[i] for i in numbers)
        self.chunk_counts["past sessions"] = past_total
        self.chunk_counts["upcoming sessions"] = len(rows) - past_total
        return went_ahead

    def make_registrations(self, pages, numbers, per_event):
        """Sign-ups for the events that take them.

        Confirmed places up to capacity, then a waitlist numbered 1, 2, 3...
        when the event keeps one (otherwise the rest were turned away); about
        one in seven people cancelled. People signed up in the four weeks
        before the event's first session (or before today, for one that has
        not begun), so the reports count them as expected at its sessions.
        Returns ``{event id: [(registration, sessions they came to before
        cancelling, or None)]}``.
        """
        rows, consents, people = [], [], {}
        for i, page in zip(numbers, pages, strict=True):
            people[page.pk] = []
            if page.registration_mode == RegistrationMode.NONE:
                continue
            wanted = max(0, per_event + (i % 7) - 3)
            confirmed = waitlisted = 0
            for n in range(wanted):
                salt = hashlib.sha256(
                    f"bench:{self.seed}:{page.pk}:{n}".encode()
                ).hexdigest()
                registration = Registration(
                    event_id=page.pk,
                    name=f"Bench person {n + 1}",
                    email=f"person{n + 1}@example.org" if n % 5 else "",
                    phone="+14165550100" if n % 3 == 0 else "",
                    token_salt=salt[:32],
                    manage_token_hash=hashlib.sha256(salt.encode()).hexdigest(),
                    created_at=min(self.first_starts.get(page.pk, self.now), self.now)
                    - dt.timedelta(minutes=self.rng.randint(60, 28 * 24 * 60)),
                )
                full = page.capacity is not None and confirmed >= page.capacity
                came_before_cancelling = None
                if self.rng.random() < 0.14:
                    registration.status = RegistrationStatus.CANCELLED
                    registration.cancelled_at = self.now - dt.timedelta(
                        days=self.rng.randint(1, 60)
                    )
                    came_before_cancelling = self.rng.randint(0, 3)
                elif not full:
                    registration.status = RegistrationStatus.CONFIRMED
                    confirmed += 1
                elif page.waitlist_enabled:
                    waitlisted += 1
                    registration.status = RegistrationStatus.WAITLISTED
                    registration.waitlist_position = waitlisted
                else:
                    continue
                rows.append(registration)
                people[page.pk].append((registration, came_before_cancelling))
                if registration.email:
                    consents.append((registration, Channel.EMAIL))
                if registration.phone and n % 2 == 0:
                    consents.append((registration, Channel.TEXT))
        with given_creation_times(Registration):
            Registration.objects.bulk_create(rows, batch_size=BATCH)
        consent_rows = [
            Consent(
                registration_id=registration.pk,
                channel=channel,
                given_at=self.now - dt.timedelta(days=90),
                wording_version=CONSENT_WORDING_VERSION,
                withdrawn_at=(
                    self.now - dt.timedelta(days=10)
                    if registration.pk % 23 == 0
                    else None
                ),
            )
            for registration, channel in consents
        ]
        Consent.objects.bulk_create(consent_rows, batch_size=BATCH)
        self.chunk_counts["registrations"] = len(rows)
        self.chunk_counts["consents"] = len(consent_rows)
        return people

    def make_attendance(self, pages, went_ahead, people, facilitators):
        """Attendance for every past session that went ahead: each confirmed
        person (and each cancelled one, for the first sessions before they
        cancelled), but about one in ``UNRECORDED`` left without a record, as
        when a facilitator misses someone (the reports' "No record"); plus a
        few named walk-ins at drop-in events."""
        statuses = [status for status, _ in ATTENDANCE_MIX]
        weights = [weight for _, weight in ATTENDANCE_MIX]
        rows = []
        for page in pages:
            sessions = went_ahead[page.pk]
            recorder = facilitators[page.pk % len(facilitators)]
            for k, session in enumerate(sessions):
                method = (
                    RecordedBy.SELF_CHECK_IN if k % 5 == 4 else RecordedBy.FACILITATOR
                )
                attending = [
                    registration
                    for registration, came in people[page.pk]
                    if (
                        registration.status == RegistrationStatus.CONFIRMED
                        or (came is not None and k < came)
                    )
                    and self.rng.randrange(UNRECORDED)
                ]
                for registration, status in zip(
                    attending,
                    self.rng.choices(statuses, weights, k=len(attending)),
                    strict=True,
                ):
                    rows.append(
                        AttendanceRecord(
                            session_id=session.pk,
                            registration_id=registration.pk,
                            status=status,
                            method=method,
                            recorded_by=recorder,
                        )
                    )
                if page.registration_mode != RegistrationMode.REQUIRED:
                    for n in range(self.rng.randint(1, 6)):
                        rows.append(
                            AttendanceRecord(
                                session_id=session.pk,
                                walk_in_name=f"Walk-in {n + 1}",
                                status=AttendanceStatus.PRESENT,
                                recorded_by=recorder,
                            )
                        )
        AttendanceRecord.objects.bulk_create(rows, batch_size=BATCH)
        self.chunk_counts["attendance records"] = len(rows)

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
