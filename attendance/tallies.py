"""Stored attendance counts the reports sum instead of reading every record.

Two tables (``attendance.models``), both derived from the attendance
records and nothing else a person types:

* ``SessionTally``: per session with at least one record, how many
  registrants attended (present, late, left early), how many walk-ins
  attended, how many registrants were absent or excused, and how many
  records there are. The reports' attendances, absences and "attendance
  recorded" are sums of these per setting and week or month.
* ``ParticipantSpan``: per registrant, event and session venue (the
  session's own; none when it met at the event's), the start of the first
  and of the last session they attended that was not cancelled. The
  reports' unique participants (overall and by setting) are counted from
  these: someone attended in a range if their first or last attendance
  falls in it; someone whose first is before the range and last after it
  is looked up in their own records (``reports._Source._span_counts``).

How they stay current: every save and delete of an ``AttendanceRecord``
(``save()``, ``create()``, ``get_or_create()``, deletes and the cascades of
deleting a registration, session or event) rewrites the rows of its session
and registrant, through the ``post_save`` and ``post_delete`` receivers
connected in ``AttendanceConfig.ready``. A session saved with a new start,
status, venue or event rewrites the spans of everyone with a record there.
Writes that send no signals (``bulk_create``, as ``records.mark_everyone_
present`` and ``generate_bench_data`` do) call :func:`changed` or
:func:`rebuild` themselves. Inside :func:`deferred` the rewrites wait until
the block ends and each session and registrant is rewritten once (a save of
a whole register is three statements, not three per person).

Each rewrite deletes the rows of the given sessions or registrants and
inserts them again from their records in one ``INSERT ... SELECT``. Rows are
only ever inserted for records that still exist, so the rewrites run safely
in the middle of a cascading delete (what is being deleted has no records
left by then).

``manage.py rebuild_attendance_tallies`` rebuilds both tables from the
records (and ``--check`` only says whether they differ); the data migration
that added them did the same.
"""

import threading
from contextlib import contextmanager

from django.db import connection, transaction

#: At most this many ids per statement (SQLite allows 32,766 parameters).
CHUNK = 5000

_state = threading.local()


def _models(apps=None):
    if apps is None:
        from django.apps import apps
    get = apps.get_model
    return (
        get("attendance", "AttendanceRecord"),
        get("attendance", "SessionTally"),
        get("attendance", "ParticipantSpan"),
        get("events", "EventSession"),
    )


def _tables(apps=None):
    return [model._meta.db_table for model in _models(apps)]


#: Attendance statuses that count as attending (``AttendanceStatus.attended``),
#: absent and excused, as stored.
ATTENDED = ("present", "late", "left_early")
ABSENT = "absent"
EXCUSED = "excused"
CANCELLED = "cancelled"


def _in(column: str, ids) -> tuple[str, list]:
    ids = list(ids)
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


def _tally_sql(where: str, apps=None) -> str:
    records, tallies, _spans, _sessions = (
        connection.ops.quote_name(t) for t in _tables(apps)
    )
    attended = ", ".join(["%s"] * len(ATTENDED))
    named = "r.registration_id IS NOT NULL"
    return (
        f"INSERT INTO {tallies} (session_id, registrants_attended, "
        "walk_ins_attended, absent, excused, records) "
        "SELECT r.session_id, "
        f"SUM(CASE WHEN {named} AND r.status IN ({attended}) THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN r.registration_id IS NULL "
        f"AND r.status IN ({attended}) THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {named} AND r.status = %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {named} AND r.status = %s THEN 1 ELSE 0 END), "
        "COUNT(*) "
        f"FROM {records} r WHERE {where} GROUP BY r.session_id"
    )


def _tally_params():
    return [*ATTENDED, *ATTENDED, ABSENT, EXCUSED]


def _span_sql(where: str, apps=None) -> str:
    records, _tallies, spans, sessions = (
        connection.ops.quote_name(t) for t in _tables(apps)
    )
    attended = ", ".join(["%s"] * len(ATTENDED))
    return (
        f"INSERT INTO {spans} (registration_id, event_id, venue_id, "
        "first_start, last_start) "
        "SELECT r.registration_id, s.event_id, s.venue_id, "
        "MIN(s.start), MAX(s.start) "
        f"FROM {records} r INNER JOIN {sessions} s ON s.id = r.session_id "
        f"WHERE r.registration_id IS NOT NULL AND r.status IN ({attended}) "
        f"AND s.status <> %s AND {where} "
        "GROUP BY r.registration_id, s.event_id, s.venue_id"
    )


def _span_params():
    return [*ATTENDED, CANCELLED]


def _lock(app_label: str, model_name: str, ids) -> None:
    """Lock the rows of ``ids`` until the transaction ends, in id order.

    A rewrite deletes rows and inserts them again from the records. Two of
    them at once for the same session or person (a facilitator saving the
    register while someone checks in) would otherwise both insert the row
    the other just made (a duplicate key), or each count without the
    other's record. With the lock, the second waits, then reads the first's
    committed records. Sessions are always locked before registrations.
    On SQLite, which has one writer at a time, there is nothing to lock."""
    from django.apps import apps

    if not connection.features.has_select_for_update or not ids:
        return
    model = apps.get_model(app_label, model_name)
    list(
        model.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _rewrite(ids, *, table: str, column: str, lock: str, sql, params) -> None:
    """Delete the rows of ``table`` whose ``column`` is one of ``ids`` and
    insert them again from their records (``sql``, ``params``), a chunk at
    a time, with the rows of ``lock`` (an ``events`` model) of those ids
    locked first."""
    ids = sorted({pk for pk in ids if pk is not None})
    table = connection.ops.quote_name(table)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            _lock("events", lock, chunk)
            where, values = _in(column, chunk)
            cursor.execute(f"DELETE FROM {table} WHERE {where}", values)
            where, values = _in(f"r.{column}", chunk)
            cursor.execute(sql(where), [*params(), *values])


def refresh_sessions(session_ids) -> None:
    """Rewrite the ``SessionTally`` rows of ``session_ids`` from their
    records (a session left without records loses its row)."""
    _rewrite(
        session_ids,
        table=_tables()[1],
        column="session_id",
        lock="EventSession",
        sql=_tally_sql,
        params=_tally_params,
    )


def refresh_participants(registration_ids) -> None:
    """Rewrite the ``ParticipantSpan`` rows of ``registration_ids`` from
    their records."""
    _rewrite(
        registration_ids,
        table=_tables()[2],
        column="registration_id",
        lock="Registration",
        sql=_span_sql,
        params=_span_params,
    )


def refresh_attendees_of(session_id) -> None:
    """Rewrite the spans of everyone with an attendance record at
    ``session_id`` (after the session moved, changed venue or was
    cancelled), in two statements."""
    records, _tallies, spans, _sessions = (
        connection.ops.quote_name(t) for t in _tables()
    )
    people = (
        f"(SELECT registration_id FROM {records} "
        "WHERE session_id = %s AND registration_id IS NOT NULL)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        _lock("events", "EventSession", [session_id])
        if connection.features.has_select_for_update:
            cursor.execute(people[1:-1], [session_id])
            _lock("events", "Registration", [row[0] for row in cursor.fetchall()])
        cursor.execute(
            f"DELETE FROM {spans} WHERE registration_id IN {people}", [session_id]
        )
        cursor.execute(
            _span_sql(f"r.registration_id IN {people}"),
            [*_span_params(), session_id],
        )


def rebuild(apps=None) -> None:
    """Rebuild both tables from every attendance record (the data migration,
    ``rebuild_attendance_tallies`` and ``generate_bench_data``)."""
    _records, tallies, spans, _sessions = (
        connection.ops.quote_name(t) for t in _tables(apps)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {tallies}")
        cursor.execute(_tally_sql("1 = 1", apps), _tally_params())
        cursor.execute(f"DELETE FROM {spans}")
        cursor.execute(_span_sql("1 = 1", apps), _span_params())


def differences() -> dict[str, int]:
    """How many stored rows differ from what the records say, per table
    (zero when they are current): rows missing plus rows extra, so a row
    with other counts counts twice. Nothing is changed."""
    _records, tallies, spans, _sessions = (
        connection.ops.quote_name(t) for t in _tables()
    )
    tally_columns = (
        "session_id, registrants_attended, walk_ins_attended, absent, excused, records"
    )
    span_columns = "registration_id, event_id, venue_id, first_start, last_start"
    found = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for name, table, columns, sql, params in (
            ("session tallies", tallies, tally_columns, _tally_sql, _tally_params),
            ("participant spans", spans, span_columns, _span_sql, _span_params),
        ):
            # The expected rows, made as a rebuild would, in a temporary copy.
            scratch = connection.ops.quote_name(f"check_{name.replace(' ', '_')}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {scratch} AS "
                f"SELECT {columns} FROM {table} WHERE 1 = 0"
            )
            insert = sql("1 = 1").replace(f"INSERT INTO {table}", "", 1)
            cursor.execute(f"INSERT INTO {scratch} {insert}", params())
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT {columns} FROM {table} "
                f"EXCEPT SELECT {columns} FROM {scratch}) a"
            )
            extra = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT {columns} FROM {scratch} "
                f"EXCEPT SELECT {columns} FROM {table}) a"
            )
            found[name] = extra + cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE {scratch}")
    return found


# Keeping them current ----------------------------------------------------------


def _pending():
    return getattr(_state, "pending", None)


def changed(*, sessions=(), registrations=()) -> None:
    """Records of ``sessions`` and of ``registrations`` were written without
    signals (``bulk_create``): rewrite their rows (at the end of the
    enclosing :func:`deferred` block, if there is one)."""
    if getattr(_state, "suspended", False):
        return
    pending = _pending()
    if pending is not None:
        pending[0].update(sessions)
        pending[1].update(registrations)
        return
    refresh_sessions(sessions)
    refresh_participants(registrations)


@contextmanager
def deferred():
    """Rewrite the rows of the sessions and registrants whose records
    change inside the block once, when it ends (nested blocks wait for the
    outermost)."""
    if _pending() is not None:
        yield
        return
    _state.pending = (set(), set())
    try:
        yield
        sessions, registrations = _state.pending
    finally:
        _state.pending = None
    refresh_sessions(sessions)
    refresh_participants(registrations)


@contextmanager
def suspended():
    """Leave the stored counts alone inside the block, for bulk rewrites
    of whole tables that call :func:`rebuild` afterwards."""
    _state.suspended = True
    try:
        yield
    finally:
        _state.suspended = False


def _deleting(origin):
    """The model whose deletion is cascading to the records, if any."""
    from django.db.models import QuerySet

    if origin is None:
        return None
    return origin.model if isinstance(origin, QuerySet) else type(origin)


def record_written(sender, instance, origin=None, **kwargs):
    """``post_save`` and ``post_delete`` of an ``AttendanceRecord``.

    In a cascade, what goes with the records is not rewritten: deleting a
    page (an event) takes its sessions and people, and so all their rows;
    deleting a session takes its tally; deleting a registration its spans.
    That keeps deleting a big event from rewriting rows once per record."""
    from wagtail.models import Page

    from events.models import EventSession, Registration

    deleting = _deleting(origin)
    if deleting is not None and issubclass(deleting, Page):
        return
    sessions = [] if deleting is EventSession else [instance.session_id]
    people = [] if deleting is Registration else [instance.registration_id]
    changed(sessions=sessions, registrations=[pk for pk in people if pk])


#: Session fields the spans depend on.
SPAN_FIELDS = {"start", "status", "venue", "venue_id", "event", "event_id"}


def session_saved(sender, instance, created, update_fields=None, **kwargs):
    """``post_save`` of an ``EventSession``: a new session has no records;
    a changed one rewrites the spans of its attendees."""
    if created or getattr(_state, "suspended", False):
        return
    if update_fields is not None and not SPAN_FIELDS & set(update_fields):
        return
    refresh_attendees_of(instance.pk)
