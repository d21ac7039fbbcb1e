"""Prepare and check the load test's database (run in a subprocess).

``python -m tests.bench.loadtest_setup prepare OUTPUT.json`` and
``python -m tests.bench.loadtest_setup check PLAN OUTPUT.json`` (``PLAN``:
the JSON the checks need, inline), with
``DJANGO_SETTINGS_MODULE=tests.bench.loadtest_settings``.

``prepare``:

1. migrates the load test's database and empties its Redis database (the
   cache, RQ's queue);
2. builds the listing's data with ``generate_bench_data`` (``LOADTEST_EVENTS``
   events, five sessions each), unless it already holds that many;
3. replaces an earlier run's own events (below the ``load-test`` listing)
   with fresh ones: ``LOADTEST_POPULAR`` popular events with few places and
   a waitlist, a drop-in event (``sign_up_per`` "session") with a few dates
   of few places each, and a group whose session starts in ten minutes
   (attendance may be saved from 30 minutes before), with a facilitator and
   confirmed people;
4. signs people up through the same workflows as the form (so each gets
   their message task) and keeps their manage links' tokens, which the load
   test uses to cancel: only the token's hash is stored, and the token
   itself is derived from its salt and the secret key
   (``events.registration.manage_token``);
5. signs the facilitator in, once per client, and keeps the session cookies;
6. writes the paths, ids, tokens and cookies as JSON.

``check`` reads the rows afterwards and writes the problems found (see
``tests.bench.loadtest``: ``capacity_breaches``, ``waitlist_gaps``,
``missing_messages``) with the counts they were found among.
"""

import datetime as dt
import json
import os
import random
import sys

INDEX_SLUG = "load-test"
BENCH_INDEX_SLUG = "bench-events"
#: Places on each popular event, and people signed up before the test
#: (the rest of them on the waitlist), whose tokens the test cancels with.
POPULAR_CAPACITY = 15
POPULAR_PEOPLE = 45
#: Dates of the drop-in event, places on each, and people per date before.
DROP_IN_DATES = 4
DROP_IN_CAPACITY = 8
DROP_IN_PEOPLE = 16
#: People on the facilitated session whose attendance is saved.
ROSTER = 24
SEARCH_WORDS = ["recovery", "grief", "voices", "family", "anxiety", "peer"]


def env_int(name, default):
    """An integer environment variable, or ``default`` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def prepare(output):
    """Set everything up and write the JSON description to ``output``."""
    import django

    django.setup()

    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    cache.clear()  # the whole Redis database: cache and RQ's queue
    events = env_int("LOADTEST_EVENTS", 300)
    build_listing(events)
    index = fresh_index()
    rng = random.Random(1)
    popular = [make_popular(index, n) for n in range(env_int("LOADTEST_POPULAR", 4))]
    drop_in, dates = make_drop_in(index)
    facilitator, session, roster = make_facilitated(index)
    tokens = sign_up_people(popular, drop_in, dates, rng)
    cookies = facilitator_cookies(facilitator, env_int("LOADTEST_MAX_CLIENTS", 32))
    data = {
        "listing_path": listing_path(BENCH_INDEX_SLUG),
        "event_paths": sample_event_paths(rng),
        "feed_paths": feed_paths(rng, popular),
        "search_words": SEARCH_WORDS,
        "filters": listing_filters(),
        "popular": [event.sign_up_url for event in popular],
        "drop_in": drop_in.sign_up_url,
        "tokens": tokens,
        "facilitator": {
            "session_path": f"/facilitate/sessions/{session.pk}/",
            "attendance_path": f"/facilitate/sessions/{session.pk}/attendance/",
            "registration_ids": roster,
            "cookies": cookies,
        },
        "session_cookie": django_setting("SESSION_COOKIE_NAME"),
        "tasks_backend": django_setting("TASKS")["default"]["BACKEND"],
    }
    with open(output, "w", encoding="utf-8") as file:
        json.dump(data, file)


def django_setting(name):
    """A Django setting's value."""
    from django.conf import settings

    return getattr(settings, name)


def build_listing(events):
    """The bench listing's events, built unless it already holds ``events``."""
    from django.core.management import call_command

    from events.models import EventIndexPage, EventPage

    index = EventIndexPage.objects.filter(slug=BENCH_INDEX_SLUG).first()
    if index and EventPage.objects.child_of(index).count() == events:
        return
    call_command(
        "generate_bench_data",
        events=events,
        sessions=5 * events,
        past_share=0.5,
        registrations_per_event=20,
        replace=True,
        verbosity=0,
    )


def home_page():
    """The site's home page."""
    from website.models import HomePage

    home = HomePage.objects.first()
    if home is None:
        raise RuntimeError("No HomePage after migrating the load test's database.")
    return home


def fresh_index():
    """The load test's own events listing, emptied of an earlier run's events."""
    from attendance.models import AttendanceRecord
    from events.models import EventIndexPage, EventPage, Registration

    home = home_page()
    index = EventIndexPage.objects.child_of(home).filter(slug=INDEX_SLUG).first()
    if index is None:
        return home.add_child(
            instance=EventIndexPage(
                title="Load test", slug=INDEX_SLUG, locale_id=home.locale_id
            )
        )
    old = EventPage.objects.child_of(index)
    AttendanceRecord.objects.filter(session__event__in=old).delete()
    Registration.objects.filter(event__in=old).delete()
    for event in old:
        event.delete()
    return index


def new_event(index, slug, title, **fields):
    """A live event below ``index`` taking sign-ups."""
    from events.models import EventPage, RegistrationMode

    return index.add_child(
        instance=EventPage(
            title=title,
            slug=slug,
            summary="A peer support group for the load test.",
            registration_mode=RegistrationMode.REQUIRED,
            waitlist_enabled=True,
            locale_id=index.locale_id,
            live=True,
            **fields,
        )
    )


def add_dates(event, starts):
    """Sessions of 90 minutes starting at ``starts``."""
    from events.sessions import add_session

    return [
        add_session(event=event, start=start, end=start + dt.timedelta(minutes=90))
        for start in starts
    ]


def make_popular(index, n):
    """A popular event: few places, a waitlist, one session in a week."""
    from django.utils import timezone

    event = new_event(
        index,
        f"popular-{n}",
        f"Popular group {n}",
        capacity=POPULAR_CAPACITY,
    )
    add_dates(event, [timezone.now() + dt.timedelta(days=7, hours=n)])
    return event


def make_drop_in(index):
    """A drop-in event: a place per date, few places on each."""
    from django.utils import timezone

    from events.models import SignUpPer

    event = new_event(
        index,
        "drop-in",
        "Drop-in circle",
        capacity=DROP_IN_CAPACITY,
        sign_up_per=SignUpPer.SESSION,
    )
    first = timezone.now() + dt.timedelta(days=3)
    dates = add_dates(
        event, [first + dt.timedelta(days=7 * k) for k in range(DROP_IN_DATES)]
    )
    return event, dates


def make_facilitated(index):
    """A group starting in ten minutes: its facilitator, its session and its
    people's registration ids."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from events.groups import FACILITATORS_GROUP
    from events.models import EventPage
    from events.registration import register

    event = new_event(index, "tonight", "Tonight's group", capacity=ROSTER * 2)
    (session,) = add_dates(event, [timezone.now() + dt.timedelta(minutes=10)])
    user, _ = get_user_model().objects.get_or_create(
        username="load-test-facilitator",
        defaults={"email": "facilitator@load.example.org"},
    )
    user.groups.add(Group.objects.get_or_create(name=FACILITATORS_GROUP)[0])
    # A page's facilitators are saved with the page; a row of the link table
    # is all it takes without saving the page again.
    EventPage.facilitators.through.objects.create(eventpage_id=event.pk, user=user)
    roster = [
        register(
            event=event,
            name=f"Roster person {k}",
            email=f"roster-{k}@load.example.org",
            consent=["email"],
        ).registration.pk
        for k in range(ROSTER)
    ]
    return user, session, roster


def sign_up_people(popular, drop_in, dates, rng):
    """People on the popular events and drop-in dates; their manage tokens,
    shuffled (confirmed and waitlisted mixed)."""
    from events.drop_in import register_sessions
    from events.registration import manage_token, register

    registrations = []
    for event in popular:
        for k in range(POPULAR_PEOPLE):
            registrations.append(
                register(
                    event=event,
                    name=f"Early person {k}",
                    email=f"early-{event.pk}-{k}@load.example.org",
                    consent=["email"],
                ).registration
            )
    for session in dates:
        for k in range(DROP_IN_PEOPLE):
            (result,) = register_sessions(
                event=drop_in,
                session_ids=[session.pk],
                name=f"Drop-in person {k}",
                email=f"drop-in-{session.pk}-{k}@load.example.org",
                consent=["email"],
            )
            registrations.append(result.registration)
    tokens = [manage_token(registration) for registration in registrations]
    rng.shuffle(tokens)
    return tokens


def facilitator_cookies(user, count):
    """``count`` signed-in sessions of ``user`` (their cookies' values)."""
    from django.conf import settings
    from django.test import Client

    cookies = []
    for _ in range(count):
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return cookies


def listing_path(slug):
    """The path of the events listing with ``slug``."""
    from events.models import EventIndexPage

    return EventIndexPage.objects.get(slug=slug).get_url()


def sample_event_paths(rng, count=200):
    """Paths of live bench events with sessions to come."""
    from events.models import EventPage

    events = list(
        EventPage.objects.live()
        .filter(sessions__start__gte=dt.datetime.now(dt.UTC))
        .distinct()
        .order_by("pk")[: count * 3]
    )
    rng.shuffle(events)
    return [event.get_url() for event in events[:count]]


def feed_paths(rng, popular):
    """Calendar feeds polled: the site's, per kind, and some events'."""
    from events.models import EventKind

    paths = ["/calendar/events.ics"]
    paths += [f"/calendar/events.ics?kind={kind}" for kind in EventKind.values[:3]]
    paths += [event.calendar_url for event in popular]
    return paths


def listing_filters():
    """Filter values the listing offers: kinds, settings and topics."""
    from events.listing import topics_in_use
    from events.models import EventKind, Setting

    return {
        "kind": list(EventKind.values),
        "setting": list(Setting.values),
        "topic": [tag.slug for tag in topics_in_use()],
    }


# The checks -------------------------------------------------------------------


def check(plan, output):
    """Check the rows the load test wrote; write the problems as JSON."""
    import django

    django.setup()

    from attendance.models import AttendanceRecord
    from events.models import EventIndexPage

    setup = json.loads(plan)
    index = EventIndexPage.objects.get(slug=INDEX_SLUG)
    problems, counts = find_problems(index, setup["tasks_backend"])
    session_path = setup["facilitator"]["session_path"]
    session_id = int(session_path.rstrip("/").rsplit("/", 1)[1])
    counts["attendance records"] = AttendanceRecord.objects.filter(
        session_id=session_id
    ).count()
    with open(output, "w", encoding="utf-8") as file:
        json.dump({"problems": problems, "counts": counts}, file)


def find_problems(index, tasks_backend):
    """Problems with the registrations of the events below ``index``, and
    what they were found among: places over capacity (per event, or per
    date of a drop-in event), waitlists not numbered 1..n, confirmed people
    with no queued message task on ``tasks_backend``."""
    from django.db.models import Count, Q

    from events.models import EventPage, Registration, RegistrationStatus

    from .loadtest import capacity_breaches, missing_messages, waitlist_gaps

    def label(event_id, session_id):
        return f"event {event_id}" + (f" session {session_id}" if session_id else "")

    events = {event.pk: event for event in EventPage.objects.child_of(index)}
    rows = Registration.objects.filter(event_id__in=events)
    taken = {
        label(row["event_id"], row["session_id"]): (
            events[row["event_id"]].capacity,
            row["confirmed"],
        )
        for row in rows.values("event_id", "session_id").annotate(
            confirmed=Count("pk", filter=Q(status=RegistrationStatus.CONFIRMED))
        )
    }
    positions = {}
    for event_id, session_id, position in rows.filter(
        status=RegistrationStatus.WAITLISTED
    ).values_list("event_id", "session_id", "waitlist_position"):
        positions.setdefault(label(event_id, session_id), []).append(position)
    confirmed = list(
        rows.filter(status=RegistrationStatus.CONFIRMED).values_list("pk", flat=True)
    )
    messaged = messaged_registrations(tasks_backend)
    problems = (
        capacity_breaches(taken)
        + waitlist_gaps(positions)
        + missing_messages(confirmed, messaged)
    )
    counts = {
        "registrations": rows.count(),
        "confirmed": len(confirmed),
        "waitlisted": rows.filter(status=RegistrationStatus.WAITLISTED).count(),
        "cancelled": rows.filter(status=RegistrationStatus.CANCELLED).count(),
        "places checked": len(taken),
        "waitlists checked": len(positions),
        "registrations with a message task": len(
            messaged & set(rows.values_list("pk", flat=True))
        ),
    }
    return problems, counts


def messaged_registrations(backend):
    """Ids of the registrations some queued ``send_messages`` task names."""
    from events.tasks import send_messages

    path = send_messages.module_path
    ids = set()
    if backend == "django_tasks_rq.RQBackend":
        import django_rq
        from rq.job import Job

        queue = django_rq.get_queue("default")
        job_ids = queue.get_job_ids() + queue.scheduled_job_registry.get_job_ids()
        for job in Job.fetch_many(job_ids, connection=queue.connection):
            if job is not None and job.func_name == path:
                ids.update(job.args[0])
        return ids
    from django_tasks_db.models import DBTaskResult

    for args_kwargs in DBTaskResult.objects.filter(task_path=path).values_list(
        "args_kwargs", flat=True
    ):
        ids.update(args_kwargs["args"][0])
    return ids


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2])
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown command {sys.argv[1]!r}")
