"""Benchmarks of spreadsheet imports and exports (the ``spreadsheets`` engine).

Three benchmarks, each paired with django-import-export's default
configuration on the same data in the same run (the "floor" column of the
table is that peer, the one to beat, so a ratio under 1 is faster):

* **import 10,000 registrations**: a CSV of new people for one event with
  a capacity, so some land on the waitlist. Both go through the same import
  job (read, import, preview, audit log) and the same registration rules;
  the peer is ``RegistrationResource`` with the library's default options:
  a per-row diff (``skip_diff=False``, HTML diff on), a per-row transaction
  savepoint, the per-row ``ModelInstanceLoader`` look-up, a per-row event
  look-up (``ForeignKeyWidget``'s way) and no bulk mode, so each new person
  is saved as their row is read (``register`` per row). Ours uses bulk
  mode: one ``RegistrationBatch`` that locks and reads the event once and
  inserts everyone with ``bulk_create``.
* **import a 500-session schedule**: 50 new draft events of 10 sessions,
  with venues and facilitators; the peer is ``ScheduleResource`` with the
  library's default options (per-row diff and savepoint).
* **export 10,000 registrations** as CSV through the export view (audit
  log included); the peer is the library's default ``ModelResource`` export
  of the same columns.

Imports write, so every measured run gets fresh events of its own. Queries
are counted in every run; the registration import also records where each
query comes from: only the batched inserts (Django's batch size) and the
email tasks (500 people each) grow with the rows.

Run standalone: ``.venv/bin/python -m tests.bench.spreadsheets`` (it uses
the bench database, ``tests.bench.environment``). Environment variables:
``BENCH_SPREADSHEET_RUNS`` (3), ``BENCH_SPREADSHEET_ROWS`` (10000),
``BENCH_SPREADSHEET_SESSIONS`` (500).
"""

import datetime as dt
import gc
import sys
import time
from collections import Counter

from .environment import env_int
from .registry import BENCHMARKS, Benchmark, register
from .runner import Query, Result, Timing

INDEX_SLUG = "bench-spreadsheets"
USERNAME = "bench-spreadsheets"
CAPACITY_SHARE = 0.8  # of the rows get a place; the rest go on the waitlist
IMPORT_TARGET_SECONDS = 15
EXPORT_TARGET_SECONDS = 5
SPEED_TARGET = 3.0
#: The registration import may make one query per this many rows, at most.
ROWS_PER_QUERY = 20


def log(message):
    """Progress output, on stderr so the table stays clean on stdout."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def settings():
    """Runs and sizes, from the environment."""
    return {
        "runs": env_int("BENCH_SPREADSHEET_RUNS", 3),
        "rows": env_int("BENCH_SPREADSHEET_ROWS", 10_000),
        "sessions": env_int("BENCH_SPREADSHEET_SESSIONS", 500),
    }


# Peers: django-import-export's default configuration ----------------------------


def peer_classes():
    """The resources with the library's default options (built lazily: the
    app registry must be ready)."""
    from events.resources.registrations import (
        RegistrationLoader,
        RegistrationResource,
    )
    from events.resources.schedule import ScheduleResource

    class DefaultRegistrationResource(RegistrationResource):
        """Same columns and workflow, library defaults for everything else."""

        cached_lookups = False

        class Meta(RegistrationResource.Meta):
            skip_diff = False
            skip_html_diff = False
            use_bulk = False
            instance_loader_class = RegistrationLoader

    class DefaultScheduleResource(ScheduleResource):
        class Meta(ScheduleResource.Meta):
            skip_diff = False
            skip_html_diff = False
            use_bulk = False

    return DefaultRegistrationResource, DefaultScheduleResource


def peer_export_resource():
    """The library's default ModelResource for the same export columns."""
    from import_export.resources import modelresource_factory

    from events.models import Registration

    return modelresource_factory(
        Registration,
        meta_options={
            "fields": ("event_id", "event__title", "name", "email", "phone", "status")
        },
    )


# Data ---------------------------------------------------------------------------


def prepare_database():
    """Migrate, and give the benchmark a fresh events listing and a user."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from events.models import EventIndexPage
    from website.models import HomePage

    call_command("migrate", interactive=False, verbosity=0)
    home = HomePage.objects.first()
    for old in EventIndexPage.objects.filter(slug=INDEX_SLUG):
        old.delete()
    index = EventIndexPage(title="Spreadsheet bench", slug=INDEX_SLUG)
    home.add_child(instance=index)
    user, _ = get_user_model().objects.get_or_create(
        username=USERNAME,
        defaults={"is_superuser": True, "is_staff": True, "email": "b@example.org"},
    )
    return index, user


def new_registration_event(index, rows, label):
    """A published event with one session next month and room for most rows."""
    from django.utils import timezone

    from events.models import EventPage
    from events.sessions import add_session

    event = EventPage(
        title=f"Bench registrations {label}",
        slug=f"bench-registrations-{label}",
        summary="Bench.",
        registration_mode="required",
        capacity=int(rows * CAPACITY_SHARE),
        waitlist_enabled=True,
        live=True,
    )
    index.add_child(instance=event)
    start = timezone.now() + dt.timedelta(days=30)
    add_session(event=event, start=start, end=start + dt.timedelta(hours=2))
    return event


def registrations_csv(rows, prefix):
    lines = ["name,email,phone,status"]
    lines += [
        f"Person {n},{prefix}-{n}@example.org,416-555-{n % 10000:04d},"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def schedule_csv(sessions, prefix, venues, facilitators):
    lines = ["event,kind,venue,start,end,capacity,facilitators"]
    per_event = 10
    first = dt.date.today() + dt.timedelta(days=40)
    for n in range(sessions):
        event, week = divmod(n, per_event)
        day = first + dt.timedelta(days=event % 7, weeks=week)
        venue = venues[(event + week % 2) % len(venues)]
        people = facilitators[event % len(facilitators)]
        times = f"{day} 18:00,{day} 19:30"
        lines.append(f'{prefix} group {event},group,"{venue}",{times},12,{people}')
    return ("\n".join(lines) + "\n").encode()


def schedule_fixtures():
    """Venues and facilitators for the schedule (made once)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from events.models import Venue

    venues = []
    for n in range(5):
        venue, _ = Venue.objects.get_or_create(
            name=f"Bench room {n}", room="", defaults={"setting": "community"}
        )
        venues.append(str(venue))
    group, _ = Group.objects.get_or_create(name="Facilitators")
    names = []
    for n in range(4):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-fac-{n}")
        user.groups.add(group)
        names.append(user.username)
    return venues, names


# Measuring ---------------------------------------------------------------------


class Counting:
    """A cheap execute wrapper: counts queries, optionally with their origin."""

    def __init__(self, origins=False):
        self.queries = []
        self.origins = origins

    def __call__(self, execute, sql, params, many, context):
        query = Query(sql=sql)
        if self.origins:
            from .runner import locate

            query.code = locate(sys._getframe(1))["code"]
        self.queries.append(query)
        return execute(sql, params, many, context)


def run_job(key, data, user, options, counting):
    """Check nothing, import ``data`` for real through an import job; returns
    (seconds, job). Checking (the dry run) costs the same again and is timed
    separately once."""
    from django.db import connection

    from spreadsheets.jobs import run_stage
    from spreadsheets.models import ImportJob

    job = ImportJob.objects.create(
        resource=key,
        user=user,
        file_name=f"{key}.csv",
        data=data,
        options=options,
        status="import_queued",
        total_rows=data.count(b"\n") - 1,
    )
    gc.collect()
    with connection.execute_wrapper(counting):
        began = time.perf_counter()
        run_stage(job.pk, "import")
        elapsed = time.perf_counter() - began
    job.refresh_from_db()
    return elapsed, job


def with_peer(key, path):
    """Offer the peer resource at ``path`` to import jobs as ``key``, through
    the engine's registry hook, for the rest of this process."""
    from django.utils.module_loading import import_string
    from wagtail import hooks

    peer = type(f"Registered{path.rsplit('.', 1)[-1]}", (import_string(path),), {})
    peer.key, peer.menu_order = key, 1000
    hooks.register("register_spreadsheet_resources", lambda: [peer])


def check_registrations(event, rows):
    """Problems, if the event's registrations break capacity or the waitlist."""
    from events.models import Registration

    statuses = Counter(
        Registration.objects.filter(event=event).values_list("status", flat=True)
    )
    positions = list(
        Registration.objects.filter(event=event, status="waitlisted")
        .order_by("waitlist_position")
        .values_list("waitlist_position", flat=True)
    )
    problems = []
    if statuses["confirmed"] != event.capacity:
        problems.append(f"{statuses['confirmed']} confirmed, capacity {event.capacity}")
    if statuses["waitlisted"] != rows - event.capacity:
        problems.append(f"{statuses['waitlisted']} waitlisted")
    if positions != list(range(1, len(positions) + 1)):
        problems.append("waitlist positions are not 1..n")
    return problems


# The benchmarks ----------------------------------------------------------------


def registration_import(ctx=None):
    """Import N new registrations: ours against the library's defaults."""
    from events.messaging import PER_TASK as EMAILS_PER_TASK

    config = settings()
    rows, runs = config["rows"], config["runs"]
    index, user = prepare_database()
    with_peer("bench-peer-registrations", "tests.bench.spreadsheets.PeerRegistrations")
    page, floor = Timing(), Timing()
    problems = []
    for run in range(runs):
        order = [("ours", page), ("peer", floor)]
        for label, timing in order if run % 2 == 0 else reversed(order):
            event = new_registration_event(index, rows, f"{label}-{run}")
            data = registrations_csv(rows, f"{label}{run}")
            key = "registrations" if label == "ours" else "bench-peer-registrations"
            counting = Counting()
            log(f"  {label} run {run + 1}/{runs}: importing {rows} registrations...")
            seconds, job = run_job(key, data, user, {"event": event.pk}, counting)
            if job.status != "done" or job.preview["totals"]["new"] != rows:
                problems.append(f"{label} run {run}: {job.status} {job.message}")
            problems += [f"{label}: {p}" for p in check_registrations(event, rows)]
            timing.samples.append(seconds * 1000)
            timing.queries = counting.queries
            log(f"    {seconds:.1f} s, {len(counting.queries)} queries")
    preview_seconds = time_registration_preview(index, user, rows)
    # Where the queries come from, traced on a smaller import (tracing is slow).
    traced_rows = min(rows, 1000)
    event = new_registration_event(index, traced_rows, "traced")
    counting = Counting(origins=True)
    run_job(
        "registrations",
        registrations_csv(traced_rows, "traced"),
        user,
        {"event": event.pk},
        counting,
    )
    breakdown = Counter(origin_group(q) for q in counting.queries)
    ours, peer = page.median / 1000, floor.median / 1000
    per_row = len(page.queries) / rows * 1000
    own = breakdown["resource"]
    notes = [
        f"import {rows:,} registrations: ours {ours:.1f} s median, peer (library "
        f"defaults) {peer:.1f} s; {peer / ours:.2f}x faster; checking the file "
        f"first (dry run) takes {preview_seconds:.1f} s more.",
        f"  queries: ours {len(page.queries):,} ({per_row:.0f} per 1,000 rows), "
        f"peer {len(floor.queries):,} ({len(floor.queries) / rows * 1000:.0f} per "
        "1,000 rows).",
    ]
    if breakdown:
        parts = ", ".join(
            f"{name} {count:,}" for name, count in breakdown.most_common()
        )
        notes.append(f"  ours by origin, for {traced_rows:,} rows: {parts}.")
        notes.append(
            "  The inserts come in batches of Django's size for the database "
            "(SQLite: 999 parameters per statement); each email task covers up "
            f"to {EMAILS_PER_TASK} people."
        )
    return Result(
        REGISTRATION_IMPORT,
        page,
        floor,
        problems,
        None,
        notes=notes,
        extra_verdicts=[
            (
                f"{ours:.1f} s for {rows:,} rows "
                f"(target under {IMPORT_TARGET_SECONDS} s)",
                ours < IMPORT_TARGET_SECONDS,
            ),
            (
                f"{peer / ours:.2f}x faster than the library's defaults "
                f"(target >= {SPEED_TARGET}x)",
                peer / ours >= SPEED_TARGET,
            ),
            (
                f"the resource's own queries: {own} for {traced_rows:,} rows "
                "(target: a constant, not one per row)",
                own < 20,
            ),
            (
                f"{len(page.queries):,} queries for {rows:,} rows (target: batches, "
                f"under one query per {ROWS_PER_QUERY} rows)",
                len(page.queries) * ROWS_PER_QUERY < rows,
            ),
        ],
        sanity="both imports gave every row a place or a waitlist position, "
        "capacity held and the waitlist ran 1..n",
    )


def origin_group(query):
    """Which part of Gather a query came from."""
    if query.sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
        return "savepoints"
    if "django_tasks" in query.sql:
        return "email tasks"
    if query.code.startswith("events/registration.py"):
        return "registration workflows"
    if query.code.startswith(("events/resources/", "spreadsheets/")):
        return "resource"
    return query.code.split(":", 1)[0] or "other"


def time_registration_preview(index, user, rows):
    """One dry run of our import (the preview), in seconds."""
    from spreadsheets.jobs import run_stage
    from spreadsheets.models import ImportJob

    event = new_registration_event(index, rows, "preview")
    data = registrations_csv(rows, "preview")
    job = ImportJob.objects.create(
        resource="registrations",
        user=user,
        file_name="preview.csv",
        data=data,
        options={"event": event.pk},
        total_rows=rows,
    )
    began = time.perf_counter()
    run_stage(job.pk, "preview")
    return time.perf_counter() - began


def schedule_import(ctx=None):
    """Import an N-session schedule into new draft events."""
    from events.models import EventIndexPage, EventSession

    config = settings()
    sessions, runs = config["sessions"], config["runs"]
    parent, user = prepare_database()
    venues, facilitators = schedule_fixtures()
    with_peer("bench-peer-schedule", "tests.bench.spreadsheets.PeerSchedule")
    page, floor = Timing(), Timing()
    problems = []
    for run in range(runs):
        order = [("ours", page), ("peer", floor)]
        for label, timing in order if run % 2 == 0 else reversed(order):
            index = EventIndexPage(
                title=f"Schedule {label} {run}", slug=f"s-{label}-{run}"
            )
            parent.add_child(instance=index)
            data = schedule_csv(sessions, f"{label}{run}", venues, facilitators)
            key = "schedule" if label == "ours" else "bench-peer-schedule"
            counting = Counting()
            log(f"  {label} run {run + 1}/{runs}: importing {sessions} sessions...")
            seconds, job = run_job(key, data, user, {"parent": index.pk}, counting)
            made = EventSession.objects.filter(
                event__path__startswith=index.path
            ).count()
            if job.status != "done" or made != sessions:
                problems.append(f"{label} run {run}: {job.status}, {made} sessions")
            timing.samples.append(seconds * 1000)
            timing.queries = counting.queries
    ours, peer = page.median / 1000, floor.median / 1000
    return Result(
        SCHEDULE_IMPORT,
        page,
        floor,
        problems,
        None,
        notes=[
            f"import a {sessions}-session schedule ({sessions // 10} new draft "
            f"events): ours {ours:.2f} s, peer {peer:.2f} s ({peer / ours:.2f}x); "
            f"queries ours {len(page.queries):,}, peer {len(floor.queries):,}. "
            "Each session is added with add_session() and each event created "
            "with a revision, so writes grow with the rows; look-ups do not."
        ],
        sanity=f"both imports made all {sessions} sessions",
    )


def registration_export(ctx=None):
    """Export N registrations as CSV: our export view against the library's
    default ModelResource export."""
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory
    from import_export.formats.base_formats import CSV

    from events.models import Registration
    from spreadsheets.views import export_view

    config = settings()
    rows, runs = config["rows"], max(config["runs"], 5)
    index, user = prepare_database()
    event = new_registration_event(index, rows, "export")
    Registration.objects.bulk_create(
        [
            Registration(
                event=event,
                name=f"Person {n}",
                email=f"export-{n}@example.org",
                phone=f"=cmd|'/C calc'!A{n}" if n % 1000 == 0 else "416-555-0100",
                status="confirmed",
                token_salt=f"s{n}",
                manage_token_hash=f"export-{n}",
            )
            for n in range(rows)
        ]
    )
    factory = RequestFactory()

    def ours():
        request = factory.get("/", {"event": event.pk, "format": "csv"})
        request.user = user
        request.session = {}
        request._messages = FallbackStorage(request)
        response = export_view(request, "registrations")
        assert response.status_code == 200, response.status_code
        return response.content

    def peer():
        resource = peer_export_resource()()
        dataset = resource.export(Registration.objects.filter(event=event))
        return CSV().export_data(dataset).encode()

    page, floor = Timing(), Timing()
    from django.db import connection

    for run in range(runs):
        pairs = [(ours, page), (peer, floor)]
        for func, timing in pairs if run % 2 == 0 else reversed(pairs):
            counting = Counting()
            gc.collect()
            with connection.execute_wrapper(counting):
                began = time.perf_counter()
                content = func()
                timing.samples.append((time.perf_counter() - began) * 1000)
            timing.queries = counting.queries
    lines = ours().decode("utf-8-sig").splitlines()
    problems = []
    if len(lines) != rows + 1:
        problems.append(f"our export has {len(lines) - 1} rows, not {rows}")
    if any(",=cmd" in line for line in lines):
        problems.append("a formula was not neutralised")
    peer_lines = content.decode().splitlines() if content else []
    seconds = page.median / 1000
    return Result(
        REGISTRATION_EXPORT,
        page,
        floor,
        problems,
        None,
        notes=[
            f"export {rows:,} registrations as CSV: ours {seconds:.2f} s "
            f"({len(page.queries)} queries, audit log entry included), peer "
            f"{floor.median / 1000:.2f} s ({len(floor.queries):,} queries: one "
            f"per row for the event title); peer rows {len(peer_lines) - 1:,}."
        ],
        extra_verdicts=[
            (
                f"{seconds:.2f} s (target under {EXPORT_TARGET_SECONDS} s)",
                seconds < EXPORT_TARGET_SECONDS,
            )
        ],
        sanity=f"all {rows:,} rows exported, formulas neutralised",
    )


def _register(benchmark):
    """Register ``benchmark`` once, however often this module is imported
    (``python -m`` runs it as ``__main__`` and jobs import it by name)."""
    for existing in BENCHMARKS:
        if existing.name == benchmark.name:
            return existing
    return register(benchmark)


def __getattr__(name):
    """``PeerRegistrations`` and ``PeerSchedule``, for import jobs by path."""
    if name == "PeerRegistrations":
        return peer_classes()[0]
    if name == "PeerSchedule":
        return peer_classes()[1]
    raise AttributeError(name)


REGISTRATION_IMPORT = _register(
    Benchmark(
        name="import 10,000 registrations",
        execute=registration_import,
        needs_data=False,
        max_ratio=round(1 / SPEED_TARGET, 3),
        query_limit=None,
        description="CSV import in bulk mode, vs the library's defaults",
    )
)
SCHEDULE_IMPORT = _register(
    Benchmark(
        name="import 500-session schedule",
        execute=schedule_import,
        needs_data=False,
        max_ratio=1.0,
        query_limit=None,
        description="schedule import into draft events, vs the library's defaults",
    )
)
REGISTRATION_EXPORT = _register(
    Benchmark(
        name="export 10,000 registrations",
        execute=registration_export,
        needs_data=False,
        max_ratio=1.0,
        query_limit=10,
        description="CSV export view with audit log, vs the library's default",
    )
)
SPREADSHEET_BENCHMARKS = (REGISTRATION_IMPORT, SCHEDULE_IMPORT, REGISTRATION_EXPORT)


def main():
    """Run the three benchmarks against the bench database; print the table."""
    from . import environment

    environment.configure()
    import django

    django.setup()
    from .runner import format_report, format_table

    results = []
    for benchmark in SPREADSHEET_BENCHMARKS:
        log(f"Running {benchmark.name}...")
        results.append(benchmark.execute(None))
    lines = ["Gather spreadsheet benchmarks", ""]
    lines += [*format_table(results), *format_report(results)]
    print("\n".join(lines))  # noqa: T201
    return 2 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
