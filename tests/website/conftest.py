"""The demo program built once per test module, for the demo's tests.

Building the demo publishes about thirty pages and takes seconds, and most
of its tests only read what it built. ``demo`` builds it once per module
inside ``tests.conftest.module_transaction``: whatever a test changes is
undone after it, and the whole demo is rolled back when the module is done,
leaving nothing for other modules.
"""

import datetime as dt
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from core import sms
from events.models import EventIndexPage
from tests.conftest import module_transaction


@dataclass(frozen=True)
class BuiltDemo:
    """What building the shared demo gave."""

    #: What ``manage.py load_demo`` wrote.
    output: str
    #: Every email sent while it ran, on-commit ones included.
    emails: list
    #: Every text message sent while it ran.
    texts: list
    #: The day it was built on: the program starts the day after.
    today: dt.date


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, built once for the module and rolled back after it.

    Tests that use it must also use the database (``db``). A test that needs
    to run ``load_demo`` on a site without the demo must come before the
    first test that uses this in its module (see ``site_without_demo``).
    """
    with module_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            mail.outbox.clear()
            sms.outbox.clear()
            out = StringIO()
            today = timezone.localdate()
            # As a real run would commit: run what the build left for commit
            # time, so emails sent then are seen too.
            with TestCase.captureOnCommitCallbacks(execute=True):
                call_command("load_demo", stdout=out)
            built = BuiltDemo(
                output=out.getvalue(),
                emails=list(mail.outbox),
                texts=list(sms.outbox),
                today=today,
            )
        yield built


@pytest.fixture
def site_without_demo(home_page):
    """The site as migrations leave it, for tests that run ``load_demo``
    themselves; fails if the module's shared ``demo`` is already built (the
    test would see it), which means the test is placed after one using it."""
    if EventIndexPage.objects.child_of(home_page).exists():
        pytest.fail(
            "The shared demo is already built in this module: put tests that "
            "build their own before the first test that uses the demo fixture."
        )
    return home_page
