"""The database's own statistics about its tables, kept current.

Query planners choose a join order from what they know of each table's
size. SQLite knows nothing until ``ANALYZE`` has run, and then guesses: with
no statistics, a text search of the listing looped over every search index
entry of the event pages (a second, at 10,000 events) instead of starting from
the few the full-text index matched (a few milliseconds). PostgreSQL's
autovacuum analyses tables as they change; an explicit ``ANALYZE`` after a
bulk load gives it the figures at once rather than some minutes later.
"""

from django.db import connections

#: Rows SQLite reads per index to estimate its statistics (an approximate
#: ANALYZE): bounded time whatever the database's size, and enough for the
#: planner to tell a table of thousands from a handful.
SQLITE_ANALYSIS_LIMIT = 1000


def update_query_statistics(using: str = "default") -> str:
    """Run the database's ANALYZE; return the statement run, for a log line."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        statements = [f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}", "ANALYZE"]
    else:
        statements = ["ANALYZE"]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return "; ".join(statements)
