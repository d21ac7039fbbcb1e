"""SQLite query plans, read as a large programme's database would be planned.

SQLite chooses its plan by ``sqlite_stat1``. A test database holds a few
rows, and whatever statistics the last ``ANALYZE`` left (the migrations run
one on empty tables), so its plans say little about a real site's.
``planned_as(LARGE_PROGRAMME_STATISTICS)`` plants the statistics of the 10x
bench database (10,000 events, 50,000 sessions) for the tables a listing
joins, and takes them back afterwards.
"""

import contextlib

from django.db import connection, transaction

#: ``sqlite_stat1`` rows (table, index, stat) of the 10x bench database.
LARGE_PROGRAMME_STATISTICS = [
    ("wagtailcore_page", "page_depth_path", "10224 251 1"),
    ("wagtailcore_page", "sqlite_autoindex_wagtailcore_page_1", "10296 1"),
    ("events_eventpage", "events_eventpage_venue_id_88fa4cf3", "10824 1001"),
    ("events_eventpage", "events_eventpage_workshop_id_d2dd7c63", "9660 501"),
    ("events_eventsession", "session_start_end_status", "52948 112 112 59 1 1"),
    ("events_eventsession", "session_end_start", "43776 112 112"),
    ("events_eventsession", "session_event_end_start", "50250 5 1 1"),
    ("events_eventsession", "events_eventsession_event_id_0fdc500c", "58916 5"),
]


def plan(queryset_or_sql, params=()):
    """SQLite's plan for a queryset or an SQL statement (as captured from
    a request), its steps joined in one string."""
    if isinstance(queryset_or_sql, str):
        sql = queryset_or_sql
    else:
        sql, params = queryset_or_sql.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " ".join(str(row[-1]) for row in cursor.fetchall())


class _Undo(Exception):
    """Rolls the planted statistics back."""


@contextlib.contextmanager
def planned_as(statistics):
    """Within the block, SQLite plans by ``statistics`` (over an ``ANALYZE``
    of the test data for the other tables); afterwards by what it had."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
                for table, index_name, stat in statistics:
                    cursor.execute(
                        "DELETE FROM sqlite_stat1 WHERE tbl = %s AND idx = %s",
                        [table, index_name],
                    )
                    cursor.execute(
                        "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (%s, %s, %s)",
                        [table, index_name, stat],
                    )
                # Loads the statistics into the planner.
                cursor.execute("ANALYZE sqlite_schema")
            yield
            raise _Undo
    except _Undo:
        pass
    finally:
        # The planner keeps what it loaded until told to read them again.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sqlite_schema")
