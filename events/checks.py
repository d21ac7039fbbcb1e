"""System checks on the events data already in the database.

Tagged ``database``: Django runs them before ``migrate`` does anything and
on ``manage.py check --database default``, not on every start.
"""

from django.core import checks
from django.db import DatabaseError, connections
from django.db.models import F
from django.utils import timezone

#: Sessions named one by one in the warning; the rest are counted.
NAMED = 20


@checks.register(checks.Tags.database)
def no_session_longer_than_the_limit(app_configs=None, databases=None, **kwargs):
    """Warn about sessions still to end that last longer than
    ``MAX_SESSION_LENGTH`` (7 days).

    Sessions are refused that long now (``session_too_long``), and
    "upcoming" (``EventSessionQuerySet.upcoming``: the listing, the home
    page, workshop pages, flyers) relies on it and looks only at sessions
    that started at most 7 days ago. One made by an
    earlier version and running longer would leave them while it still
    runs. The warning names them by session and event id and the event's
    title (no one's personal data) and says what to do; sessions already
    over are left alone, since nothing lists them as upcoming any more.
    """
    from .models import MAX_SESSION_LENGTH, EventSession

    found = []
    for alias in databases or ():
        if (
            EventSession._meta.db_table
            not in connections[alias].introspection.table_names()
        ):
            continue  # before the first migrate
        long_ones = (
            EventSession.objects.using(alias)
            .filter(end__gt=F("start") + MAX_SESSION_LENGTH, end__gte=timezone.now())
            .order_by("start", "pk")
        )
        try:
            total = long_ones.count()
            named = list(
                long_ones.values_list("pk", "event_id", "event__title")[:NAMED]
            )
        except DatabaseError:  # a table not migrated yet to what the model says
            continue
        if not total:
            continue
        lines = [
            f"session {pk} of event {event_id} ({title!r})"
            for pk, event_id, title in named
        ]
        if total > len(named):
            lines.append(f"and {total - len(named)} more")
        found.append(
            checks.Warning(
                f"{total} session(s) still to end last longer than "
                f"{MAX_SESSION_LENGTH.days} days, the most a session may "
                "last now: 7 days after it starts, while it still runs, each "
                "stops counting as upcoming (the events listing, the home "
                "page, workshop pages, flyers): " + "; ".join(lines) + ".",
                hint=(
                    "In the admin, open each event's sessions and move each "
                    "long session to end within 7 days of its start, adding "
                    "a session for each further day or week, or cancel it if "
                    "it is not really going on. `manage.py check --database "
                    "default` lists those left."
                ),
                id="events.W001",
            )
        )
    return found
