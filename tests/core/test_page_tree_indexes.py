"""The page tree's lookups read an index on (depth, path) (events migration
0026): the site menu on every public and facilitator page asks for the home
page's children, and every admin page for the root, and with only the path
index both read every page below the home page, every event among them."""

import pytest
from django.db import connection
from wagtail.models import Page

from tests.conftest import make_event, make_event_index

pytestmark = pytest.mark.django_db


def _plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " ".join(str(row[-1]) for row in cursor.fetchall())


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
        assert "page_depth_path" in _plan(queryset), queryset.query
