"""The benchmark's own database and the data in it.

``configure()`` must run before Django is set up: it points Django at a
throwaway SQLite file under ``.bench/`` (or at ``BENCH_DATABASE_URL``) with
debug off, so neither the debug toolbar nor query logging distorts timings.
``prepare()`` then migrates and, only when the database does not already
hold the requested data, (re)builds it with ``generate_bench_data``.

Environment variables:

* ``BENCH_EVENTS`` (default 1000) and ``BENCH_SESSIONS`` (default 5 per
  event): how much data to build. Each size gets its own SQLite file.
* ``BENCH_PAST_SHARE`` (default 0): the share of those sessions that lie in
  past terms, with attendance recorded (``generate_bench_data
  --past-share``). It is 0 by default because the calendar benchmark asks for
  2,000 upcoming sessions of one topic, which 1,000 events with 70% of their
  sessions past do not have.
* ``BENCH_DATABASE_URL``: use this database instead of a file. Its bench
  pages are replaced when they do not match the requested size.
* ``BENCH_REBUILD=1``: rebuild the data even if it looks current.

SQLite file names carry a hash of ``generate_bench_data`` and the project's
migrations, so changing either builds a fresh file on the next run.
* ``BENCH_SETTINGS``: settings module (default ``website.settings.dev``).
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


@dataclass(frozen=True)
class BenchConfig:
    """What to build and where."""

    events: int
    sessions: int
    past_share: float
    database_url: str
    sqlite_path: Path | None
    rebuild: bool

    @property
    def database_label(self):
        """A short description of the database, for the report header."""
        if self.sqlite_path:
            return str(self.sqlite_path.relative_to(BASE_DIR))
        return self.database_url.split("@")[-1]


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


def configure():
    """Set the environment Django reads, before ``django.setup()``."""
    events = env_int("BENCH_EVENTS", 1000)
    sessions = env_int("BENCH_SESSIONS", 5 * events)
    past_share = float(os.environ.get("BENCH_PAST_SHARE", "").strip() or 0)
    database_url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    sqlite_path = None
    if not database_url:
        BENCH_DIR.mkdir(exist_ok=True)
        past = f"-{round(past_share * 100)}p" if past_share else ""
        name = f"bench-{events}e-{sessions}s{past}-{source_hash()}.sqlite3"
        sqlite_path = BENCH_DIR / name
        database_url = f"sqlite:///{sqlite_path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = os.environ.get(
        "BENCH_SETTINGS", "website.settings.dev"
    )
    os.environ["DEBUG"] = "false"
    os.environ["DATABASE_URL"] = database_url
    hosts = {"localhost", "testserver", "127.0.0.1"}
    hosts.update(h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h)
    os.environ["ALLOWED_HOSTS"] = ",".join(sorted(hosts))
    # An in-process cache: the timings measure Gather, not a cache backend.
    os.environ.setdefault("CACHE_URL", "locmemcache://bench")
    # Keep request and page-creation logs out of the table.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return BenchConfig(
        events=events,
        sessions=sessions,
        past_share=past_share,
        database_url=database_url,
        sqlite_path=sqlite_path,
        rebuild=os.environ.get("BENCH_REBUILD") == "1",
    )


def data_is_current(config):
    """Whether the database holds exactly the requested bench data, with as
    many sessions still ahead as were built ahead (none has gone past)."""
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
    return (
        events.count() == config.events
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
