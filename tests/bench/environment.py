"""The benchmark's own databases and the data in them.

``configure()`` must run before Django is set up: it works out one database
per scale (a throwaway SQLite file under ``.bench/``, or one database per
scale of ``BENCH_DATABASE_URL``) and points Django at the first, with debug
off, so neither the debug toolbar nor query logging distorts timings.
``use()`` moves Django to another scale's database after setup. ``prepare()``
then migrates and, only when the database does not already hold the
requested data, (re)builds it with ``generate_bench_data``.

Environment variables:

* ``BENCH_SCALES`` (default ``1,10``): the data sizes, as multiples of
  ``BENCH_EVENTS`` and ``BENCH_SESSIONS``. Benchmarks that read the data run
  once per scale and the table shows how their medians grow; ``1`` runs the
  single-size table.
* ``BENCH_EVENTS`` (default 1000) and ``BENCH_SESSIONS`` (default 5 per
  event): how much data to build at scale 1. Each size gets its own SQLite
  file.
* ``BENCH_PAST_SHARE`` (default 0.7): the share of those sessions that lie in
  past terms, with attendance recorded (``generate_bench_data
  --past-share``), as on a site with a few years of history. The calendar
  benchmark's topic is sized by the generator so that the site feed holds
  2,000 sessions whatever the share and size (``FEED_SESSIONS``).
* ``BENCH_DATABASE_URL``: use this database instead of files. With several
  scales, each gets its own database: ``{scale}`` in the URL is replaced by
  the scale (``.../gather_scale_{scale}x``), or else ``_<scale>x`` is added to
  the database name (``.../gather_scale`` gives ``gather_scale_1x`` and
  ``gather_scale_10x``). Its bench pages are replaced when they do not match
  the requested size.
* ``BENCH_REBUILD=1``: rebuild the data even if it looks current.
* ``BENCH_SETTINGS``: settings module (default ``website.settings.dev``).

SQLite file names carry a hash of ``generate_bench_data`` and the project's
migrations, so changing either builds a fresh file on the next run.
"""

import hashlib
import io
import os
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
BENCH_DIR = BASE_DIR / ".bench"
GENERATOR = BASE_DIR / "attendance/management/commands/generate_bench_data.py"
#: Apps whose migrations shape the bench database.
PROJECT_APPS = ("website", "events", "workshops", "attendance")


#: The share of sessions in past terms unless ``BENCH_PAST_SHARE`` says.
DEFAULT_PAST_SHARE = 0.7


@dataclass(frozen=True)
class BenchConfig:
    """What to build and where, for one scale."""

    events: int
    sessions: int
    past_share: float
    database_url: str
    sqlite_path: Path | None
    rebuild: bool
    #: This size as a multiple of the scale-1 size.
    scale: int = 1

    @property
    def database_label(self):
        """A short description of the database, for the report header."""
        if self.sqlite_path:
            return str(self.sqlite_path.relative_to(BASE_DIR))
        return self.database_url.split("@")[-1]

    @property
    def label(self):
        """``1x``, ``10x``: the scale as the table prints it."""
        return f"{self.scale}x"

    @property
    def description(self):
        """How much data, e.g. ``10,000 events, 50,000 sessions, 70% past``."""
        past = f", {round(self.past_share * 100)}% past" if self.past_share else ""
        return f"{self.events:,} events, {self.sessions:,} sessions{past}"


def env_int(name, default):
    """An integer environment variable, or ``default`` when unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def source_hash():
    """A short hash of the data generator and the project's migrations.

    It names the SQLite file, so changing either builds a fresh database
    instead of reusing one with old data or a schema migrate cannot fix.
    """
    digest = hashlib.sha256(GENERATOR.read_bytes())
    for app in PROJECT_APPS:
        for path in sorted((BASE_DIR / app / "migrations").glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def scales():
    """``BENCH_SCALES`` as sorted, distinct positive whole numbers."""
    text = os.environ.get("BENCH_SCALES", "").strip() or "1,10"
    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        values = []
    if not values or values[0] < 1:
        raise SystemExit(
            f"BENCH_SCALES={text!r}: give whole numbers of 1 or more, e.g. 1,10."
        )
    return values


def scaled_url(url, scale, *, several):
    """``url`` for ``scale``: ``{scale}`` replaced, or with several scales
    ``_<scale>x`` added to the database name."""
    if "{scale}" in url:
        return url.replace("{scale}", str(scale))
    if not several:
        return url
    base, _, query = url.partition("?")
    return f"{base}_{scale}x" + (f"?{query}" if query else "")


def configure():
    """Set the environment Django reads, before ``django.setup()``.

    Returns a ``BenchConfig`` per scale, smallest first; Django starts on
    the first.
    """
    base_events = env_int("BENCH_EVENTS", 1000)
    base_sessions = env_int("BENCH_SESSIONS", 5 * base_events)
    text = os.environ.get("BENCH_PAST_SHARE", "").strip()
    past_share = float(text) if text else DEFAULT_PAST_SHARE
    given_url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    rebuild = os.environ.get("BENCH_REBUILD") == "1"
    chosen = scales()
    configs = []
    for scale in chosen:
        events, sessions = base_events * scale, base_sessions * scale
        sqlite_path = None
        if given_url:
            database_url = scaled_url(given_url, scale, several=len(chosen) > 1)
        else:
            BENCH_DIR.mkdir(exist_ok=True)
            past = f"-{round(past_share * 100)}p" if past_share else ""
            name = f"bench-{events}e-{sessions}s{past}-{source_hash()}.sqlite3"
            sqlite_path = BENCH_DIR / name
            database_url = f"sqlite:///{sqlite_path}"
        configs.append(
            BenchConfig(
                events=events,
                sessions=sessions,
                past_share=past_share,
                database_url=database_url,
                sqlite_path=sqlite_path,
                rebuild=rebuild,
                scale=scale,
            )
        )
    os.environ["DJANGO_SETTINGS_MODULE"] = os.environ.get(
        "BENCH_SETTINGS", "website.settings.dev"
    )
    os.environ["DEBUG"] = "false"
    os.environ["DATABASE_URL"] = configs[0].database_url
    hosts = {"localhost", "testserver", "127.0.0.1"}
    hosts.update(h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h)
    os.environ["ALLOWED_HOSTS"] = ",".join(sorted(hosts))
    # An in-process cache: the timings measure Gather, not a cache backend.
    os.environ.setdefault("CACHE_URL", "locmemcache://bench")
    # Keep request and page-creation logs out of the table.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return configs


def use(config):
    """Point Django, already set up, at ``config``'s database.

    Only the database name differs between scales (same engine, same
    options). Cached pages, site roots and content types of the database
    left behind are dropped.
    """
    import environ
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache
    from django.db import connections

    name = environ.Env.db_url_config(config.database_url)["NAME"]
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    cache.clear()
    ContentType.objects.clear_cache()


def data_is_current(config):
    """Whether the database holds exactly the requested bench data, built
    today (sessions and the site feed's window are placed around the day
    they were built), with as many sessions still ahead as were built ahead
    (none has gone past)."""
    from django.utils import timezone

    from attendance.management.commands.generate_bench_data import (
        INDEX_SLUG,
        past_counts,
    )
    from events.models import EventIndexPage, EventPage, EventSession

    index = EventIndexPage.objects.filter(slug=INDEX_SLUG).first()
    if index is None:
        return False
    events = EventPage.objects.child_of(index)
    sessions = EventSession.objects.filter(event__in=events.values("pk"))
    past = sum(past_counts([config.sessions], config.past_share))
    built = events.order_by("pk").values_list("first_published_at", flat=True)
    built_on = built.first()
    return (
        built_on is not None
        and timezone.localdate(built_on) == timezone.localdate()
        and events.count() == config.events
        and sessions.count() == config.sessions
        and sessions.filter(start__gt=timezone.now()).count() == config.sessions - past
    )


def prepare(config, log):
    """Migrate, then build the data unless it is already there.

    Returns the seconds spent generating data, or None when it was reused.
    """
    from django.core.management import call_command
    from django.db import connections

    fresh_file = config.sqlite_path is not None and not config.sqlite_path.exists()
    if not fresh_file:
        call_command("migrate", interactive=False, verbosity=0)
        if not config.rebuild and data_is_current(config):
            return None
    replace = True
    if config.sqlite_path:
        # A fresh file is quicker than deleting a thousand pages.
        connections.close_all()
        # Also drop files of the same size made by an older generator.
        size = config.sqlite_path.name.rsplit("-", 1)[0]
        for path in BENCH_DIR.glob(f"{size}-*.sqlite3*"):
            path.unlink(missing_ok=True)
        log(f"Building {config.sqlite_path.name}: migrating...")
        call_command("migrate", interactive=False, verbosity=0)
        replace = False
    log(f"Generating {config.events} events and {config.sessions} sessions...")
    began = time.perf_counter()
    call_command(
        "generate_bench_data",
        events=config.events,
        sessions=config.sessions,
        past_share=config.past_share,
        replace=replace,
        stdout=io.StringIO(),
    )
    return time.perf_counter() - began
