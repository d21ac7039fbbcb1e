from django.db import migrations

from core.statistics import SQLITE_ANALYSIS_LIMIT

INDEX = "page_title_order"
#: Pages by depth, then path: a page's children, the root, the menu.
DEPTH_INDEX = "page_depth_path"


def analyse_pages(apps, schema_editor):
    """Give the new index planner statistics at once, as 0025 does."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE wagtailcore_page")


class Migration(migrations.Migration):
    """An index on page titles, for the event chooser (``events.choosers``):
    it lists events by title, a page at a time, and searches their titles.
    Read in title order, the index gives the first page of a search after
    reading as many titles as it takes to fill it, instead of every event's
    row and a sort of all that match. Wagtail declares no index on the
    title, and the page model is Wagtail's, so the index is plain SQL.

    And one on (depth, path), for the tree's own lookups: a page's children
    (``depth = d AND path BETWEEN ...``, the site menu on every public and
    facilitator page) and the root (``depth = 1``, on every admin page) read
    only the rows they return, where the path index alone read every page
    below the home page, every event among them."""

    dependencies = [
        ("events", "0025_reports_covering_indexes"),
        # After Wagtail's page migrations: on SQLite, altering a table
        # rebuilds it with only the indexes Django knows of, so a later one
        # drops this index (test_the_titles_are_indexed_for_the_chooser).
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX {INDEX} ON wagtailcore_page (title)",
            f"DROP INDEX {INDEX}",
        ),
        migrations.RunSQL(
            f"CREATE INDEX {DEPTH_INDEX} ON wagtailcore_page (depth, path)",
            f"DROP INDEX {DEPTH_INDEX}",
        ),
        migrations.RunPython(analyse_pages, migrations.RunPython.noop),
    ]
