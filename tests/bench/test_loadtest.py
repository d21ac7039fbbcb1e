"""``make loadtest``'s figures and data checks (``tests.bench.loadtest``).

The load test itself needs gunicorn, PostgreSQL and Redis; these tests keep
what it concludes honest: the percentiles and error counts it reports, the
level it calls sustained, and the checks of the rows it leaves behind, run
here on rows written by the same workflows the sign-up form uses.
"""

import os
from collections import Counter

import pytest
from django_tasks_db.models import DBTaskResult

from events.models import Registration, RegistrationStatus
from events.tasks import send_messages
from tests.bench import load
from tests.bench.loadtest import (
    Client,
    capacity_breaches,
    ceiling,
    missing_messages,
    split,
    summarise,
    sustained,
    waitlist_gaps,
)
from tests.bench.loadtest_setup import INDEX_SLUG, find_problems
from tests.conftest import make_event_index, make_registration_event, sign_up

DB_TASKS = "django_tasks_db.DatabaseBackend"


def test_capacity_breaches_flag_only_places_over_capacity():
    taken = {
        "event 1": (10, 10),
        "event 2": (10, 11),
        "event 3 session 7": (2, 3),
        "event 4": (None, 500),
    }

    assert capacity_breaches(taken) == [
        "event 2: 11 confirmed for 10 places",
        "event 3 session 7: 3 confirmed for 2 places",
    ]


def test_waitlist_gaps_flag_gaps_repeats_and_a_zero():
    positions = {
        "event 1": [3, 1, 2],
        "event 2": [1, 3],
        "event 3": [1, 1, 2],
        "event 4": [0, 1],
        "event 5": [],
    }

    problems = waitlist_gaps(positions)

    assert [problem.split(":")[0] for problem in problems] == [
        "event 2",
        "event 3",
        "event 4",
    ]


def test_missing_messages_names_people_without_a_task():
    assert missing_messages([1, 2, 3], {1, 2, 3, 9}) == []
    assert missing_messages([1, 2, 3], {2}) == [
        "2 confirmed people have no message task: 1, 3"
    ]


def records(**by_endpoint):
    return {
        name.replace("_", " "): {"statuses": Counter(statuses), "latencies": latencies}
        for name, (statuses, latencies) in by_endpoint.items()
    }


def test_summarise_counts_unexpected_answers_as_errors():
    summary = summarise(
        {
            **records(listing=({"200": 3, "500": 1}, [10, 20, 30, 40])),
            "feed": {"statuses": Counter({"200": 1, "304": 3}), "latencies": [5] * 4},
            "sign-up POST": {
                "statuses": Counter({"302": 2, "409": 1, "error: TimeoutError": 1}),
                "latencies": [100, 120, 140],
            },
        },
        seconds=2.0,
        target_ms=300,
    )

    assert summary["requests"] == 12
    assert summary["rate"] == 6.0
    assert summary["errors"] == 3
    assert summary["endpoints"]["feed"]["errors"] == 0
    assert summary["endpoints"]["sign-up POST"]["error_statuses"] == {
        "409": 1,
        "error: TimeoutError": 1,
    }


def test_summarise_holds_every_endpoint_to_the_target():
    slow = [100] * 90 + [400] * 10
    summary = summarise(
        records(listing=({"200": 100}, slow), search=({"200": 2}, [10, 20])),
        seconds=1.0,
        target_ms=300,
    )

    assert summary["endpoints"]["listing"]["p50"] == 100
    assert summary["endpoints"]["listing"]["p95"] == 400
    assert not summary["endpoints"]["listing"]["within_target"]
    assert summary["endpoints"]["search"]["within_target"]
    assert not summary["within_target"]
    assert summary["p50"] == 100


def test_a_slow_feed_is_reported_but_not_held_to_the_target():
    summary = summarise(
        records(listing=({"200": 2}, [10, 20]), feed=({"304": 2}, [900, 1200])),
        seconds=1.0,
        target_ms=300,
    )

    assert summary["endpoints"]["feed"]["p95"] == 1200
    assert not summary["endpoints"]["feed"]["held_to_target"]
    assert summary["within_target"]


def level(clients, *, errors=0, within_target=True):
    return {
        "clients": clients,
        "summary": {"errors": errors, "within_target": within_target},
    }


def test_sustained_is_the_highest_clean_level():
    levels = [
        level(2),
        level(4),
        level(8, within_target=False),
        level(16, errors=1),
    ]

    assert sustained(levels)["clients"] == 4
    assert sustained([level(2, errors=3)]) is None


def test_split_keeps_every_item_once():
    assert split(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert split([], 2) == [[], []]


class FakeVisitor(load.Visitor):
    """Answers feed requests: 200 with an ETag, then 304 when it is sent."""

    def __init__(self):
        super().__init__(1, prefix="fake")
        self.sent_headers = []

    def request(self, method, path, body=None, headers=None):
        self.sent_headers.append(headers or {})
        if (headers or {}).get("If-None-Match") == '"v1"':
            self.headers = {}
            return 304, b""
        self.headers = {"ETag": '"v1"'}
        return 200, b"BEGIN:VCALENDAR"


def test_feed_polling_sends_back_the_etag_it_got():
    plan = {"session_cookie": "sessionid", "feed_paths": ["/calendar/events.ics"]}
    client = Client(1, plan, name="c", seed=1, take_token=lambda: None, cookie="x")
    client.public = FakeVisitor()

    client.do_feed()
    client.do_feed()

    assert client.public.sent_headers == [{}, {"If-None-Match": '"v1"'}]
    assert client.records["feed"]["statuses"] == Counter({"200": 1, "304": 1})


@pytest.fixture
def load_index(home_page):
    return make_event_index(home_page, slug=INDEX_SLUG)


@pytest.mark.django_db
def test_find_problems_passes_rows_the_workflows_wrote(
    load_index, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": DB_TASKS}}
    event = make_registration_event(load_index, capacity=2)
    with django_capture_on_commit_callbacks(execute=True):
        people = [sign_up(event) for _ in range(5)]

    problems, counts = find_problems(load_index, DB_TASKS)

    assert problems == []
    assert counts["confirmed"] == 2
    assert counts["waitlisted"] == 3
    assert counts["registrations with a message task"] == 5
    assert {person.status for person in people} == {"confirmed", "waitlisted"}


@pytest.mark.django_db
def test_find_problems_catches_a_breach_a_gap_and_a_missing_message(
    load_index, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": DB_TASKS}}
    event = make_registration_event(load_index, capacity=2)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            sign_up(event)
    # Confirmed past capacity, with no message queued: the first in line
    # jumps to a place, which leaves the waitlist starting at 2.
    first = Registration.objects.get(event=event, waitlist_position=1)
    Registration.objects.filter(pk=first.pk).update(
        status=RegistrationStatus.CONFIRMED, waitlist_position=None
    )
    for task in DBTaskResult.objects.filter(task_path=send_messages.module_path):
        if first.pk in task.args_kwargs["args"][0]:
            task.delete()

    problems, _ = find_problems(load_index, DB_TASKS)

    assert problems == [
        f"event {event.pk}: 3 confirmed for 2 places",
        f"event {event.pk}: waitlist positions [2, 3] are not 1..n",
        f"1 confirmed people have no message task: {first.pk}",
    ]


def test_ceiling_divides_the_cores_by_the_cpu_per_request():
    from tests.bench.cpu import CpuUse

    cpu = CpuUse(seconds=10, gunicorn=4.0, postgres=0.8, clients=0.2, other=9, kernel=1)

    figures = ceiling(cpu, 100)

    assert figures["cpu_ms"] == pytest.approx(50)
    assert figures["rate"] == pytest.approx((os.cpu_count() or 1) / 0.05)
    assert ceiling(None, 100) is None
    assert ceiling(cpu, 0) is None
