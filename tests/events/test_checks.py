"""The system check for sessions longer than the limit (made by an earlier
version, before ``session_too_long``)."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from events.checks import NAMED, no_session_longer_than_the_limit
from events.models import MAX_SESSION_LENGTH, EventSession
from tests.conftest import make_event, make_session

pytestmark = pytest.mark.django_db


def _long_session(event, *, start, days):
    # Written directly, as an earlier version could: add_session refuses it.
    return EventSession.objects.create(
        event=event, start=start, end=start + dt.timedelta(days=days)
    )


def test_names_long_sessions_still_to_end_and_what_to_do(event_index):
    now = timezone.now()
    camp = make_event(event_index, title="Summer camp")
    running = _long_session(camp, start=now - dt.timedelta(days=9), days=12)
    ahead = _long_session(camp, start=now + dt.timedelta(days=3), days=10)
    _long_session(camp, start=now - dt.timedelta(days=40), days=10)  # over
    make_session(camp, start=now + dt.timedelta(days=1))  # an ordinary one
    _long_session(camp, start=now, days=MAX_SESSION_LENGTH.days)  # the most

    [warning] = no_session_longer_than_the_limit(databases=["default"])

    assert warning.id == "events.W001"
    assert warning.msg.startswith("2 session(s) still to end last longer than 7")
    assert f"session {running.pk} of event {camp.pk} ('Summer camp')" in warning.msg
    assert f"session {ahead.pk} of event {camp.pk}" in warning.msg
    assert "move each long session to end within 7 days" in warning.hint


def test_silent_without_long_sessions_or_databases(event_index):
    make_session(make_event(event_index), start=timezone.now() + dt.timedelta(days=1))
    assert no_session_longer_than_the_limit(databases=["default"]) == []
    _long_session(make_event(event_index), start=timezone.now(), days=8)
    # Django passes databases only to checks that may read them (migrate,
    # ``check --database``): plain ``check`` does not query.
    assert no_session_longer_than_the_limit(databases=None) == []


def test_names_the_first_ones_and_counts_the_rest(event_index):
    event = make_event(event_index, title="Retreat")
    start = timezone.now() + dt.timedelta(days=1)
    for n in range(NAMED + 3):
        _long_session(event, start=start + dt.timedelta(hours=n), days=9)
    [warning] = no_session_longer_than_the_limit(databases=["default"])
    assert warning.msg.count("of event") == NAMED
    assert "and 3 more" in warning.msg


def test_check_with_the_database_reports_it(event_index, capsys):
    _long_session(make_event(event_index), start=timezone.now(), days=8)
    with pytest.raises(SystemCheckError):
        call_command("check", databases=["default"], fail_level="WARNING")
    call_command("check", fail_level="WARNING")  # without: not looked at
