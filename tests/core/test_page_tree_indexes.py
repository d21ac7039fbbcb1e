"""The page tree's lookups read an index on (depth, path) (events migration
0026): the site menu on every public and facilitator page asks for the home
page's children, and every admin page for the root, and with only the path
index both read every page below the home page, every event among them."""

import pytest
from django.db import connection
from wagtail.models import Page

from tests.conftest import make_event, make_event_index
from tests.query_plans import LARGE_PROGRAMME_STATISTICS, plan, planned_as

pytestmark = pytest.mark.django_db


def test_the_tree_is_indexed_by_depth_then_path():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, "wagtailcore_page"
        )
    assert any(
        info["index"] and info["columns"] == ["depth", "path"]
        for info in constraints.values()
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plans")
def test_the_menu_and_the_root_are_read_through_that_index(home_page):
    index = make_event_index(home_page)
    for number in range(5):
        make_event(index, title=f"Group {number}")
    menu = home_page.get_children().live().in_menu()
    root = Page.objects.filter(depth=1).order_by("path")
    for queryset in (menu, root):
        assert "page_depth_path" in plan(queryset), queryset.query


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plans")
def test_with_a_large_programmes_statistics_the_listing_walks_sessions_in_order(
    home_page,
):
    """The listing's "below this index page" leaves the tree's (depth, path)
    index alone: offered ``depth > 3`` with a large programme's statistics,
    SQLite read every event below the index, then sorted all their upcoming
    sessions (18 ms a page at 10x against 3.7 ms), instead of walking the
    sessions in start order and stopping after a page."""
    from events.listing import filtered_sessions
    from tests.conftest import make_session

    index = make_event_index(home_page)
    for number in range(3):
        make_session(make_event(index, title=f"Group {number}"))
    with planned_as(LARGE_PROGRAMME_STATISTICS):
        sessions = filtered_sessions(index_page=index, filters={})
        for queryset in (sessions[:20], sessions.values("pk")[:501]):
            steps = plan(queryset)
            assert "session_start_end_status (start>?)" in steps, steps
            assert "page_depth_path" not in steps, steps


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plans")
def test_the_private_pages_are_looked_up_without_reading_every_page(home_page):
    """Every listing and feed first asks which pages are private. Joined
    from the (usually empty) restrictions, SQLite, which has no statistics
    for an empty table, scanned every page's path (0.7 ms at 10x, growing
    with the events); looked up by id it reads the restrictions alone."""
    from django.test.utils import CaptureQueriesContext

    from events.models import EventSession

    index = make_event_index(home_page)
    make_event(index)
    with planned_as(LARGE_PROGRAMME_STATISTICS):
        with CaptureQueriesContext(connection) as captured:
            EventSession.objects.published()
        (query,) = captured.captured_queries
        steps = plan(query["sql"])
    assert "wagtailcore_pageviewrestriction" in query["sql"]
    assert "SCAN wagtailcore_page" not in steps, steps
