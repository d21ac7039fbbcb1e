"""Benchmark for the admin attendance reports: one year of every event.

A superuser (made once, outside timing) asks for the reports screen for the
year up to today, by month, as a coordinator would. The whole-range reports
count every session of the year; the per-event reports show the first page
of events. There is no floor: the target is the median itself and a fixed
number of queries. The reports have something to count only with past
sessions: run it with ``BENCH_PAST_SHARE=0.7`` (``make bench`` builds none by
default).
"""

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from .registry import Benchmark, register

USERNAME = "bench-reports"


def _client(ctx):
    """A client logged in as a superuser, apart from the shared client so
    the public pages stay anonymous."""
    if "reports_client" not in ctx.cache:
        from django.contrib.auth import get_user_model

        user, _ = get_user_model().objects.get_or_create(
            username=USERNAME,
            defaults={"is_superuser": True, "is_staff": True, "email": "r@example.org"},
        )
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        ctx.cache["reports_client"] = client
    return ctx.cache["reports_client"]


def year_report(ctx):
    """The reports screen for the last year."""
    today = timezone.localdate()
    query = {
        "date_from": (today - dt.timedelta(days=365)).isoformat(),
        "date_to": today.isoformat(),
    }
    response = _client(ctx).get(reverse("attendance_reports"), query)
    if response.status_code != 200:
        raise AssertionError(f"The reports answered {response.status_code}")
    return response.content.decode()


register(
    Benchmark(
        name="attendance report, one year",
        run=year_report,
        max_ratio=None,
        query_limit=30,
        max_median_ms=2000,
        description="Admin attendance reports, last 365 days, first page of events",
    )
)
