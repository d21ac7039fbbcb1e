"""Shared fixtures and small builders for the test suite.

Builders (``make_*``) create the least a test needs and take keyword
overrides; they never rely on demo content.
"""

import datetime as dt
import os
import re
from contextlib import contextmanager
from html import unescape
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from wagtail.models import Locale, Page, Site
from wagtail.signal_handlers import disable_reference_index_auto_update

from core import public_cache, sms
from core.sms.backends import locmem as sms_locmem
from events.models import EventIndexPage, EventPage, Venue
from events.sessions import add_session
from tests.unique import unique as _unique
from website.models import HomePage
from workshops.models import WorkshopIndexPage, WorkshopPage


@pytest.fixture
def home_page(db):
    """The site's HomePage, created by the website data migration.

    Transactional tests empty the database afterwards, so it is rebuilt
    when missing.
    """
    return site_home_page()


def site_home_page():
    """The site's HomePage, rebuilt with its Site when it is missing."""
    home = HomePage.objects.first()
    if home is None:
        Locale.objects.get_or_create(language_code="en")
        root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
        home = root.add_child(instance=HomePage(title="Welcome", slug="home"))
        Site.objects.update_or_create(
            is_default_site=True,
            defaults={"hostname": "localhost", "port": 80, "root_page": home},
        )
    return home


@contextmanager
def module_transaction(django_db_blocker):
    """An outer transaction on every database, rolled back on leaving.

    For data built once per test module (a ``scope="module"`` fixture builds
    inside it, under ``django_db_blocker.unblock()``, and yields inside it).
    Each test's ``db`` then runs in a savepoint inside this transaction
    (pytest-django skips ``TestCase``'s class-level transaction when one is
    already open), so what a test changes is undone after it, and what the
    module built is gone when the module is done. Transactional tests
    (``transaction=True``) cannot share such data: pytest-django runs them
    after the others, outside this fixture's module when it can.
    """
    with django_db_blocker.unblock():
        atomics = [transaction.atomic(using=alias) for alias in connections]
        for atomic in atomics:
            atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            for alias, atomic in reversed(list(zip(connections, atomics, strict=True))):
                transaction.set_rollback(True, using=alias)
                atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True, scope="session")
def _reference_index_left_alone():
    """Wagtail's reference index (what links to what, for its Usage screens)
    is not brought up to date as the tests save objects: it is a sixth of
    the time a page takes to publish, and no test reads it. Production keeps
    it up to date through the task worker."""
    with disable_reference_index_auto_update():
        yield


@pytest.fixture(autouse=True)
def _fresh_public_cache():
    """Each test starts with no public pages cached (``core.public_cache``):
    the database is rolled back between tests, the in-memory cache is not,
    and a page cached by one test must not answer the next."""
    public_cache.new_generation()
    public_cache.new_places_generation()


def queued_work(callbacks):
    """The on-commit callbacks ``callbacks`` holds besides forgetting cached
    public pages and moving the content version on (``core.public_cache``):
    what a change left for after its commit."""
    forgetting = (
        public_cache.new_generation,
        public_cache.new_places_generation,
        public_cache.next_content_version,
    )
    return [callback for callback in callbacks if callback not in forgetting]


@pytest.fixture
def no_quiet_hours(settings):
    """Messages go whatever the time of day the test runs at: quiet hours
    (21:00 to 08:00 by default, ``events.messaging``) would otherwise hold
    reminders and session changes until morning. Tests of quiet hours set
    their own, with a frozen clock."""
    settings.GATHER_QUIET_HOURS_START = settings.GATHER_QUIET_HOURS_END = "00:00"


@pytest.fixture(autouse=True)
def sms_outbox():
    """``core.sms.outbox``, emptied before each test, as pytest-django empties
    ``mail.outbox``; the failures a test asked of the in-memory backend
    (``fail_next``, ``fail_for``) are forgotten too."""
    sms.outbox.clear()
    sms_locmem.reset()
    yield sms.outbox
    sms_locmem.reset()


# Task backends --------------------------------------------------------------
#
# The test settings run each task the moment it is queued (ImmediateBackend).
# GATHER_TEST_TASKS=db or =rq runs the tests marked ``tasks`` on a real
# backend instead: tasks are stored (a database row, or a job in Redis at
# the test settings' GATHER_TEST_REDIS_URL) and a worker runs them in this
# process (django-tasks-db's worker in batch mode, RQ's SimpleWorker in burst
# mode) once the change that queued them commits: when a
# ``django_capture_on_commit_callbacks(execute=True)`` block ends, and
# whenever a test calls ``run_tasks()``. A task that fails fails the test.

TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
}
TEST_TASKS = os.environ.get("GATHER_TEST_TASKS", "") or "immediate"


def pytest_configure(config):
    if TEST_TASKS not in TASK_BACKENDS:
        raise pytest.UsageError(
            f"GATHER_TEST_TASKS={TEST_TASKS!r}: use one of {', '.join(TASK_BACKENDS)}"
        )


def _test_redis_url(base_url: str, worker_id: str) -> str:
    """The Redis database of this pytest-xdist worker: gw0 the settings'
    database, gw1 the next one, and so on (pytest-xdist workers would take
    each other's jobs from one queue)."""
    if not worker_id.startswith("gw"):
        return base_url
    stem, _, number = base_url.rpartition("/")
    return f"{stem}/{int(number or 0) + int(worker_id[2:])}"


@pytest.fixture
def test_redis(request, settings):
    """This test's Redis database (GATHER_TEST_REDIS_URL, one per pytest-xdist
    worker), emptied, and RQ's queue pointed at it; returns its URL."""
    import django_rq
    from redis.exceptions import RedisError

    from website.settings.base import rq_queue_settings

    url = _test_redis_url(
        settings.GATHER_TEST_REDIS_URL, request.getfixturevalue("worker_id")
    )
    settings.RQ_QUEUES = {"default": rq_queue_settings(url, timeout=60)}
    try:
        django_rq.get_connection("default").flushdb()
    except RedisError as error:
        pytest.fail(f"This test needs Redis at {url}: {error}")
    return url


@pytest.fixture(autouse=True)
def task_backend(request) -> str:
    """The task backend of this test: GATHER_TEST_TASKS's for tests marked
    ``tasks``, the immediate one for the others. On RQ the test's Redis
    database is emptied first (it holds nothing else: the test settings)."""
    if TEST_TASKS == "immediate" or "tasks" not in request.keywords:
        return "immediate"
    if TEST_TASKS == "rq":
        request.getfixturevalue("test_redis")
    settings = request.getfixturevalue("settings")
    settings.TASKS = {"default": {"BACKEND": TASK_BACKENDS[TEST_TASKS]}}
    return TEST_TASKS


def _run_database_tasks() -> int:
    """Run every waiting database task, as ``manage.py db_worker --batch``
    does; the worker's between-task reconnect is left out, as it would close
    the connection the test's transaction is on."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    worker = db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="pytest",
        excluded_queue_names=[],
    )
    with mock.patch.object(db_worker, "close_old_connections"):
        worker.run()
    for result in DBTaskResult.objects.filter(status=TaskResultStatus.FAILED):
        if "pytest" in result.worker_ids:
            pytest.fail(f"Task {result.task_path} failed:\n{result.traceback}")
    return worker._run_tasks


def _run_rq_tasks() -> int:
    """Run every job in the RQ queues with a SimpleWorker (no fork, so the
    job sees the test's transaction) in burst mode: until the queues are
    empty."""
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    queue = django_rq.get_queue("default", job_class=Job)
    finished = FinishedJobRegistry(queue=queue)
    finished_before = finished.count
    worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
    worker.work(burst=True, logging_level="WARNING")
    for job_id in FailedJobRegistry(queue=queue).get_job_ids():
        job = Job.fetch(job_id, connection=queue.connection)
        pytest.fail(f"Task {job.func_name} failed:\n{job.latest_result().exc_string}")
    # The worker counts its jobs in Redis, not in the object; finished jobs
    # stay in this registry for their result's lifetime (500 s).
    return finished.count - finished_before


def run_queued_tasks() -> int:
    """Run what the current task backend holds, as its worker would, and
    return how many tasks ran; the immediate backend holds nothing."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend

    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if isinstance(backend, DatabaseBackend):
        return _run_database_tasks()
    if type(backend).__module__.startswith("django_tasks_rq"):
        return _run_rq_tasks()
    return 0


@pytest.fixture
def run_tasks(task_backend):
    """``run_tasks()`` runs the tasks queued so far (see Task backends
    above) and returns how many ran."""
    return run_queued_tasks


@pytest.fixture
def django_capture_on_commit_callbacks(task_backend):
    """pytest-django's fixture; on a real task backend (GATHER_TEST_TASKS),
    a block with ``execute=True`` is a commit, after which the worker runs
    what the change queued."""
    from django.test import TestCase

    capture = TestCase.captureOnCommitCallbacks
    if task_backend == "immediate":
        return capture

    @contextmanager
    def capture_then_run_tasks(*, using=DEFAULT_DB_ALIAS, execute=False):
        with capture(using=using, execute=execute) as callbacks:
            yield callbacks
        if execute:
            run_queued_tasks()

    return capture_then_run_tasks


@pytest.fixture
def search_index(settings):
    """Pages and snippets indexed for search as they are saved, as in
    production; the test settings leave indexing off, for speed."""
    backend = settings.WAGTAILSEARCH_BACKENDS["default"]
    settings.WAGTAILSEARCH_BACKENDS = {"default": {**backend, "AUTO_UPDATE": True}}


@pytest.fixture
def event_index(home_page):
    return make_event_index(home_page)


@pytest.fixture
def workshop_index(home_page):
    index = WorkshopIndexPage(title="Workshop library", slug="workshops")
    home_page.add_child(instance=index)
    return index


def role_group(name):
    """A role group (``website.roles``) as the migration made it; made
    again when a transactional test has emptied the database."""
    if not Group.objects.filter(name=name).exists():
        from django.apps import apps

        from website.roles import sync_role_groups

        sync_role_groups(apps)
    return Group.objects.get(name=name)


@pytest.fixture
def facilitators_group(db):
    return Group.objects.get_or_create(name="Facilitators")[0]


def make_event_index(home_page, **overrides):
    fields = {"title": "Groups and events", "slug": _unique("events")} | overrides
    index = EventIndexPage(**fields)
    home_page.add_child(instance=index)
    return index


def make_venue(**overrides):
    fields = {"name": _unique("Venue"), "setting": "community"} | overrides
    return Venue.objects.create(**fields)


def make_event(index, *, publish=True, topics=(), **overrides):
    """An EventPage below ``index``, published unless ``publish=False``."""
    title = overrides.pop("title", _unique("Event"))
    fields = {
        "title": title,
        "slug": _unique("event"),
        "summary": f"About {title}.",
        "live": publish,
    } | overrides
    event = EventPage(**fields)
    if topics:
        event.topics.add(*topics)
    index.add_child(instance=event)
    if publish:
        event.save_revision().publish()
    return EventPage.objects.get(pk=event.pk)


def make_session(event, *, start=None, hours=2, **overrides):
    """A session of ``event``; by default tomorrow at 18:00 local time."""
    if start is None:
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        start = timezone.make_aware(dt.datetime.combine(tomorrow, dt.time(18)))
    end = overrides.pop("end", start + dt.timedelta(hours=hours))
    return add_session(event=event, start=start, end=end, **overrides)


def make_workshop(index, **overrides):
    segments = overrides.pop(
        "segments",
        [
            ("Welcome", 10, "welcome"),
            ("Talk", 40, "discussion"),
            ("Close", 10, "closing"),
        ],
    )
    fields = {
        "title": _unique("Workshop"),
        "slug": _unique("workshop"),
        "summary": "A workshop.",
        "duration_minutes": sum(minutes for _, minutes, _ in segments),
        "outline": [
            (
                "segment",
                {
                    "title": title,
                    "minutes": minutes,
                    "kind": kind,
                    "description": f"{title} part.",
                    "facilitator_notes": f"Secret note for {title}.",
                    "materials": ["Pens"],
                },
            )
            for title, minutes, kind in segments
        ],
    } | overrides
    workshop = WorkshopPage(**fields)
    index.add_child(instance=workshop)
    workshop.save_revision().publish()
    return WorkshopPage.objects.get(pk=workshop.pk)


@pytest.fixture
def site_client(client):
    """A test client that asks for the default site's host."""
    client.defaults["HTTP_HOST"] = "localhost"
    return client


def make_registration_event(index, *, capacity=2, waitlist=True, **overrides):
    """A published event with sign-up required and one session tomorrow."""
    fields = {
        "registration_mode": "required",
        "capacity": capacity,
        "waitlist_enabled": waitlist,
    } | overrides
    event = make_event(index, **fields)
    make_session(event)
    return event


def sign_up(event, name="Sam", email=None, **overrides):
    """Register one person through the workflow; returns the Registration."""
    from events.registration import register

    email = email if email is not None else f"{_unique('person')}@example.org"
    return register(event=event, name=name, email=email, **overrides).registration


def admin_heading(response) -> str:
    """The text of a Wagtail admin screen's ``<h1>`` (title and subtitle),
    or "" when the screen has none."""
    match = re.search(
        r'<h1 class="w-header__title"[^>]*>(.*?)</h1>',
        response.content.decode(),
        re.DOTALL,
    )
    if match is None:
        return ""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need real concurrent connections and row
    locks; SQLite's shared in-memory test database cannot give them. They run
    in the PostgreSQL leg of .ci/run."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (runs in .ci/run's PostgreSQL leg)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
