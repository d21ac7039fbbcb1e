"""Benchmark of a message to a group: 1,000 people, half by email, half by text.

* **ours**: ``events.tasks.send_messages.call(ids, "group",
  group_message_id=...)``, the task a message to the group queues: it reads
  the people and their consents, routes each (``events.messaging.route``),
  writes the deliveries, builds each email and text from the templates,
  sends them over one mail and one text connection and records the results.
* **floor**: the same 1,000 messages, built beforehand (untimed) with the
  same builders, handed straight to the same backends over one connection
  each: the least sending them can cost.

Both use the in-memory backends (Django's locmem mail backend and
``core.sms.backends.locmem``), so the provider's network is not measured,
and quiet hours are switched off so no text is held. Runs alternate (ABBA);
the deliveries of one run are deleted before the next, untimed.

Queries are counted for one task of 250, of 500 (``PER_TASK``, the most a
task is given) and of 1,000 people: only the batched inserts and updates
(Django's batch size for the database) may grow with the people.

Run standalone: ``.venv/bin/python -m tests.bench.group_message`` (it uses
the bench database, ``tests.bench.environment``). Environment variables:
``BENCH_GROUP_RUNS`` (7), ``BENCH_GROUP_PEOPLE`` (1000).
"""

import datetime as dt
import gc
import sys
import time

from .environment import env_int
from .registry import BENCHMARKS, Benchmark, register
from .runner import QueryRecorder, Result, Timing

INDEX_SLUG = "bench-group-messages"
TARGET_RATIO = 1.5
BODY = (
    "The room has changed to 204, on the second floor. The lift is by the "
    "main doors. See you there."
)


def log(message):
    """Progress output, on stderr so the table stays clean on stdout."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def build_group(people):
    """A fresh event with ``people`` registrations (bulk): the first half by
    email only, the second half by phone with consent to texts only; and the
    message to them. Returns (event, message, registration ids)."""
    from django.core.management import call_command
    from django.utils import timezone

    from events.models import (
        Channel,
        Consent,
        EventIndexPage,
        EventPage,
        GroupAudience,
        GroupMessage,
        Registration,
    )
    from events.sessions import add_session
    from website.models import HomePage

    call_command("migrate", interactive=False, verbosity=0)
    for old in EventIndexPage.objects.filter(slug=INDEX_SLUG):
        old.delete()
    index = EventIndexPage(title="Group message bench", slug=INDEX_SLUG)
    HomePage.objects.first().add_child(instance=index)
    event = EventPage(
        title="Bench group",
        slug="bench-group",
        summary="Bench.",
        registration_mode="required",
        capacity=people,
        live=True,
    )
    index.add_child(instance=event)
    start = timezone.now() + dt.timedelta(days=7)
    add_session(event=event, start=start, end=start + dt.timedelta(hours=2))
    half = people // 2
    registrations = Registration.objects.bulk_create(
        [
            Registration(
                event=event,
                name=f"Person {n}",
                email=f"group-{n}@example.org" if n < half else "",
                phone="" if n < half else f"+1416555{n:04d}",
                status="confirmed",
                token_salt=f"group-bench-{n}",
                manage_token_hash=f"group-bench-{n}",
            )
            for n in range(people)
        ]
    )
    now = timezone.now()
    Consent.objects.bulk_create(
        [
            Consent(
                registration=registration,
                channel=Channel.TEXT,
                given_at=now,
                wording_version="bench",
            )
            for registration in registrations[half:]
        ]
    )
    message = GroupMessage.objects.create(
        event=event,
        audience=GroupAudience.CONFIRMED,
        body=BODY,
        recipients=people,
    )
    return event, message, [registration.pk for registration in registrations]


def floor_messages(ids, message):
    """The emails and texts ``ours`` sends, built ahead with the same builders."""
    from core import sms
    from core.phones import stored_e164
    from events import messaging
    from events.emails import EmailContext, build_email
    from events.models import Registration

    shared = EmailContext()
    emails, texts = [], []
    for person in Registration.objects.filter(pk__in=ids).select_related("event"):
        if person.email:
            emails.append(
                build_email(person, "group", group_message=message, shared=shared)
            )
        else:
            body = messaging.build_text(
                person,
                "group",
                group_message=message,
                organisation=shared.organisation,
            )
            texts.append(sms.TextMessage(to=stored_e164(person.phone), body=body))
    return emails, texts


def clear(message):
    """Forget what the last run sent: deliveries and both outboxes."""
    from django.core import mail

    from core import sms
    from events.models import Delivery

    Delivery.objects.filter(group_message=message).delete()
    mail.outbox = []
    sms.outbox.clear()


def count_task_queries(ids, message):
    """The queries one ``send_messages`` task makes for ``ids``, after one
    untimed run (so the site's cached root paths are warm in every count)."""
    from django.db import connection

    from events.tasks import send_messages

    clear(message)
    send_messages.call(ids, "group", group_message_id=message.pk)
    clear(message)
    recorder = QueryRecorder()
    with connection.execute_wrapper(recorder):
        send_messages.call(ids, "group", group_message_id=message.pk)
    return recorder.queries


def is_batched_write(query):
    """Inserts and updates (Django splits them in batches for the database)."""
    return query.sql.startswith(("INSERT", "UPDATE"))


def group_message(ctx=None):
    """Time ours against the floor; count queries per task size."""
    from django.core import mail
    from django.core.mail import get_connection
    from django.test.utils import override_settings

    from core import sms
    from events.models import Delivery, DeliveryStatus
    from events.tasks import send_messages

    runs = env_int("BENCH_GROUP_RUNS", 7)
    people = env_int("BENCH_GROUP_PEOPLE", 1000)
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        SMS_BACKEND="core.sms.backends.locmem.TextBackend",
        GATHER_QUIET_HOURS_START="00:00",
        GATHER_QUIET_HOURS_END="00:00",
    ):
        log(f"  building {people:,} registrations...")
        _event, message, ids = build_group(people)
        emails, texts = floor_messages(ids, message)

        def ours():
            send_messages.call(ids, "group", group_message_id=message.pk)

        def floor():
            connection = get_connection()
            connection.send_messages(emails)
            with sms.get_connection() as texting:
                texting.send_messages(texts)

        # Sanity: ours sends what the floor sends, and records it sent.
        clear(message)
        ours()
        problems = []
        statuses = set(
            Delivery.objects.filter(group_message=message).values_list(
                "status", flat=True
            )
        )
        if statuses != {DeliveryStatus.SENT}:
            problems.append(f"delivery statuses {sorted(statuses)}")
        ours_mail = sorted((m.to[0], m.body) for m in mail.outbox)
        ours_texts = sorted((t.to, t.body) for t in sms.outbox)
        clear(message)
        floor()
        if ours_mail != sorted((m.to[0], m.body) for m in mail.outbox):
            problems.append("the emails differ from the floor's")
        if ours_texts != sorted((t.to, t.body) for t in sms.outbox):
            problems.append("the texts differ from the floor's")

        page, bare = Timing(), Timing()
        pairs = [(ours, page), (floor, bare)]
        for run in range(runs + 1):  # the first round warms up
            for func, timing in pairs if run % 2 == 0 else reversed(pairs):
                clear(message)
                gc.collect()
                began = time.perf_counter()
                func()
                elapsed = (time.perf_counter() - began) * 1000
                if run:
                    timing.samples.append(elapsed)
            log(f"  round {run}/{runs}")

        sizes = sorted({min(250, people), min(500, people), people})
        counted = {size: count_task_queries(ids[:size], message) for size in sizes}
        clear(message)
    page.queries = counted[people]
    fixed = {
        size: sum(not is_batched_write(q) for q in queries)
        for size, queries in counted.items()
    }
    ratio = page.median / bare.median
    per_size = ", ".join(
        f"{size:,} people {len(queries)} ({fixed[size]} besides batched "
        "inserts and updates)"
        for size, queries in counted.items()
    )
    return Result(
        GROUP_MESSAGE,
        page,
        bare,
        problems,
        None,
        notes=[
            f"message to {people:,} people ({people // 2:,} by email, "
            f"{people - people // 2:,} by text): send_messages task "
            f"{page.median:.0f} ms median, floor (the same messages prebuilt, "
            f"sent over one connection each) {bare.median:.0f} ms; "
            f"{ratio:.2f}x; {runs} runs each, alternating.",
            f"  queries per task: {per_size}.",
            "  The floor neither reads the people nor writes a delivery row per "
            "message (written before sending, so a crash mid-batch leaves "
            "rows to retry, not lost messages), nor builds the emails; ours "
            "renders each template once per batch and fills in the name "
            "and links.",
        ],
        extra_verdicts=[
            (
                "queries besides batched writes the same for every task size "
                f"({sorted(set(fixed.values()))})",
                len(set(fixed.values())) == 1,
            )
        ],
        sanity="both sent the same emails and texts; every delivery marked sent",
    )


def _register(benchmark):
    """Register ``benchmark`` once, however often this module is imported."""
    for existing in BENCHMARKS:
        if existing.name == benchmark.name:
            return existing
    return register(benchmark)


GROUP_MESSAGE = _register(
    Benchmark(
        name="group message to 1,000 people",
        execute=group_message,
        needs_data=False,
        max_ratio=TARGET_RATIO,
        query_limit=None,
        description="send_messages for a group vs prebuilt messages sent straight",
    )
)


def main():
    """Run the benchmark against the bench database; print the table."""
    from . import environment

    environment.configure()
    import django

    django.setup()
    from .runner import format_report, format_table

    log(f"Running {GROUP_MESSAGE.name}...")
    results = [GROUP_MESSAGE.execute(None)]
    lines = ["Gather group message benchmark", ""]
    lines += [*format_table(results), *format_report(results)]
    print("\n".join(lines))  # noqa: T201
    return 2 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
