"""Benchmarks for the staff screens that read growing data.

Each runs once per data scale as a superuser (made once, outside timing,
the client of ``reports``): the admin registrations list, one event's
registrations and capacity screen, one event's attendance report, the
facilitator's page for one of its sessions, that session's sign-in sheet
PDF, and the admin event chooser searched for words many events share.
The event is the events pages' (``pages.bench_event``); the session is its
latest past one (the bench data has past sessions only with
``BENCH_PAST_SHARE``), or its first. There is no floor: the targets are a
fixed number of queries and the growth of the median from 1x to 10x.
"""

from django.urls import reverse

from events.models import EventSession

from .pages import SEARCH_WORDS, bench_event
from .registry import Benchmark, register
from .reports import _client


def bench_session(ctx):
    """The bench event's latest session that has started, or its first."""
    if "admin_session" not in ctx.cache:
        from django.utils import timezone

        sessions = EventSession.objects.filter(event=bench_event(ctx))
        started = sessions.filter(start__lte=timezone.now()).order_by("-start")
        ctx.cache["admin_session"] = (
            started.first() or sessions.order_by("start").first()
        )
    return ctx.cache["admin_session"]


def _get(ctx, path, **data):
    """GET ``path`` as the superuser; fail unless it answers 200."""
    response = _client(ctx).get(path, data)
    if response.status_code != 200:
        raise AssertionError(f"GET {path} answered {response.status_code}")
    if response.streaming:
        return b"".join(response.streaming_content).decode("latin-1")
    content = response.content
    if response["Content-Type"].startswith("application/pdf"):
        return content.decode("latin-1")
    return content.decode()


def registrations_list(ctx):
    """The admin registrations list, first page, unfiltered."""
    return _get(ctx, reverse("event_registrations:index"))


def event_registrations(ctx):
    """One event's registrations list, as its capacity screen links to it."""
    return _get(ctx, reverse("event_registrations:index"), event=bench_event(ctx).pk)


def capacity_screen(ctx):
    """One event's capacity screen."""
    return _get(
        ctx, reverse("event_registrations:capacity", args=[bench_event(ctx).pk])
    )


def event_report(ctx):
    """The attendance reports for one event."""
    return _get(ctx, reverse("attendance_reports"), event=bench_event(ctx).pk)


def facilitate_session(ctx):
    """The facilitator's page for one session."""
    return _get(ctx, reverse("facilitate_session", args=[bench_session(ctx).pk]))


def sign_in_sheet(ctx):
    """One session's sign-in sheet PDF."""
    return _get(
        ctx, reverse("facilitate_pdf", args=[bench_session(ctx).pk, "sign-in-sheet"])
    )


def chooser_search(ctx):
    """The admin event chooser's results for words many events share."""
    return _get(ctx, reverse("event_chooser:choose_results"), q=SEARCH_WORDS)


for name, run, description in [
    ("admin registrations list", registrations_list, "Registrations, first page"),
    (
        "admin registrations, one event",
        event_registrations,
        "Registrations filtered to the bench event",
    ),
    ("admin capacity, one event", capacity_screen, "The bench event's capacity form"),
    (
        "attendance report, one event",
        event_report,
        "Admin attendance reports filtered to the bench event",
    ),
    ("facilitator session page", facilitate_session, "/facilitate/sessions/<id>/"),
    ("sign-in sheet PDF", sign_in_sheet, "One session's sign-in sheet"),
    (
        "admin event chooser search",
        chooser_search,
        f"Event chooser results for {SEARCH_WORDS!r}",
    ),
]:
    register(
        Benchmark(
            name=name,
            run=run,
            max_ratio=None,
            query_limit=30,
            description=description,
        )
    )
