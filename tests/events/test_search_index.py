"""PostgreSQL reads a search through the index on the joined title and body
vectors (events migration 0027), not every search entry."""

import pytest
from django.db import connection

from events.listing import matching_events
from tests.conftest import make_event

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's search backend"
    ),
]


def _plan(sql, params=()):
    with connection.cursor() as cursor:
        # Planned as for a table too big to read whole.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return " ".join(row[0] for row in cursor.fetchall())


def test_a_search_matches_the_vector_the_index_is_built_on(event_index, search_index):
    for number in range(3):
        make_event(event_index, title=f"Recovery circle {number}")
    matches = matching_events("recovery circle", event_index)
    assert len(matches) == 3
    sql, params = matches.order_by().values("pk").query.sql_with_params()
    assert "(title || body) @@ to_tsquery" in _plan(sql, params)
    # That condition, on its own, is read through the index.
    plan = _plan(
        "SELECT id FROM wagtailsearch_indexentry "
        "WHERE (title || body) @@ to_tsquery('recovery')"
    )
    assert "search_entry_title_body" in plan, plan
