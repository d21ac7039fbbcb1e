"""Prepare the sign-up benchmark's PostgreSQL database (run in a subprocess).

``python -m tests.bench.signup_setup OUTPUT.json``, with
``DJANGO_SETTINGS_MODULE=tests.bench.settings``. The harness itself runs on
its own SQLite database, so this set-up gets a process of its own. It:

1. migrates the bench database;
2. deletes the events an earlier run made (with their registrations) and
   the tasks they queued, so the database does not grow run after run;
3. creates fresh live events with sign-up required, a large capacity and one
   session a month ahead: for the sign-up, one for the latency phase and
   ``BENCH_SIGNUP_EVENTS`` (8) for throughput, so that the event's row lock
   is not what limits the rate; the same again for the write floor, so each
   phase starts from empty events and rows are counted per phase;
4. counts the queries of one sign-up POST and one POST to each floor through
   the Django test client (CSRF checks on), untimed, as the other benchmarks
   do;
5. writes what the harness needs (paths, ids, table names, queries) as JSON.
"""

import dataclasses
import datetime as dt
import json
import re
import secrets
import sys
import time

from .environment import env_int


def main(output):
    """Set everything up and write the JSON description to ``output``."""
    import django

    django.setup()

    from django.core.management import call_command
    from django.urls import reverse
    from django_tasks_db.models import DBTaskResult

    from events.models import EventPage, Registration
    from events.tasks import send_messages

    began = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter() - began
    index = bench_index()
    for old in EventPage.objects.child_of(index):
        old.delete()
    DBTaskResult.objects.all().delete()
    run_id = secrets.token_hex(4)
    spread = max(1, env_int("BENCH_SIGNUP_EVENTS", DEFAULT_EVENTS))
    events = {
        "latency": [make_event(index, "latency", run_id)],
        "throughput": [
            make_event(index, f"throughput-{n}", run_id) for n in range(spread)
        ],
        "write_latency": [make_event(index, "write-latency", run_id)],
        "write_throughput": [
            make_event(index, f"write-throughput-{n}", run_id) for n in range(spread)
        ],
    }
    floor_path = reverse("bench-floor-sign-up")
    queries = count_sign_up_queries(
        events["latency"][0].sign_up_url,
        floor_path,
        write_floor_path(events["write_latency"][0]),
    )
    data = {
        "run_id": run_id,
        "migrated_seconds": migrated,
        "floor_path": floor_path,
        "events": {
            phase: [
                {
                    "id": event.pk,
                    "sign_up_path": event.sign_up_url,
                    "write_floor_path": write_floor_path(event),
                }
                for event in phase_events
            ]
            for phase, phase_events in events.items()
        },
        "registration_table": Registration._meta.db_table,
        "task_table": DBTaskResult._meta.db_table,
        "task_path_column": DBTaskResult._meta.get_field("task_path").column,
        "email_task_path": send_messages.module_path,
        "queries": {
            name: [dataclasses.asdict(query) for query in counted]
            for name, counted in queries.items()
        },
    }
    with open(output, "w", encoding="utf-8") as file:
        json.dump(data, file)


#: Events the throughput phases spread their sign-ups over (each phase its own).
DEFAULT_EVENTS = 8
INDEX_SLUG = "bench-sign-up"
#: Large enough never to fill, so every sign-up is confirmed (no waitlist),
#: while still making ``register`` count places as it does for real events.
CAPACITY = 1_000_000


def bench_index():
    """The events listing the bench events live under, created if missing."""
    from events.models import EventIndexPage
    from website.models import HomePage

    home = HomePage.objects.first()
    if home is None:
        raise RuntimeError("No HomePage after migrating the bench database.")
    index = EventIndexPage.objects.child_of(home).filter(slug=INDEX_SLUG).first()
    if index is None:
        index = home.add_child(
            instance=EventIndexPage(
                title="Sign-up bench", slug=INDEX_SLUG, locale_id=home.locale_id
            )
        )
    return index


def make_event(index, phase, run_id):
    """A live event, sign-up required, with one session a month from now."""
    from django.utils import timezone

    from events.models import EventPage, RegistrationMode
    from events.sessions import add_session

    event = index.add_child(
        instance=EventPage(
            title=f"Sign-up bench {phase} {run_id}",
            slug=f"sign-up-{phase}-{run_id}",
            summary="A peer support group for the sign-up benchmark.",
            registration_mode=RegistrationMode.REQUIRED,
            capacity=CAPACITY,
            waitlist_enabled=True,
            locale_id=index.locale_id,
            live=True,
        )
    )
    start = timezone.now() + dt.timedelta(days=30)
    add_session(event=event, start=start, end=start + dt.timedelta(minutes=90))
    return event


def write_floor_path(event):
    """Where the write floor of ``event`` is POSTed."""
    from django.urls import reverse

    return reverse("bench-floor-sign-up-write", args=[event.pk])


def count_sign_up_queries(sign_up_path, floor_path, write_path):
    """The queries of one POST to the sign-up, the floor and the write floor,
    via the test client: {"page": ..., "floor": ..., "write_floor": ...}."""
    from django.test import Client

    from .runner import count_queries

    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
    response = client.get(sign_up_path)
    match = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()
    )
    if response.status_code != 200 or match is None:
        raise RuntimeError(f"GET {sign_up_path} gave {response.status_code}")
    token = match.group(1)

    def post(path, email):
        def send(_ctx):
            data = {
                "csrfmiddlewaretoken": token,
                "name": "Bench Visitor",
                "email": email,
                "support_needs": "A quiet seat near the door, please.",
                "consent_email": "on",
            }
            answer = client.post(path, data)
            if answer.status_code != 302:
                raise RuntimeError(f"POST {path} gave {answer.status_code}")

        return send

    posts = {
        "page": (sign_up_path, "query-count@bench.example.org"),
        "floor": (floor_path, "floor@bench.example.org"),
        "write_floor": (write_path, "write@bench.example.org"),
    }
    return {name: count_queries(post(*args), None) for name, args in posts.items()}


if __name__ == "__main__":
    main(sys.argv[1])
