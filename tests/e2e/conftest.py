"""Real-browser journeys: Debian's Chromium driven by Playwright against
pytest-django's ``live_server``.

Every test in this folder is marked ``browser``. A failing test leaves a
screenshot and the HTML of each page it had open under ``E2E_ARTIFACTS``
(default ``.e2e-artifacts/``), and the run's summary prints that folder.
"""

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread


class OneRequestAtATimeServer(WSGIServer):
    """The live server, answering one request at a time.

    With SQLite the live server's threads share the test's one in-memory
    connection, and a page's requests that overlap (a navigation and the
    beacon Wagtail's editor sends as it is left) can use it at the same
    moment: SQLite fails with "bad parameter or other API misuse", the
    session read fails, and the browser lands on the login page. Answered in
    turn (Django's server closes each connection when it is not threaded),
    nothing overlaps.
    """

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override
        self._answering = threading.Lock()
        self._closed = False

    def process_request(self, request, client_address):
        with self._answering:
            if self._closed:
                self.shutdown_request(request)
                return
            super().process_request(request, client_address)

    def open(self):
        """Answer requests (each test's ``site`` opens the server)."""
        with self._answering:
            self._closed = False

    def close(self):
        """Wait for the request being answered, then turn any later one away.

        A browser context being closed can still send a request (the beacon
        Wagtail's editor sends as it is left, a poll in flight) after the
        test has ended; answered while the test database is flushed, it
        holds SQLite's shared table lock and the flush fails. Closed, the
        server drops such a request without touching the database.
        """
        with self._answering:
            self._closed = True


# pytest-django's live_server builds Django's LiveServerThread, which names
# its server class; its own thread already uses the shared connections.
LiveServerThread.server_class = OneRequestAtATimeServer

ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", ".e2e-artifacts")).resolve()

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

#: Flags that keep Chromium off the network it cannot reach here, and able to
#: run as root in a container.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter):
    if ARTIFACTS.exists() and any(ARTIFACTS.iterdir()):
        terminalreporter.write_line(
            f"Browser test screenshots and HTML of failing steps: {ARTIFACTS}"
        )


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium (Debian's ``chromium``) per test module.

    Playwright's sync API keeps an event loop running in this thread while it
    is started, so Django's guard against ORM calls from async code is lifted
    for exactly that time; it is back on for the modules outside tests/e2e.
    """
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Browser tests need Debian's chromium package: "
            "apt-get install chromium (make test installs it when it can)."
        )
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def site(transactional_db, live_server, settings, home_page, search_index):
    """The live site, with links in emails and calendars pointing at it, and
    pages indexed for search as they are saved, as in production."""
    settings.BASE_URL = live_server.url
    settings.WAGTAILADMIN_BASE_URL = live_server.url
    cache.clear()
    server = live_server.thread.httpd
    server.open()
    yield live_server
    # The browser contexts are closed by now (they are built on this fixture).
    server.close()


@pytest.fixture
def browser_context(chromium, site, request):
    """Open a new browser context (cookies of its own) with ``open_context``.

    Each context opened is closed at the end; if the test failed, a
    screenshot and the HTML of its pages are saved first.
    """
    contexts = []

    def open_context(viewport=PHONE, **options):
        context = chromium.new_context(
            viewport=viewport, base_url=site.url, accept_downloads=True, **options
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context

    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for number, context in enumerate(contexts):
        if failed:
            _save_artifacts(request.node.name, number, context)
        context.close()


def _save_artifacts(test_name, number, context):
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    for index, page in enumerate(context.pages):
        stem = folder / f"context{number}-page{index}"
        try:
            page.screenshot(path=f"{stem}.png", full_page=True)
            Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
        except Exception as error:  # noqa: BLE001 - artifacts are best effort
            Path(f"{stem}.error.txt").write_text(repr(error), encoding="utf-8")


@pytest.fixture
def phone(browser_context):
    """A page in a 375 px wide phone viewport."""
    return browser_context(PHONE).new_page()


@pytest.fixture
def desktop(browser_context):
    """A page in a desktop-sized viewport."""
    return browser_context(DESKTOP).new_page()


@pytest.fixture
def stored_tasks(settings, site):
    """Tasks stored by the database task backend (as ``GATHER_TEST_TASKS=db``
    does) instead of run the moment they are queued, so a journey sees a
    job waiting; call the fixture's value to run them, as ``manage.py
    db_worker`` would. They run between two of the live server's requests:
    with SQLite the server and the test share one connection, which must
    not be used by both at the same moment."""
    from tests.conftest import TASK_BACKENDS, run_queued_tasks

    settings.TASKS = {"default": {"BACKEND": TASK_BACKENDS["db"]}}
    server = site.thread.httpd

    def run():
        with server._answering:
            return run_queued_tasks()

    return run


@pytest.fixture
def coordinator(site, home_page, django_user_model):
    """A member of the Coordinators group, with the permissions the demo
    gives that group (no superuser powers)."""
    from django.contrib.auth.models import Group

    from events.groups import COORDINATORS_GROUP
    from tests.e2e.support import PASSWORD
    from website.demo.builder import build_groups

    build_groups()
    user = django_user_model.objects.create_user(
        "casey", email="casey@example.org", password=PASSWORD
    )
    user.groups.add(Group.objects.get(name=COORDINATORS_GROUP))
    return user
