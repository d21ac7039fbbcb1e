"""The reports' stored counts (``attendance.tallies``) give exactly the
figures counted directly from the attendance records, and every way of
writing attendance keeps them current.

``DirectSource`` is the reports' query source as it was before the counts
were stored: the same reports built from it and from the stored counts must
be equal, cell for cell, on attendance of every kind. The write-path tests
compare the stored rows with a rebuild from the records
(``tallies.differences``) after each write, and check the figures moved, so
a path that forgot to update them fails.
"""

import datetime as dt
import io
import uuid
from functools import cached_property
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from attendance import records, reports, tallies
from attendance.models import (
    AttendanceRecord,
    AttendanceStatus,
    Headcount,
    ParticipantSpan,
    SessionTally,
)
from attendance.reports import (
    NO_SETTING,
    ReportFilters,
    SessionGroup,
    _effective_setting,
    _period_index,
    held_sessions,
    period_starts,
    sessions_in_range,
)
from attendance.retention import apply_retention
from events.models import (
    EventSession,
    Registration,
    RegistrationStatus,
    SessionStatus,
    SignUpPer,
)
from events.privacy import anonymise_registrations
from tests.conftest import (
    make_event,
    make_event_index,
    make_session,
    make_venue,
    site_home_page,
)

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")
NOW = dt.datetime(2025, 3, 20, 12, tzinfo=TORONTO)


class DirectSource(reports._Source):
    """The query source before the stored counts: attendances, absences,
    "attendance recorded" and unique participants counted over the
    attendance records themselves."""

    def held(self):
        return held_sessions(self.filters, self.now)

    def _held_condition(self, prefix: str = "") -> Q:
        return ~Q(**{f"{prefix}status": SessionStatus.CANCELLED}) & Q(
            **{f"{prefix}start__lt": self.now}
        )

    def _recorded_condition(self) -> Q:
        """A session with an attendance record or a headcount."""
        return Q(
            Exists(AttendanceRecord.objects.filter(session_id=OuterRef("pk")))
        ) | Q(Exists(Headcount.objects.filter(session_id=OuterRef("pk"))))

    def _capacity_entries(self, sessions, event_ids=None) -> list[dict]:
        """The waitlist entries as counted before: every non-cancelled
        session of an event with a capacity counts the places covering it,
        and a series event keeps its first session's row only."""

        def covering(status):
            return Coalesce(
                Subquery(
                    Registration.objects.filter(
                        event_id=OuterRef("event_id"), status=status
                    )
                    .filter(Q(session__isnull=True) | Q(session_id=OuterRef("pk")))
                    .order_by()
                    .values("event_id")
                    .annotate(n=Count("pk"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            )

        going_ahead = sessions.exclude(status=SessionStatus.CANCELLED)
        # A series event's first row is the only one kept: the places are
        # counted for it alone, not for every session of the series.
        first = (
            going_ahead.filter(event_id=OuterRef("event_id"))
            .order_by("start", "pk")
            .values("pk")[:1]
        )
        rows = (
            going_ahead.filter(event__capacity__isnull=False)
            .filter(Q(event__sign_up_per=SignUpPer.SESSION) | Q(pk=Subquery(first)))
            .annotate(
                confirmed=covering(RegistrationStatus.CONFIRMED),
                waiting=covering(RegistrationStatus.WAITLISTED),
            )
            .values(
                "event_id",
                "event__title",
                "event__capacity",
                "event__sign_up_per",
                "start",
                "confirmed",
                "waiting",
            )
            .order_by("start", "pk")
        )
        found, seen = [], set()
        for row in rows:
            title = row["event__title"]
            if row["event__sign_up_per"] == SignUpPer.SESSION:
                day = date_format(timezone.localtime(row["start"]), "D j M")
                title = f"{title}, {day}"
            elif row["event_id"] in seen:
                continue
            seen.add(row["event_id"])
            found.append(
                {
                    "pk": row["event_id"],
                    "title": title,
                    "capacity": row["event__capacity"],
                    "confirmed": row["confirmed"],
                    "waiting": row["waiting"],
                }
            )
        return sorted(found, key=lambda e: (e["title"], e["pk"]))

    def _read_groups(self, period: str) -> list[SessionGroup]:
        starts = period_starts(self.filters, period)
        held = self._held_condition()
        not_cancelled = ~Q(status=SessionStatus.CANCELLED)
        found: dict[tuple, SessionGroup] = {}

        def group(row, only="event__headcount_only"):
            key = (row["effective_setting"], starts[row["bucket"]], row[only])
            if key not in found:
                found[key] = SessionGroup(*key)
            return found[key]

        sessions = (
            sessions_in_range(self.filters)
            .annotate(bucket=_period_index("start", starts))
            .order_by()
            .values("effective_setting", "bucket", "event__headcount_only")
            .annotate(
                held=Count("pk", filter=held),
                recorded=Count("pk", filter=held & self._recorded_condition()),
                cancelled=Count("pk", filter=Q(status=SessionStatus.CANCELLED)),
                to_come=Count("pk", filter=not_cancelled & Q(start__gte=self.now)),
            )
        )
        for row in sessions:
            g = group(row)
            g.held, g.recorded = row["held"], row["recorded"]
            g.cancelled, g.to_come = row["cancelled"], row["to_come"]

        for setting, bucket, only, *counts in self._record_counts(starts):
            g = group(
                {"effective_setting": setting, "bucket": bucket, "only": bool(only)},
                only="only",
            )
            (
                g.registrants_attended,
                g.walk_ins_attended,
                g.absent,
                g.excused,
            ) = (int(n or 0) for n in counts)

        headcounts = (
            Headcount.objects.filter(
                session_id__in=self.held().values("pk"),
                session__event__headcount_only=True,
            )
            .annotate(
                effective_setting=_effective_setting("session__"),
                bucket=_period_index("session__start", starts),
            )
            .order_by()
            .values("effective_setting", "bucket", "session__event__headcount_only")
            .annotate(n=Sum("attendees"))
        )
        for row in headcounts:
            group(row, only="session__event__headcount_only").headcount_attendances = (
                row["n"] or 0
            )
        return list(found.values())

    def _record_counts(self, starts: list[dt.date]) -> list[tuple]:
        """(setting, period index, headcount-only, registrants attended,
        walk-ins attended, absent, excused) of the held sessions' attendance
        records, in one query.

        The records are first counted per session (one pass over their
        session index, no joins), then the per-session counts are joined to
        the sessions' setting and period and summed: joining every record
        to its session, venue and event instead takes several times longer
        on hundreds of thousands of records."""
        attended = AttendanceStatus.attended()
        named = Q(registration__isnull=False)
        per_session = (
            AttendanceRecord.objects.filter(session_id__in=self.held().values("pk"))
            .order_by()
            .annotate(r_session=F("session_id"))
            .values("r_session")
            .annotate(
                r_registrants=Count("pk", filter=named & Q(status__in=attended)),
                r_walk_ins=Count(
                    "pk", filter=Q(registration__isnull=True, status__in=attended)
                ),
                r_absent=Count("pk", filter=named & Q(status=AttendanceStatus.ABSENT)),
                r_excused=Count(
                    "pk", filter=named & Q(status=AttendanceStatus.EXCUSED)
                ),
            )
        )
        keys = (
            self.held()
            .order_by()
            .annotate(
                k_session=F("pk"),
                k_setting=F("effective_setting"),
                k_bucket=_period_index("start", starts),
                k_only=F("event__headcount_only"),
            )
            .values("k_session", "k_setting", "k_bucket", "k_only")
        )
        counts_sql, counts_params = per_session.query.sql_with_params()
        keys_sql, keys_params = keys.query.sql_with_params()
        q = connection.ops.quote_name
        group_by = f"k.{q('k_setting')}, k.{q('k_bucket')}, k.{q('k_only')}"
        sums = ", ".join(
            f"SUM(r.{q(name)})"
            for name in ("r_registrants", "r_walk_ins", "r_absent", "r_excused")
        )
        sql = (
            f"SELECT {group_by}, {sums} FROM ({counts_sql}) r "
            f"INNER JOIN ({keys_sql}) k ON r.{q('r_session')} = k.{q('k_session')} "
            f"GROUP BY {group_by}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, (*counts_params, *keys_params))
            return cursor.fetchall()

    @cached_property
    def missing_total(self) -> int:
        """People expected at held sessions with attendance recorded, of
        events that are not headcount-only, who have no record there (the
        no-show report's "No record"), over every event, in one query."""
        recorded = (
            self.held()
            .filter(event__headcount_only=False)
            .filter(self._recorded_condition())
        )
        no_record = ~Exists(
            AttendanceRecord.objects.filter(
                session_id=OuterRef("event__sessions__pk"),
                registration_id=OuterRef("pk"),
            )
        )
        return Registration.objects.filter(
            # A drop-in place is expected at its own session only.
            Q(session__isnull=True) | Q(session_id=F("event__sessions__pk")),
            no_record,
            status=RegistrationStatus.CONFIRMED,
            event__sessions__in=recorded.values("pk"),
            created_at__lt=F("event__sessions__start"),
        ).count()

    @cached_property
    def unique_participants(self) -> int:
        """Different registrations with an attendance, in one query."""
        return self._attended_records().aggregate(
            n=Count("registration_id", distinct=True)
        )["n"]

    @cached_property
    def unique_by_setting(self) -> dict[str, int]:
        """Different registrations with an attendance per setting, in one
        query."""
        rows = (
            self._attended_records()
            .annotate(
                effective_setting=Coalesce(
                    "session__venue__setting",
                    "session__event__venue__setting",
                    Value(NO_SETTING),
                    output_field=CharField(),
                )
            )
            .order_by()
            .values("effective_setting")
            .annotate(n=Count("registration_id", distinct=True))
        )
        return {row["effective_setting"]: row["n"] for row in rows}


# Varied attendance ---------------------------------------------------------------


def _at(month, day, hour=18):
    return dt.datetime(2025, month, day, hour, tzinfo=TORONTO)


def _registrant(event, name, *, signed_up, status="confirmed", session=None, **extra):
    registration = Registration.objects.create(
        event=event,
        session=session,
        name=name,
        email=f"{name.lower()}@example.org",
        status=status,
        token_salt=uuid.uuid4().hex,
        manage_token_hash=uuid.uuid4().hex,
        **extra,
    )
    Registration.objects.filter(pk=registration.pk).update(created_at=signed_up)
    return registration


def _record(session, status="present", registration=None, walk_in=""):
    return AttendanceRecord.objects.create(
        session=session, registration=registration, walk_in_name=walk_in, status=status
    )


STATUSES = [status for status, _label in AttendanceStatus.choices]


def build_varied():
    """Three months of attendance of every kind: every status, walk-ins
    (linked and not), a cancelled session with records, sessions at other
    venues, drop-in dates, a headcount-only event, a named event with only a
    headcount, cancelled and waitlisted people who came, people who came
    before and after a range but not in it, a record in a session's check-in
    window before it started, a moved session, and people whose details
    were removed (retention and erasure keep their records)."""
    index = make_event_index(site_home_page())
    hall = make_venue(name="Hall", setting="community")
    ward = make_venue(name="Ward", setting="hospital")
    video = make_venue(
        name="Video", setting="online", online_joining_link="https://x.test"
    )
    # Capacities: the weekly group has people waiting, each drop-in date
    # is full, the talk has places left (the waitlist report's rows).
    weekly = make_event(
        index,
        title="Weekly",
        kind="group",
        venue=hall,
        registration_mode="required",
        capacity=20,
    )
    drop_in = make_event(
        index, title="Drop-in", kind="social", sign_up_per="session", capacity=3
    )
    counted = make_event(
        index, title="Counted", kind="education", venue=video, headcount_only=True
    )
    talk = make_event(index, title="Talk", kind="education", venue=ward, capacity=10)

    mondays = [_at(1, 6) + dt.timedelta(weeks=n) for n in range(12)]
    sessions = [
        make_session(weekly, start=start, venue=ward if n in (3, 8) else None)
        for n, start in enumerate(mondays)
    ]
    people = [
        _registrant(weekly, f"Person{n}", signed_up=_at(1, 1 + 3 * (n % 8)))
        for n in range(14)
    ]
    quitter = _registrant(weekly, "Quitter", signed_up=_at(1, 2), status="cancelled")
    waiting = _registrant(
        weekly, "Waiting", signed_up=_at(1, 3), status="waitlisted", waitlist_position=1
    )
    straddle = _registrant(weekly, "Straddle", signed_up=_at(1, 1))
    gap = _registrant(weekly, "Gap", signed_up=_at(1, 1))
    # Attendance: a fixed pseudo-random mix of every status, skipping some.
    for n, session in enumerate(sessions[:11]):
        for k, person in enumerate(people):
            pick = (n * 3 + k * k) % 7
            if pick < len(STATUSES):
                _record(session, STATUSES[pick], person)
        if n < 3:
            _record(session, "present", quitter)
        if n % 4 == 1:
            _record(session, "present", waiting, walk_in="Waiting")
        _record(session, STATUSES[n % len(STATUSES)], walk_in=f"Visitor {n}")
    # Only before and after February; the other also in it (at the ward).
    _record(sessions[0], "present", straddle)
    _record(sessions[10], "late", straddle)
    _record(sessions[0], "present", gap)
    _record(sessions[3], "left_early", gap)
    _record(sessions[10], "present", gap)
    # Cancelled after attendance was taken: its records must not count.
    EventSession.objects.filter(pk=sessions[6].pk).update(status="cancelled")
    tallies.refresh_attendees_of(sessions[6].pk)
    # Moved a day, after attendance was taken.
    moved = sessions[9]
    moved.start += dt.timedelta(days=1)
    moved.end += dt.timedelta(days=1)
    moved.save()

    dates = [_at(1, 9), _at(2, 13), _at(3, 13)]
    drop_sessions = [make_session(drop_in, start=start) for start in dates]
    for n, session in enumerate(drop_sessions):
        for k in range(4):
            person = _registrant(
                drop_in,
                f"Drop{n}{k}",
                signed_up=session.start - dt.timedelta(days=3 - k),
                status="cancelled" if k == 3 else "confirmed",
                session=session,
            )
            if k != 1:
                _record(session, STATUSES[(n + k) % len(STATUSES)], person)
        _record(session, "present", walk_in=f"Drop visitor {n}")
    # Checked in early for a session that has not started at NOW.
    soon = make_session(drop_in, start=NOW + dt.timedelta(minutes=10), venue=video)
    early = _registrant(drop_in, "Early", signed_up=_at(3, 1), session=soon)
    _record(soon, "present", early)

    counted_sessions = [
        make_session(counted, start=_at(2, 6)),
        make_session(counted, start=_at(3, 6)),
    ]
    Headcount.objects.create(session=counted_sessions[0], attendees=9, walk_ins=2)
    talk_session = make_session(talk, start=_at(2, 20))
    make_session(talk, start=_at(3, 5))
    _registrant(talk, "Listener", signed_up=_at(2, 1))
    Headcount.objects.create(session=talk_session, attendees=4, walk_ins=0)

    # Retention-erased and erased people keep their records.
    anonymise_registrations(Registration.objects.filter(pk__in=[people[0].pk, gap.pk]))
    return {"weekly": weekly, "drop_in": drop_in, "counted": counted, "talk": talk}


FILTER_SETS = [
    {"date_from": dt.date(2025, 1, 1), "date_to": dt.date(2025, 3, 31)},
    {"date_from": dt.date(2025, 2, 1), "date_to": dt.date(2025, 2, 28)},
    {"date_from": dt.date(2025, 2, 11), "date_to": dt.date(2025, 3, 9)},
    {"date_from": dt.date(2025, 1, 1), "date_to": dt.date(2025, 3, 20)},
    {"date_from": dt.date(2025, 3, 20), "date_to": dt.date(2025, 3, 20)},
    {"date_from": dt.date(2025, 1, 7), "date_to": dt.date(2025, 1, 7)},
    {
        "date_from": dt.date(2025, 1, 1),
        "date_to": dt.date(2025, 3, 31),
        "kind": "group",
    },
    {
        "date_from": dt.date(2025, 1, 1),
        "date_to": dt.date(2025, 3, 31),
        "kind": "social",
    },
    {
        "date_from": dt.date(2025, 1, 1),
        "date_to": dt.date(2025, 3, 31),
        "setting": "hospital",
    },
    {
        "date_from": dt.date(2025, 2, 1),
        "date_to": dt.date(2025, 2, 28),
        "setting": "community",
    },
    {
        "date_from": dt.date(2025, 1, 1),
        "date_to": dt.date(2025, 3, 31),
        "setting": "online",
    },
]


def _figures(source_class, filters, period, event_ids=None):
    source = source_class(filters, NOW, event_ids=event_ids, period=period)
    return [
        (slug, report.rows, report.totals, report.notes)
        for slug, build in reports.BUILDERS.items()
        for report in [build(source, period)]
    ]


@pytest.mark.parametrize("period", ["month", "week"])
def test_stored_counts_give_the_figures_counted_from_the_records(period):
    events = build_varied()
    assert tallies.differences() == {"session tallies": 0, "participant spans": 0}
    sets = [*FILTER_SETS]
    sets += [
        {
            "date_from": dt.date(2025, 1, 1),
            "date_to": dt.date(2025, 3, 31),
            "event": e.pk,
        }
        for e in events.values()
    ]
    checked = 0
    for fields in sets:
        filters = ReportFilters(**fields)
        stored = _figures(reports._Source, filters, period)
        direct = _figures(DirectSource, filters, period)
        assert stored == direct, fields
        for page in (
            [events["weekly"].pk, events["talk"].pk],
            [events["drop_in"].pk, events["counted"].pk],
        ):
            assert _figures(reports._Source, filters, period, page) == _figures(
                DirectSource, filters, period, page
            ), (fields, page)
        checked += 1
    # The fixture has something to count: attendances, people, absences.
    overview = dict(
        _figures(reports._Source, ReportFilters(**FILTER_SETS[0]), period)[0][1]
    )
    assert overview and checked == len(sets)
    # The waitlist has a series event that filled, full drop-in dates and
    # two with places left (the talk, a date still to come): in the note only.
    figures = _figures(reports._Source, ReportFilters(**FILTER_SETS[0]), period)
    waitlist = {slug: (rows, notes) for slug, rows, _t, notes in figures}
    rows, notes = waitlist["waitlist"]
    titles = [row[0] for row in rows]
    assert "Weekly" in titles and "Talk" not in titles, titles
    assert sum(t.startswith("Drop-in, ") for t in titles) == 3, titles
    assert notes == ["4 of 6 events with a capacity filled."], notes
    whole = DirectSource(ReportFilters(**FILTER_SETS[0]), NOW)
    assert whole.unique_participants > 10
    assert sum(g.absent for g in whole.groups) > 0
    assert sum(g.excused for g in whole.groups) > 0
    # The February range counts Gap (an attendance at the ward) but not
    # Straddle (before and after only): the records are looked in.
    february = ReportFilters(**FILTER_SETS[1])
    assert (
        reports._Source(february, NOW).unique_by_setting
        == DirectSource(february, NOW).unique_by_setting
    )


# Every write keeps them current ---------------------------------------------------


def _current():
    """The stored rows equal a rebuild from the records."""
    return tallies.differences() == {"session tallies": 0, "participant spans": 0}


def _tally(session):
    row = SessionTally.objects.filter(session=session).first()
    if row is None:
        return None
    return {name: getattr(row, name) for name in (*reports.TALLIED, "records")}


def _spans(registration):
    rows = ParticipantSpan.objects.filter(registration=registration).values_list(
        "event_id", "venue_id", "first_start", "last_start"
    )
    return sorted(rows, key=lambda row: (row[0], row[1] or 0, row[2]))


@pytest.fixture
def group(event_index):
    """A series with two held sessions (yesterday and a week before) and
    one to come, three confirmed people and a facilitator."""
    from django.utils import timezone

    now = timezone.now()
    event = make_event(event_index, title="Group", registration_mode="required")
    week_ago = make_session(event, start=now - dt.timedelta(days=8))
    yesterday = make_session(event, start=now - dt.timedelta(days=1))
    later = make_session(event, start=now + dt.timedelta(days=6))
    people = [
        _registrant(event, f"P{n}", signed_up=now - dt.timedelta(days=30))
        for n in range(3)
    ]
    return event, [week_ago, yesterday, later], people


def test_saving_a_register_keeps_the_counts(group, admin_user):
    _event, (week_ago, yesterday, _later), people = group
    a, b, c = people
    records.record_attendance(
        session=yesterday,
        statuses={str(a.pk): "present", str(b.pk): "absent", str(c.pk): "excused"},
        user=admin_user,
    )
    assert _tally(yesterday) == {
        "registrants_attended": 1,
        "walk_ins_attended": 0,
        "absent": 1,
        "excused": 1,
        "records": 3,
    }
    assert [span[3] for span in _spans(a)] == [yesterday.start]
    assert _spans(b) == []
    records.record_attendance(
        session=yesterday, statuses={str(b.pk): "late"}, user=admin_user
    )
    assert _tally(yesterday)["registrants_attended"] == 2
    assert _tally(yesterday)["absent"] == 0
    assert len(_spans(b)) == 1
    assert _current()


def test_everyone_present_keeps_the_counts(group, admin_user):
    _event, (_week_ago, yesterday, _later), people = group
    records.mark_everyone_present(session=yesterday, user=admin_user)
    assert _tally(yesterday)["registrants_attended"] == 3
    assert all(len(_spans(person)) == 1 for person in people)
    assert _current()


def test_walk_ins_and_check_ins_keep_the_counts(group, admin_user):
    _event, (_week_ago, yesterday, _later), people = group
    records.add_walk_in(session=yesterday, name="Visitor", user=admin_user)
    assert _tally(yesterday)["walk_ins_attended"] == 1
    records.record_attendance(
        session=yesterday, statuses={str(people[0].pk): "absent"}, user=admin_user
    )
    # Came after all (late): a self check-in changes the record.
    records.check_in(session=yesterday, registration=people[0])
    assert _tally(yesterday)["absent"] == 0
    assert _tally(yesterday)["registrants_attended"] == 1
    records.check_in(session=yesterday, registration=people[1])
    assert _tally(yesterday)["registrants_attended"] == 2
    assert len(_spans(people[1])) == 1
    assert _current()


def test_deleting_records_people_and_sessions_keeps_the_counts(group, admin_user):
    _event, (week_ago, yesterday, _later), people = group
    for session in (week_ago, yesterday):
        records.mark_everyone_present(session=session, user=admin_user)
    AttendanceRecord.objects.get(session=yesterday, registration=people[0]).delete()
    assert _tally(yesterday)["registrants_attended"] == 2
    assert [span[2:] for span in _spans(people[0])] == [
        (week_ago.start, week_ago.start)
    ]
    gone = people[1].pk
    people[1].delete()
    assert _tally(yesterday)["registrants_attended"] == 1
    assert _tally(week_ago)["registrants_attended"] == 2
    assert not ParticipantSpan.objects.filter(registration_id=gone).exists()
    gone = week_ago.pk
    week_ago.delete()
    assert not SessionTally.objects.filter(session_id=gone).exists()
    assert [span[2:] for span in _spans(people[2])] == [
        (yesterday.start, yesterday.start)
    ]
    assert _current()


def test_moving_and_cancelling_a_session_keeps_the_spans(group, admin_user):
    from events.sessions import cancel_session, reinstate_session, reschedule_session

    _event, (week_ago, yesterday, _later), people = group
    hall = make_venue(name="Other hall", setting="hospital")
    for session in (week_ago, yesterday):
        records.mark_everyone_present(session=session, user=admin_user)
    earlier = week_ago.start - dt.timedelta(days=2)
    reschedule_session(
        session=week_ago,
        start=earlier,
        end=earlier + dt.timedelta(hours=2),
        venue=hall,
        notify=False,
    )
    assert [span[1] for span in _spans(people[0])] == [None, hall.pk]
    assert _current()
    cancel_session(session=week_ago, notify=False)
    assert [span[1:] for span in _spans(people[0])] == [
        (None, yesterday.start, yesterday.start)
    ]
    assert _current()
    reinstate_session(session=week_ago)
    assert len(_spans(people[0])) == 2
    assert _current()


def test_retention_erasure_and_cancelling_a_place_change_no_counts(
    group, admin_user, no_quiet_hours
):
    from events.registration import cancel

    event, (week_ago, yesterday, _later), people = group
    for session in (week_ago, yesterday):
        records.mark_everyone_present(session=session, user=admin_user)
    before = [_tally(week_ago), _tally(yesterday), _spans(people[0])]
    anonymise_registrations(Registration.objects.filter(pk=people[0].pk))
    cancel(registration=people[1], user=admin_user)
    apply_retention(days=0)
    assert [_tally(week_ago), _tally(yesterday), _spans(people[0])] == before
    assert _current()
    filters = ReportFilters(
        date_from=week_ago.start.date() - dt.timedelta(days=1),
        date_to=yesterday.start.date() + dt.timedelta(days=1),
    )
    assert _figures(reports._Source, filters, "week") == _figures(
        DirectSource, filters, "week"
    )


def test_the_rebuild_command_finds_and_mends_stale_counts(group, admin_user):
    _event, (_week_ago, yesterday, _later), people = group
    records.mark_everyone_present(session=yesterday, user=admin_user)
    call_command("rebuild_attendance_tallies", "--check", stdout=io.StringIO())
    # A write behind the stored counts' back (an update sends no signal).
    AttendanceRecord.objects.filter(registration=people[0]).update(status="absent")
    ParticipantSpan.objects.filter(registration=people[1]).delete()
    with pytest.raises(CommandError, match="2 session tallies, 2 participant spans"):
        call_command("rebuild_attendance_tallies", "--check", stdout=io.StringIO())
    call_command("rebuild_attendance_tallies", stdout=io.StringIO())
    assert _current()
    assert _tally(yesterday)["absent"] == 1


def test_the_daily_repair_rebuilds_only_stale_counts_and_says_so(
    group, admin_user, caplog
):
    """The scheduled job (``--repair``) leaves current counts alone and
    rebuilds stale ones, logging how many rows differed and nothing else."""
    _event, (_week_ago, yesterday, _later), people = group
    records.mark_everyone_present(session=yesterday, user=admin_user)
    out = io.StringIO()
    call_command("rebuild_attendance_tallies", "--repair", stdout=out)
    assert "match" in out.getvalue()
    assert not caplog.records

    AttendanceRecord.objects.filter(registration=people[0]).update(status="absent")
    call_command("rebuild_attendance_tallies", "--repair", stdout=io.StringIO())

    assert _current()
    assert _tally(yesterday)["absent"] == 1
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "2 session tallies, 1 participant spans" in warning.getMessage()
    assert people[0].email not in warning.getMessage()
    assert people[0].name not in warning.getMessage()


def test_deleting_an_event_takes_its_rows_and_leaves_the_others(group, admin_user):
    event, (week_ago, yesterday, _later), people = group
    other = make_event(event.get_parent(), title="Other group")
    elsewhere = make_session(other, start=yesterday.start)
    visitor = _registrant(other, "Visitor", signed_up=yesterday.start)
    records.mark_everyone_present(session=elsewhere, user=admin_user)
    for session in (week_ago, yesterday):
        records.mark_everyone_present(session=session, user=admin_user)
    event.delete()
    assert set(SessionTally.objects.values_list("session_id", flat=True)) == {
        elsewhere.pk
    }
    assert set(ParticipantSpan.objects.values_list("registration_id", flat=True)) == {
        visitor.pk
    }
    assert _current()


def test_the_year_queries_read_sessions_and_places_from_indexes():
    """The whole-range figures read the sessions of the range (start,
    status, event, venue) and the "No record" count reads each event's
    confirmed places (signed up when, for which session) from indexes
    alone, without reading every session's or place's row: the covering
    indexes of ``events`` migration 0022 (SQLite's plan names them)."""
    build_varied()
    filters = ReportFilters(**FILTER_SETS[0])
    with CaptureQueriesContext(connection) as captured:
        reports.build_reports(filters, now=NOW, event_ids=[])
    if connection.vendor != "sqlite":
        # PostgreSQL plans a test database this small by other means.
        return
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
            plans.append(" ".join(str(row) for row in cursor.fetchall()))
    grouped = [p for p in plans if "GROUP BY" in p and "session_start_end" in p]
    assert grouped and all(
        "COVERING INDEX session_start_end_status" in p for p in grouped
    ), plans
    assert any("COVERING INDEX registration_event_status" in p for p in plans), plans
