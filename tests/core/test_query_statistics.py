"""``manage.py update_query_statistics``: the planner learns the tables' sizes."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from events.listing import filtered_sessions
from tests.conftest import make_event, make_session

pytestmark = pytest.mark.django_db


def _analysed_tables():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name='sqlite_stat1'")
            if not cursor.fetchall():
                return set()
            cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        else:
            cursor.execute(
                "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = 'public'"
            )
        return {row[0] for row in cursor.fetchall()}


def test_the_command_analyses_the_search_index_and_the_sessions(
    event_index, search_index
):
    for number in range(3):
        make_session(make_event(event_index, title=f"Walk {number}"))
    out = io.StringIO()
    call_command("update_query_statistics", stdout=out)
    assert "ANALYZE" in out.getvalue()
    tables = _analysed_tables()
    assert {"events_eventsession", "wagtailsearch_indexentry"} <= tables


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's planner: PostgreSQL has its own"
)
def test_with_statistics_sqlite_starts_a_search_from_the_full_text_index(
    event_index, search_index
):
    """Without statistics SQLite loops over every index entry of the event
    pages and asks the full-text index about each; with them it asks the
    full-text index once."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.search.models import IndexEntry

    from events.models import EventPage

    for number in range(3):
        make_session(make_event(event_index, title=f"Recovery circle {number}"))
    # As many entries as a large program's events have; the planner's
    # choice turns on their number, not on what they say.
    event_type = ContentType.objects.get_for_model(EventPage)
    IndexEntry.objects.bulk_create(
        IndexEntry(content_type=event_type, object_id=str(10**6 + n), title="")
        for n in range(2000)
    )
    call_command("update_query_statistics", stdout=io.StringIO())
    sql, params = filtered_sessions(
        index_page=event_index, filters={"q": "circle"}
    ).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = [row[-1] for row in cursor.fetchall()]
    fts = next(i for i, step in enumerate(plan) if "VIRTUAL TABLE" in step)
    entries = next(i for i, step in enumerate(plan) if " U1 " in step)
    assert fts < entries, plan
