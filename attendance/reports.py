"""Attendance reports for coordinators, team meetings and funders.

Every report is a plain function of a :class:`ReportFilters` (a date range
and optional kind, venue setting and event) that reads the database with a
fixed number of aggregate queries, whatever the amount of data, and returns
a :class:`Report`: a title, column headings, rows of plain values and a
:class:`Chart` spec that ``attendance.charts`` draws. Nothing here renders
HTML or files; the admin screen, the CSV/XLSX downloads and the PDF summary
all show the same rows, except that the admin screen shows the per-event
reports (every report but ``WHOLE_RANGE``) one page of events at a time:
``events_page`` picks the events and ``build_reports(event_ids=...)``
reads their rows only. The whole-range reports, the totals rows and the
waitlist's count of events that filled are summed in the database over
every event (``SessionGroup``): the number of queries is fixed, and the
rows read into Python depend on the page and the number of weeks or
months, not on how many events and sessions there are. Their attendances,
absences and unique participants are summed from counts stored per
session and per person (``attendance.tallies``), not from every
attendance record of the range; the figures are the same.

How the numbers are counted (the admin page and the PDF show the same
definitions, from :func:`definitions`):

* **Sessions in the range**: sessions whose start falls on a local date
  from ``date_from`` to ``date_to`` (both included), of events matching the
  filters. Draft and unpublished events count too.
* **Held session**: a session in the range that is not cancelled and has
  started (its start is before now). Moved sessions count where they met.
  Only held sessions contribute to any attendance number.
* **Cancelled session**: a session in the range with status cancelled,
  whether its date has passed or not.
* **Attendance recorded**: a held session with at least one attendance
  record (of any status) or a headcount.
* **Attendances**: attendance records with an attended status (present,
  late, left early) on held sessions, plus ``Headcount.attendees`` for
  sessions of headcount-only events. Walk-ins are attendances.
* **Unique participants**: different registrations with at least one
  attendance. Walk-ins not linked to a registration and headcounts are not
  counted, because we cannot tell who they were; a walk-in record linked
  to a registration counts as that registrant.
* **Average attendance per session**: attendances divided by held sessions
  with attendance recorded (sessions nobody recorded would otherwise count
  as empty).
* **Setting**: the session's own venue, or else the event's venue;
  sessions with neither are "No venue set".
* **No-show rate** (per event, named events only): on held sessions with
  attendance recorded, the people expected are everyone with a record for
  the session plus everyone with a confirmed place now who signed up before
  the session started. A no-show is an expected person recorded absent or
  with no record. Excused absences are left out of both sides.
  Rate = no-shows / (attended + no-shows).
* **Retention** (per event, named events only): the registrants of an
  event are everyone with a confirmed place now who signed up before its
  last held session in the range, plus anyone who attended one of its held
  sessions in the range (e.g. who came and later cancelled). For each, the
  number of held sessions in the range they attended. Session numbers are
  positions among all the event's sessions, as on sign-in sheets, so a
  cancelled session's number is skipped.
* **Waitlist demand**: events with a capacity and a non-cancelled session
  in the range (held or still to come) whose confirmed places have reached
  the capacity or that have people waiting. Gather keeps no history of
  waitlist places (promotion and leaving the waitlist clear the position),
  so "waiting now" is the only count available: people who waited and then
  got a place or left are not counted, and demand is a lower bound. A
  drop-in event (sign-up per date) has a row per date, since its capacity
  and waitlist are per date.
* A drop-in place (a registration for one session) is expected at that
  session only, in the no-show rate and in retention.

* **Answers to demographic questions**: for each demographic question
  (``events.questions``) of the events with a session in the range, how
  many people gave each answer, or none, at sign-up, whatever became of
  their place. People whose details were removed (retention, erasure)
  still count: their answers were added to anonymous totals first. A count
  below ``SMALL_COUNT`` (5), zero included, is shown as "fewer than 5";
  when that hides only one answer of a question, the next smallest is
  "not shown" too, so the hidden one cannot be worked out from the number
  of people signed up.

Reports hold counts only, never personal names, so downloading them needs
no audit-log entry (unlike exports of participant data).
"""

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from events.models import (
    EventKind,
    EventPage,
    EventSession,
    QuestionKind,
    Registration,
    RegistrationStatus,
    SessionStatus,
    Setting,
    SignUpPer,
)
from events.questions import (
    NO,
    YES,
    demographic_questions,
    demographic_totals,
    display_value,
    no_answer_label,
)

from .models import AttendanceRecord, AttendanceStatus, ParticipantSpan

#: How far back the reports look by default.
DEFAULT_MONTHS = 3
#: Ways to group attendance over time.
PERIODS = ("week", "month")
#: Events drawn as separate lines or bars in per-event charts; the tables
#: always list every event.
CHART_EVENTS = 8
#: The setting key of sessions with no venue at all.
NO_SETTING = ""
#: Answer counts below this are not shown. Five is the smallest count most
#: health-statistics disclosure rules publish: a smaller group of people
#: giving one answer (or nobody) could be told apart by someone who knows
#: who came.
SMALL_COUNT = 5
#: Events per page of the per-event reports on the admin screen. The
#: downloads and the PDF list every event.
EVENTS_PER_PAGE = 25


# Filters ---------------------------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier, clamped to the end
    of a shorter month (31 May minus 3 months is 28 or 29 February)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


@dataclass(frozen=True)
class ReportFilters:
    """What a report covers: local dates from ``date_from`` to ``date_to``
    (both included), and optionally one event kind (``EventKind``), one venue
    setting (``Setting``) and one event (an EventPage id)."""

    date_from: dt.date
    date_to: dt.date
    kind: str = ""
    setting: str = ""
    event: int | None = None

    @classmethod
    def default(cls, today: dt.date | None = None) -> "ReportFilters":
        """The last three months up to and including today."""
        today = today or timezone.localdate()
        return cls(date_from=months_before(today, DEFAULT_MONTHS), date_to=today)

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """The range as aware datetimes: start included, end excluded, in
        the site's time zone."""
        start = dt.datetime.combine(self.date_from, dt.time.min)
        end = dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min)
        return timezone.make_aware(start), timezone.make_aware(end)


# Report shapes ---------------------------------------------------------------


@dataclass
class ChartSeries:
    """One named line or set of bars; ``None`` leaves a gap."""

    name: str
    values: list


@dataclass
class Chart:
    """What to draw, independent of the charting library.

    ``kind`` is ``bar``, ``horizontal_bar`` or ``line``; ``percent`` shows
    values as percentages; ``note`` says when the chart shows only part of
    the table.
    """

    kind: str
    title: str
    description: str
    x_labels: list[str]
    series: list[ChartSeries]
    x_title: str = ""
    y_title: str = ""
    percent: bool = False
    note: str = ""


@dataclass
class Report:
    """One report: headings, rows of plain values (int, float, str, date or
    None), an optional totals row, the chart, and how it is counted."""

    slug: str
    title: str
    help_text: str
    columns: list[str]
    rows: list[list]
    chart: Chart
    totals: list | None = None
    notes: list[str] = field(default_factory=list)
    #: The event (EventPage id) each row is about, where a row is about one
    #: event, for links to that event's own report; else empty.
    row_events: list[int] = field(default_factory=list)

    def all_rows(self) -> list[list]:
        """The rows followed by the totals row, as exported."""
        return [*self.rows, self.totals] if self.totals else list(self.rows)


def definitions() -> list[tuple[str, str]]:
    """(term, meaning) pairs shown on the reports page and in the PDF."""
    return [
        (
            _("Held session"),
            _(
                "A session in the date range that was not cancelled and has "
                "started. Only held sessions count towards attendance. Moved "
                "sessions count where they met."
            ),
        ),
        (
            _("Cancelled session"),
            _("A session in the date range that was cancelled, past or future."),
        ),
        (
            _("Attendance recorded"),
            _("A held session with at least one attendance record or a headcount."),
        ),
        (
            _("Attendances"),
            _(
                "People marked present, late or left early at held sessions, "
                "including walk-ins, plus the headcount at headcount-only "
                "sessions."
            ),
        ),
        (
            _("Unique participants"),
            _(
                "Different registered people with at least one attendance. "
                "Walk-ins who never signed up and headcounts cannot be told "
                "apart, so they are not included."
            ),
        ),
        (
            _("Average attendance per session"),
            _("Attendances divided by held sessions with attendance recorded."),
        ),
        (
            _("Setting"),
            _("The session's own venue if it has one, otherwise the event's venue."),
        ),
        (
            _("Answers to demographic questions"),
            _(
                "How many people gave each answer when they signed up, counted "
                "also after their details were removed. Counts under "
                "%(small)s are shown as 'fewer than %(small)s', and so is one "
                "more when only one would be hidden, so no count can point "
                "to a person."
            )
            % {"small": SMALL_COUNT},
        ),
    ]


def _setting_label(key: str) -> str:
    if key == NO_SETTING:
        return _("No venue set")
    return str(Setting(key).label) if key in Setting.values else key


def _average(total: int, sessions: int) -> float | None:
    return round(total / sessions, 1) if sessions else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# Reading the database --------------------------------------------------------


def sessions_in_range(filters: ReportFilters, *, with_setting: bool = True):
    """Sessions starting in the range, of events matching the filters, with
    their ``effective_setting`` (session venue, else event venue, else "").

    Without ``with_setting`` the setting is worked out only to filter by it:
    the sessions' ids or events, used as a subquery, then read the start
    index alone instead of joining every session to its venue and event."""
    start, end = filters.window()
    sessions = EventSession.objects.filter(start__gte=start, start__lt=end)
    if with_setting or filters.setting:
        sessions = sessions.annotate(
            effective_setting=Coalesce(
                "venue__setting",
                "event__venue__setting",
                Value(NO_SETTING),
                output_field=CharField(),
            )
        )
    if filters.kind:
        sessions = sessions.filter(event__kind=filters.kind)
    if filters.setting:
        sessions = sessions.filter(effective_setting=filters.setting)
    if filters.event:
        sessions = sessions.filter(event_id=filters.event)
    return sessions


def held_sessions(
    filters: ReportFilters, now: dt.datetime | None = None, *, with_setting=True
):
    """Sessions in the range that were not cancelled and have started."""
    return (
        sessions_in_range(filters, with_setting=with_setting)
        .exclude(status=SessionStatus.CANCELLED)
        .filter(start__lt=now or timezone.now())
    )


@dataclass
class SessionFigures:
    """One session in the range with its attendance counts."""

    pk: int
    event_id: int
    event_title: str
    headcount_only: bool
    start: dt.datetime
    status: str
    setting: str
    number: int
    registrants_attended: int
    walk_ins_attended: int
    absent: int
    excused: int
    records: int
    headcount: int | None
    missing: int
    held: bool

    @property
    def cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    @property
    def recorded(self) -> bool:
        """Attendance was taken: any record, or a headcount."""
        return self.records > 0 or self.headcount is not None

    @property
    def headcount_attendances(self) -> int:
        return (self.headcount or 0) if self.headcount_only else 0

    @property
    def attendances(self) -> int:
        return (
            self.registrants_attended
            + self.walk_ins_attended
            + self.headcount_attendances
        )

    @property
    def local_date(self) -> dt.date:
        return timezone.localdate(self.start)


@dataclass
class SessionGroup:
    """The summed counts of the sessions in the range that share a setting,
    a period (``period_start`` of their local date) and whether their event
    is headcount-only: what the overview, the settings and the over-time
    reports add up."""

    setting: str
    period: dt.date
    headcount_only: bool
    held: int = 0
    recorded: int = 0
    cancelled: int = 0
    to_come: int = 0
    registrants_attended: int = 0
    walk_ins_attended: int = 0
    absent: int = 0
    excused: int = 0
    headcount_attendances: int = 0

    @property
    def attendances(self) -> int:
        return (
            self.registrants_attended
            + self.walk_ins_attended
            + self.headcount_attendances
        )


def _sum(groups, name: str) -> int:
    return sum(getattr(group, name) for group in groups)


def period_starts(filters: ReportFilters, period: str) -> list[dt.date]:
    """The start of every week (Monday) or month the range touches."""
    if period not in PERIODS:
        raise ValueError(f"Unknown period {period!r}")
    starts = []
    start = period_start(filters.date_from, period)
    while start <= filters.date_to:
        starts.append(start)
        start = _next_period(start, period)
    return starts


def _period_index(field_name: str, starts: list[dt.date]):
    """Which of ``starts`` the local date of ``field_name`` (a datetime in
    the range) falls in, as a number: CASEs comparing it with the periods'
    ends as aware datetimes, so the database compares timestamps (on
    SQLite, converting every row's time zone would call Python). The CASEs
    nest as a binary search, so a row takes a handful of comparisons
    however many weeks the range has."""
    ends = [
        timezone.make_aware(dt.datetime.combine(following, dt.time.min))
        for following in starts[1:]
    ]

    def index_of(low: int, high: int):
        # The period among low..high (inclusive); ends[i] closes period i.
        if low == high:
            return Value(low)
        middle = (low + high) // 2
        return Case(
            When(**{f"{field_name}__lt": ends[middle]}, then=index_of(low, middle)),
            default=index_of(middle + 1, high),
            output_field=IntegerField(),
        )

    return index_of(0, len(starts) - 1)


#: The ``SessionTally`` counts a ``SessionGroup`` sums.
TALLIED = ("registrants_attended", "walk_ins_attended", "absent", "excused")


def _effective_setting(prefix: str = ""):
    return Coalesce(
        f"{prefix}venue__setting",
        f"{prefix}event__venue__setting",
        Value(NO_SETTING),
        output_field=CharField(),
    )


class _Source:
    """The queries behind every report for one set of filters, each run at
    most once however many reports use it.

    Whole-range figures (overview, settings, over time, the totals rows)
    are summed in the database over every matching event. With
    ``event_ids`` the per-event and per-session figures (the rows of the
    per-event reports) are read for those events only, as for one page of
    the admin screen; without it, for every event.
    """

    def __init__(
        self,
        filters: ReportFilters,
        now: dt.datetime | None = None,
        event_ids: list[int] | None = None,
        period: str = "month",
    ):
        self.filters = filters
        self.now = now or timezone.now()
        self.event_ids = None if event_ids is None else list(event_ids)
        self.period = period
        self._groups: dict[str, list[SessionGroup]] = {}

    def held(self):
        """The held sessions, for subqueries (no setting, ``sessions_in_range``)."""
        return held_sessions(self.filters, self.now, with_setting=False)

    def _held_condition(self, prefix: str = "") -> Q:
        return ~Q(**{f"{prefix}status": SessionStatus.CANCELLED}) & Q(
            **{f"{prefix}start__lt": self.now}
        )

    def _recorded_condition(self) -> Q:
        """A session with an attendance record (so a ``SessionTally``,
        ``attendance.tallies``) or a headcount."""
        return Q(tally__isnull=False) | Q(headcount__isnull=False)

    def _page_sessions(self):
        """Sessions in the range, of the page's events if there is a page."""
        sessions = sessions_in_range(self.filters)
        if self.event_ids is not None:
            sessions = sessions.filter(event_id__in=self.event_ids)
        return sessions

    @property
    def groups(self) -> list[SessionGroup]:
        """``groups_by`` the source's period."""
        return self.groups_by(self.period)

    def groups_by(self, period: str) -> list[SessionGroup]:
        """Every session in the range summed per setting, week or month
        and headcount-only or not, in one aggregate query per period (the
        sessions with their stored attendance counts, ``SessionTally``, and
        headcounts), however many sessions there are. The week or month is found
        in the database by comparing start times with the periods' ends
        (``_period_index``)."""
        if period not in self._groups:
            self._groups[period] = self._read_groups(period)
        return self._groups[period]

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
                **{name: Sum(f"tally__{name}", filter=held) for name in TALLIED},
                headcount_attendances=Sum(
                    "headcount__attendees",
                    filter=held & Q(event__headcount_only=True),
                ),
            )
        )
        for row in sessions:
            g = group(row)
            g.held, g.recorded = row["held"], row["recorded"]
            g.cancelled, g.to_come = row["cancelled"], row["to_come"]
            for name in (*TALLIED, "headcount_attendances"):
                setattr(g, name, row[name] or 0)

        return list(found.values())

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
    def sessions(self) -> list[SessionFigures]:
        """Every session in the range of the page's events (or of every
        event without a page), in start order, in one query."""
        attended = AttendanceStatus.attended()
        named = Q(attendance__registration__isnull=False)
        recorded = AttendanceRecord.objects.filter(
            session_id=OuterRef(OuterRef("pk")), registration_id=OuterRef("pk")
        )
        missing = (
            Registration.objects.filter(
                event_id=OuterRef("event_id"),
                status=RegistrationStatus.CONFIRMED,
                created_at__lt=OuterRef("start"),
            )
            # A drop-in place is expected at its own session only.
            .filter(Q(session__isnull=True) | Q(session_id=OuterRef("pk")))
            .filter(~Exists(recorded))
            .order_by()
            .values("event_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        earlier = (
            EventSession.objects.filter(event_id=OuterRef("event_id"))
            .filter(
                Q(start__lt=OuterRef("start"))
                | Q(start=OuterRef("start"), pk__lt=OuterRef("pk"))
            )
            .order_by()
            .values("event_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        rows = (
            self._page_sessions()
            .annotate(
                registrants_attended=Count(
                    "attendance", filter=named & Q(attendance__status__in=attended)
                ),
                walk_ins_attended=Count(
                    "attendance",
                    filter=Q(
                        attendance__registration__isnull=True,
                        attendance__status__in=attended,
                    ),
                ),
                absent=Count(
                    "attendance",
                    filter=named & Q(attendance__status=AttendanceStatus.ABSENT),
                ),
                excused=Count(
                    "attendance",
                    filter=named & Q(attendance__status=AttendanceStatus.EXCUSED),
                ),
                records=Count("attendance"),
                headcount_attendees=Max("headcount__attendees"),
                missing=Coalesce(
                    Subquery(missing, output_field=IntegerField()), Value(0)
                ),
                earlier=Coalesce(
                    Subquery(earlier, output_field=IntegerField()), Value(0)
                ),
            )
            .values(
                "pk",
                "event_id",
                "event__title",
                "event__headcount_only",
                "start",
                "status",
                "effective_setting",
                "registrants_attended",
                "walk_ins_attended",
                "absent",
                "excused",
                "records",
                "headcount_attendees",
                "missing",
                "earlier",
            )
            .order_by("start", "pk")
        )
        return [
            SessionFigures(
                pk=row["pk"],
                event_id=row["event_id"],
                event_title=row["event__title"],
                headcount_only=row["event__headcount_only"],
                start=row["start"],
                status=row["status"],
                setting=row["effective_setting"],
                number=row["earlier"] + 1,
                registrants_attended=row["registrants_attended"],
                walk_ins_attended=row["walk_ins_attended"],
                absent=row["absent"],
                excused=row["excused"],
                records=row["records"],
                headcount=row["headcount_attendees"],
                missing=row["missing"],
                held=row["status"] != SessionStatus.CANCELLED
                and row["start"] < self.now,
            )
            for row in rows
        ]

    @property
    def held_figures(self) -> list[SessionFigures]:
        return [s for s in self.sessions if s.held]

    def _page_held(self):
        held = self.held()
        if self.event_ids is not None:
            held = held.filter(event_id__in=self.event_ids)
        return held

    def _attended_records(self, held=None):
        return AttendanceRecord.objects.filter(
            session_id__in=(self.held() if held is None else held).values("pk"),
            status__in=AttendanceStatus.attended(),
            registration__isnull=False,
        )

    @cached_property
    def unique_by_event(self) -> dict[int, int]:
        """Different registrations with an attendance per event (of the
        page), in one query."""
        rows = (
            self._attended_records(self._page_held())
            .order_by()
            .values("session__event_id")
            .annotate(n=Count("registration_id", distinct=True))
        )
        return {row["session__event_id"]: row["n"] for row in rows}

    @cached_property
    def unique_participants(self) -> int:
        """Different registrations with an attendance, in one query over
        the stored ``ParticipantSpan`` rows (``_spans_attended``)."""
        return self._spans_attended(by_setting=False).aggregate(
            n=Count("registration_id", distinct=True)
        )["n"]

    @cached_property
    def unique_by_setting(self) -> dict[str, int]:
        """Different registrations with an attendance per setting, in one
        query over the stored ``ParticipantSpan`` rows."""
        rows = (
            self._spans_attended(by_setting=True)
            .order_by()
            .values("effective_setting")
            .annotate(n=Count("registration_id", distinct=True))
        )
        return {row["effective_setting"]: row["n"] for row in rows}

    def _spans_attended(self, *, by_setting: bool):
        """The ``ParticipantSpan`` rows (registrant, event, session venue)
        of the filters with an attendance at a held session in the range;
        ``by_setting`` adds their ``effective_setting``.

        A row's first and last attendances are at sessions that were not
        cancelled, so one of them in the range (up to now: a held session
        has started) is an attendance in it. A row whose first is before
        the range and last after it may have one or not: only those rows
        look in the records, for an attendance in the range at the row's
        event (and in the row's setting, ``by_setting``). Every row counted
        has its last attendance on or after the range's start, which the
        span index reads in order; without a setting to tell apart or
        filter by, the rows are read from the index alone."""
        start, end = self.filters.window()
        end = min(end, self.now)
        in_range = AttendanceRecord.objects.filter(
            registration_id=OuterRef("registration_id"),
            session__event_id=OuterRef("event_id"),
            status__in=AttendanceStatus.attended(),
            session__start__gte=start,
            session__start__lt=end,
        ).exclude(session__status=SessionStatus.CANCELLED)
        spans = ParticipantSpan.objects.all()
        if by_setting or self.filters.setting:
            spans = spans.annotate(effective_setting=_effective_setting())
            in_range = in_range.annotate(
                record_setting=_effective_setting("session__")
            ).filter(record_setting=OuterRef("effective_setting"))
        spans = spans.filter(
            Q(first_start__gte=start, first_start__lt=end)
            | Q(last_start__gte=start, last_start__lt=end)
            | Q(Exists(in_range), first_start__lt=start, last_start__gte=end),
            last_start__gte=start,
        )
        if self.filters.kind:
            spans = spans.filter(event__kind=self.filters.kind)
        if self.filters.setting:
            spans = spans.filter(effective_setting=self.filters.setting)
        if self.filters.event:
            spans = spans.filter(event_id=self.filters.event)
        return spans

    @cached_property
    def sessions_attended(self) -> dict[int, list[int]]:
        """Per event: how many held sessions each registrant attended, zeros
        included, in two queries."""
        held = self._page_held()
        attended = self._attended_records(held)
        per_person = (
            attended.order_by()
            .values("session__event_id", "registration_id")
            .annotate(n=Count("pk"))
        )
        result: dict[int, list[int]] = {}
        for row in per_person:
            result.setdefault(row["session__event_id"], []).append(row["n"])
        last_held = (
            held.filter(event_id=OuterRef("event_id"))
            .order_by("-start")
            .values("start")[:1]
        )
        never = (
            Registration.objects.filter(
                status=RegistrationStatus.CONFIRMED,
                event_id__in=held.values("event_id"),
            )
            .annotate(last_held=Subquery(last_held))
            .filter(
                Q(session__isnull=True, created_at__lt=F("last_held"))
                # A drop-in place counts when its own session was held.
                | Q(session__in=held.values("pk"), created_at__lt=F("session__start"))
            )
            .exclude(pk__in=attended.values("registration_id"))
            .order_by()
            .values("event_id")
            .annotate(n=Count("pk"))
        )
        for row in never:
            result.setdefault(row["event_id"], []).extend([0] * row["n"])
        return result

    @cached_property
    def capacity_events(self) -> list[dict]:
        """The page's events (or every event) with a capacity and a
        non-cancelled session in the range, as ``_capacity_entries``."""
        return self._capacity_entries(self._page_sessions(), self.event_ids)

    @cached_property
    def all_capacity_events(self) -> list[dict]:
        """``capacity_events`` of every event, for the totals: one more query
        only when the rows are a page's."""
        if self.event_ids is None:
            return self.capacity_events
        return self._capacity_entries(sessions_in_range(self.filters))

    def _capacity_entries(self, sessions, event_ids=None) -> list[dict]:
        """Events of ``sessions`` with a capacity and a non-cancelled
        session, with their confirmed and waiting counts; a drop-in event
        (capacity and waitlist per date) once per such session, titled
        with its date. One query, the union of two: each drop-in session
        counts the places covering it (the series', or its own), and each
        series event with a capacity finds its first such session and
        counts the places covering that one. A series event is looked at
        once, not once per session of the range; ``event_ids`` (a page's)
        limits the series events looked at, as it limits ``sessions``."""

        def covering(status, session):
            return Coalesce(
                Subquery(
                    Registration.objects.filter(
                        event_id=OuterRef("e_id"), status=status
                    )
                    .filter(Q(session__isnull=True) | Q(session_id=OuterRef(session)))
                    .order_by()
                    .values("event_id")
                    .annotate(n=Count("pk"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            )

        def places(session):
            """The confirmed and waiting counts covering ``session``."""
            return {
                "confirmed": covering(RegistrationStatus.CONFIRMED, session),
                "waiting": covering(RegistrationStatus.WAITLISTED, session),
            }

        # The series events to look at: a page's, or those of the filters.
        events = EventPage.objects.all()
        if event_ids is not None:
            events = events.filter(pk__in=event_ids)
        if self.filters.event:
            events = events.filter(pk=self.filters.event)
        if self.filters.kind:
            events = events.filter(kind=self.filters.kind)
        columns = ("e_id", "e_title", "e_capacity", "e_per", "e_start")
        going_ahead = sessions.exclude(status=SessionStatus.CANCELLED)
        drop_ins = (
            going_ahead.filter(
                event__capacity__isnull=False, event__sign_up_per=SignUpPer.SESSION
            )
            .annotate(
                e_id=F("event_id"),
                e_title=F("event__title"),
                e_capacity=F("event__capacity"),
                e_per=F("event__sign_up_per"),
                e_start=F("start"),
            )
            .annotate(**places("pk"))
            .order_by()
            .values(*columns, "confirmed", "waiting")
        )
        first = (
            going_ahead.filter(event_id=OuterRef("pk"))
            .order_by("start", "pk")
            .values("pk", "start")
        )
        series = (
            events.filter(capacity__isnull=False)
            .exclude(sign_up_per=SignUpPer.SESSION)
            .annotate(
                first_pk=Subquery(first.values("pk")[:1]),
                e_start=Subquery(first.values("start")[:1]),
            )
            .filter(first_pk__isnull=False)
            .annotate(
                e_id=F("pk"),
                e_title=F("title"),
                e_capacity=F("capacity"),
                e_per=F("sign_up_per"),
            )
            .annotate(**places("first_pk"))
            .order_by()
            .values(*columns, "confirmed", "waiting")
        )
        found = []
        for row in drop_ins.union(series, all=True):
            title = row["e_title"]
            if row["e_per"] == SignUpPer.SESSION:
                day = date_format(timezone.localtime(row["e_start"]), "D j M")
                title = f"{title}, {day}"
            found.append(
                {
                    "pk": row["e_id"],
                    "title": title,
                    "capacity": row["e_capacity"],
                    "confirmed": row["confirmed"],
                    "waiting": row["waiting"],
                }
            )
        return sorted(found, key=lambda e: (e["title"], e["pk"]))


def _events_in_order(sessions: list[SessionFigures]) -> list[tuple[int, str]]:
    """(event id, title) of the sessions' events, by first session."""
    seen = {}
    for session in sessions:
        seen.setdefault(session.event_id, session.event_title)
    return list(seen.items())


def _chart_note(shown: int, total: int) -> str:
    if total <= shown:
        return ""
    return _("The chart shows the first %(shown)s of %(total)s events.") % {
        "shown": shown,
        "total": total,
    }


# Reports ---------------------------------------------------------------------


def _overview(source: _Source) -> Report:
    groups = source.groups
    held = _sum(groups, "held")
    recorded = _sum(groups, "recorded")
    cancelled = _sum(groups, "cancelled")
    to_come = _sum(groups, "to_come")
    registrants = _sum(groups, "registrants_attended")
    walk_ins = _sum(groups, "walk_ins_attended")
    headcounts = _sum(groups, "headcount_attendances")
    attendances = registrants + walk_ins + headcounts
    unique = source.unique_participants
    rows = [
        [_("Sessions held"), held],
        [_("Sessions held with attendance recorded"), recorded],
        [_("Sessions cancelled"), cancelled],
        [_("Sessions not yet held (later in the range)"), to_come],
        [_("Attendances"), attendances],
        [_("Attendances by registered people"), registrants],
        [_("Attendances by walk-ins"), walk_ins],
        [_("Attendances counted at headcount-only sessions"), headcounts],
        [_("Unique participants"), unique],
        [_("Average attendance per session"), _average(attendances, recorded)],
    ]
    labels = [
        _("Sessions held"),
        _("Sessions cancelled"),
        _("Attendances"),
        _("Unique participants"),
    ]
    values = [held, cancelled, attendances, unique]
    return Report(
        slug="overview",
        title=_("Overview"),
        help_text=_(
            "Sessions, attendances and people for the whole range. Walk-ins "
            "count as attendances but not as unique participants."
        ),
        columns=[_("Measure"), _("Number")],
        rows=rows,
        chart=Chart(
            kind="horizontal_bar",
            title=_("Overview"),
            description=_(
                "Bar chart of sessions held, sessions cancelled, attendances "
                "and unique participants. The same numbers are in the table."
            ),
            x_labels=labels,
            series=[ChartSeries(_("Number"), values)],
        ),
    )


def _by_setting(source: _Source) -> Report:
    keys = [*Setting.values]
    if any(g.setting == NO_SETTING for g in source.groups):
        keys.append(NO_SETTING)
    unique = source.unique_by_setting
    rows = []
    for key in keys:
        groups = [g for g in source.groups if g.setting == key]
        attendances = sum(g.attendances for g in groups)
        rows.append(
            [
                _setting_label(key),
                _sum(groups, "held"),
                _sum(groups, "cancelled"),
                attendances,
                unique.get(key, 0),
                _average(attendances, _sum(groups, "recorded")),
            ]
        )
    labels = [row[0] for row in rows]
    return Report(
        slug="settings",
        title=_("Hospital, community and online"),
        help_text=_(
            "The same numbers split by where sessions met. Someone who came "
            "in more than one setting is a unique participant in each, so "
            "the settings can add up to more than the overview."
        ),
        columns=[
            _("Setting"),
            _("Sessions held"),
            _("Sessions cancelled"),
            _("Attendances"),
            _("Unique participants"),
            _("Average attendance per session"),
        ],
        rows=rows,
        chart=Chart(
            kind="bar",
            title=_("Hospital, community and online"),
            description=_(
                "Grouped bar chart of sessions held, attendances and unique "
                "participants in each setting."
            ),
            x_labels=labels,
            series=[
                ChartSeries(_("Sessions held"), [row[1] for row in rows]),
                ChartSeries(_("Attendances"), [row[3] for row in rows]),
                ChartSeries(_("Unique participants"), [row[4] for row in rows]),
            ],
        ),
    )


def period_start(day: dt.date, period: str) -> dt.date:
    """The Monday of ``day``'s week, or the first of its month."""
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_period(start: dt.date, period: str) -> dt.date:
    if period == "week":
        return start + dt.timedelta(weeks=1)
    return (start + dt.timedelta(days=32)).replace(day=1)


def _period_label(start: dt.date, period: str) -> str:
    return start.isoformat() if period == "week" else start.strftime("%Y-%m")


def _over_time(source: _Source, period: str) -> Report:
    buckets: dict[dt.date, list[SessionGroup]] = {
        start: [] for start in period_starts(source.filters, period)
    }
    for group in source.groups_by(period):
        buckets[group.period].append(group)
    rows = []
    for start, groups in buckets.items():
        attendances = sum(g.attendances for g in groups)
        rows.append(
            [
                _period_label(start, period),
                _sum(groups, "held"),
                _sum(groups, "cancelled"),
                attendances,
                _average(attendances, _sum(groups, "recorded")),
            ]
        )
    heading = _("Week starting") if period == "week" else _("Month")
    title = _("Attendance by week") if period == "week" else _("Attendance by month")
    return Report(
        slug="over-time",
        title=title,
        help_text=_(
            "Sessions and attendances in each week (Monday to Sunday) or "
            "calendar month of the range, by the session's local date."
        ),
        columns=[
            heading,
            _("Sessions held"),
            _("Sessions cancelled"),
            _("Attendances"),
            _("Average attendance per session"),
        ],
        rows=rows,
        chart=Chart(
            kind="line",
            title=title,
            description=_(
                "Line chart of attendances and sessions held in each period."
            ),
            x_labels=[row[0] for row in rows],
            series=[
                ChartSeries(_("Attendances"), [row[3] for row in rows]),
                ChartSeries(_("Sessions held"), [row[1] for row in rows]),
            ],
            x_title=heading,
        ),
    )


def _events(source: _Source) -> Report:
    figures: dict[int, dict] = {}
    for session in source.sessions:
        row = figures.setdefault(
            session.event_id,
            {
                "title": session.event_title,
                "held": 0,
                "cancelled": 0,
                "recorded": 0,
                "attendances": 0,
            },
        )
        row["held"] += session.held
        row["cancelled"] += session.cancelled
        row["recorded"] += session.held and session.recorded
        if session.held:
            row["attendances"] += session.attendances
    ordered = sorted(figures.items(), key=lambda item: (item[1]["title"], item[0]))
    unique = source.unique_by_event
    rows = [
        [
            f["title"],
            f["held"],
            f["cancelled"],
            f["attendances"],
            unique.get(pk, 0),
            _average(f["attendances"], f["recorded"]),
        ]
        for pk, f in ordered
    ]
    shown = rows[:CHART_EVENTS]
    return Report(
        slug="events",
        title=_("Events"),
        help_text=_(
            "One row per event with a session in the range. An event's own "
            "report (its name is a link) shows its sessions one by one."
        ),
        columns=[
            _("Event"),
            _("Sessions held"),
            _("Sessions cancelled"),
            _("Attendances"),
            _("Unique participants"),
            _("Average attendance per session"),
        ],
        rows=rows,
        row_events=[pk for pk, _f in ordered],
        chart=Chart(
            kind="horizontal_bar",
            title=_("Attendances per event"),
            description=_("Bar chart of each event's attendances in the range."),
            x_labels=[row[0] for row in shown],
            series=[ChartSeries(_("Attendances"), [row[3] for row in shown])],
            note=_chart_note(len(shown), len(rows)),
        ),
    )


def _retention(source: _Source) -> Report:
    held = source.held_figures
    held_per_event: dict[int, int] = {}
    for session in held:
        held_per_event[session.event_id] = held_per_event.get(session.event_id, 0) + 1
    attended = source.sessions_attended
    events = [
        (pk, title)
        for pk, title in _events_in_order(held)
        if attended.get(pk) and held_per_event.get(pk)
    ]
    rows, distributions, row_events = [], [], []
    for pk, title in events:
        counts = attended[pk]
        total = len(counts)
        distribution = [0] * (held_per_event[pk] + 1)
        for n in counts:
            distribution[n] += 1
        distributions.append((title, distribution))
        for n, registrants in enumerate(distribution):
            row_events.append(pk)
            rows.append(
                [
                    title,
                    held_per_event[pk],
                    n,
                    registrants,
                    _percent(registrants, total),
                ]
            )
    longest = max((len(d) for _title, d in distributions), default=0)
    shown = distributions[:CHART_EVENTS]
    return Report(
        slug="retention",
        title=_("Retention: sessions attended per registrant"),
        help_text=_(
            "For each event, how many of its held sessions in the range each "
            "registrant came to. Registrants are people with a confirmed place "
            "who signed up before the last held session, plus anyone who "
            "attended (even if they cancelled later). Headcount-only events "
            "have no registrants."
        ),
        columns=[
            _("Event"),
            _("Sessions held"),
            _("Sessions attended"),
            _("Registrants"),
            _("Share of registrants (%)"),
        ],
        rows=rows,
        row_events=row_events,
        chart=Chart(
            kind="bar",
            title=_("Sessions attended per registrant"),
            description=_(
                "Bar chart: for each number of sessions attended, how many "
                "registrants of each event attended that many."
            ),
            x_labels=[str(n) for n in range(longest)],
            series=[
                ChartSeries(title, d + [None] * (longest - len(d)))
                for title, d in shown
            ],
            x_title=_("Sessions attended"),
            y_title=_("Registrants"),
            note=_chart_note(len(shown), len(distributions)),
        ),
    )


def _by_session_number(source: _Source) -> Report:
    held = source.held_figures
    rows, row_events = [], []
    per_event: dict[int, dict[int, int]] = {}
    for session in sorted(held, key=lambda s: (s.event_title, s.event_id, s.number)):
        row_events.append(session.event_id)
        rows.append(
            [
                session.event_title,
                session.number,
                session.local_date,
                session.attendances,
                session.registrants_attended,
            ]
        )
        per_event.setdefault(session.event_id, {})[session.number] = session.attendances
    events = _events_in_order(held)
    longest = max((max(numbers) for numbers in per_event.values()), default=0)
    shown = events[:CHART_EVENTS]
    return Report(
        slug="session-numbers",
        title=_("Retention: attendance by session number"),
        help_text=_(
            "Attendance at each held session of each event, numbered as on "
            "sign-in sheets (cancelled sessions keep their number, so it is "
            "skipped here). A falling line means people stop coming."
        ),
        columns=[
            _("Event"),
            _("Session number"),
            _("Date"),
            _("Attendances"),
            _("Of which registered people"),
        ],
        rows=rows,
        row_events=row_events,
        chart=Chart(
            kind="line",
            title=_("Attendance by session number"),
            description=_(
                "Line chart with one line per event: attendances at session "
                "1, 2, 3 and so on."
            ),
            x_labels=[str(n) for n in range(1, longest + 1)],
            series=[
                ChartSeries(
                    title,
                    [per_event[pk].get(n) for n in range(1, longest + 1)],
                )
                for pk, title in shown
            ],
            x_title=_("Session number"),
            y_title=_("Attendances"),
            note=_chart_note(len(shown), len(events)),
        ),
    )


def _no_shows(source: _Source) -> Report:
    figures: dict[int, dict] = {}
    for session in source.held_figures:
        if session.headcount_only or not session.recorded:
            continue
        row = figures.setdefault(
            session.event_id,
            {
                "title": session.event_title,
                "sessions": 0,
                "attended": 0,
                "absent": 0,
                "missing": 0,
                "excused": 0,
            },
        )
        row["sessions"] += 1
        row["attended"] += session.registrants_attended
        row["absent"] += session.absent
        row["missing"] += session.missing
        row["excused"] += session.excused

    def line(label, f):
        no_shows = f["absent"] + f["missing"]
        expected = f["attended"] + no_shows + f["excused"]
        return [
            label,
            f["sessions"],
            expected,
            f["attended"],
            f["absent"],
            f["missing"],
            f["excused"],
            _percent(no_shows, f["attended"] + no_shows),
        ]

    ordered = sorted(figures.items(), key=lambda item: (item[1]["title"], item[0]))
    rows = [line(f["title"], f) for _pk, f in ordered]
    # The totals are of every event, also when the rows are one page's.
    counted = [g for g in source.groups if not g.headcount_only]
    totals = None
    if any(g.recorded for g in counted):
        summed = {
            "sessions": _sum(counted, "recorded"),
            "attended": _sum(counted, "registrants_attended"),
            "absent": _sum(counted, "absent"),
            "missing": source.missing_total,
            "excused": _sum(counted, "excused"),
        }
        totals = line(_("All events"), summed)
    return Report(
        slug="no-shows",
        title=_("No-show rate"),
        help_text=_(
            "On held sessions with attendance recorded, the people expected "
            "are everyone with a record for the session plus everyone with a "
            "confirmed place who signed up before it started. A no-show is "
            "someone expected who was recorded absent or has no record. "
            "Excused absences are not no-shows and are left out of the rate: "
            "no-show rate = no-shows / (attended + no-shows). People given a "
            "place from the waitlist count as expected from when they signed "
            "up, because Gather does not record when they got the place. "
            "Headcount-only events are not included."
        ),
        columns=[
            _("Event"),
            _("Sessions with attendance recorded"),
            _("Expected"),
            _("Attended"),
            _("Recorded absent"),
            _("No record"),
            _("Excused"),
            _("No-show rate (%)"),
        ],
        rows=rows,
        totals=totals,
        row_events=[pk for pk, _f in ordered],
        chart=Chart(
            kind="horizontal_bar",
            title=_("No-show rate"),
            description=_("Bar chart of each event's no-show rate, in per cent."),
            x_labels=[row[0] for row in rows],
            series=[ChartSeries(_("No-show rate (%)"), [row[7] for row in rows])],
            percent=True,
        ),
    )


def _waitlist(source: _Source) -> Report:
    def filled(entries):
        return [e for e in entries if e["confirmed"] >= e["capacity"] or e["waiting"]]

    shown = filled(source.capacity_events)
    rows = [[e["title"], e["capacity"], e["confirmed"], e["waiting"]] for e in shown]
    # The totals and the note are of every event, also when the rows are
    # one page's.
    with_capacity = source.all_capacity_events
    every_filled = filled(with_capacity)
    totals = None
    if every_filled:
        totals = [
            _("All events"),
            sum(e["capacity"] for e in every_filled),
            sum(e["confirmed"] for e in every_filled),
            sum(e["waiting"] for e in every_filled),
        ]
    return Report(
        slug="waitlist",
        title=_("Waitlist demand"),
        help_text=_(
            "Events with a session in the range (held or still to come) whose "
            "places are all taken or that have people waiting. Gather keeps no "
            "history of the waitlist, so 'Waiting now' counts only the people "
            "waiting today: people who waited and then got a place or left are "
            "not included, and real demand was at least this."
        ),
        columns=[
            _("Event"),
            _("Capacity"),
            _("Confirmed places"),
            _("Waiting now"),
        ],
        rows=rows,
        totals=totals,
        notes=[
            ngettext(
                "%(filled)s of %(total)s event with a capacity filled.",
                "%(filled)s of %(total)s events with a capacity filled.",
                len(with_capacity),
            )
            % {"filled": len(every_filled), "total": len(with_capacity)}
        ],
        row_events=[e["pk"] for e in shown],
        chart=Chart(
            kind="bar",
            title=_("Waitlist demand"),
            description=_(
                "Grouped bar chart of confirmed places and people waiting now "
                "for each event that filled."
            ),
            x_labels=[row[0] for row in rows],
            series=[
                ChartSeries(_("Confirmed places"), [row[2] for row in rows]),
                ChartSeries(_("Waiting now"), [row[3] for row in rows]),
            ],
        ),
    )


def fewer_than_label() -> str:
    return _("fewer than %(small)s") % {"small": SMALL_COUNT}


def not_shown_label() -> str:
    return _("not shown")


def suppress_small(counts: list[int]) -> list[int | str]:
    """``counts`` as a report shows them: every count below ``SMALL_COUNT``
    (zero too: "nobody chose this" says what everyone chose) as "fewer than
    5"; when that hides exactly one count of several, the smallest other
    one is "not shown" as well, so the hidden count is not simply the
    number of people signed up minus the counts shown."""
    shown: list[int | str] = [
        n if n >= SMALL_COUNT else fewer_than_label() for n in counts
    ]
    hidden = [i for i, n in enumerate(counts) if n < SMALL_COUNT]
    if len(hidden) == 1 and len(counts) > 1:
        others = [i for i in range(len(counts)) if i not in hidden]
        shown[min(others, key=lambda i: (counts[i], i))] = not_shown_label()
    return shown


def _answers(source: _Source) -> Report:
    event_ids = set(source._page_sessions().values_list("event_id", flat=True))
    questions = demographic_questions(event_ids)
    totals = demographic_totals([question.event_id for question in questions])
    rows, chart_labels, chart_values, row_events = [], [], [], []
    for question in questions:
        counts = totals.get(question.pk, {})
        answers = [YES, NO] if question.kind == QuestionKind.YES_NO else []
        answers += question.options
        answers += sorted(v for v in counts if v and v not in answers)
        answers.append("")
        numbers = [counts.get(answer, 0) for answer in answers]
        for answer, shown in zip(answers, suppress_small(numbers), strict=True):
            label = display_value(question, answer) if answer else no_answer_label()
            rows.append([question.event.title, question.label, label, shown])
            row_events.append(question.event_id)
            chart_labels.append(f"{question.label}: {label}")
            chart_values.append(shown if isinstance(shown, int) else None)
    return Report(
        slug="answers",
        title=_("Answers to demographic questions"),
        help_text=_(
            "Totals only, for the events with a session in the range: how many "
            "people gave each answer when they signed up. Counts under "
            "%(small)s are shown as 'fewer than %(small)s' (and one more when "
            "only one would be hidden), so no count can point to a person."
        )
        % {"small": SMALL_COUNT},
        columns=[_("Event"), _("Question"), _("Answer"), _("People")],
        rows=rows,
        row_events=row_events,
        chart=Chart(
            kind="horizontal_bar",
            title=_("Answers to demographic questions"),
            description=_(
                "Bar chart of how many people gave each answer; counts too small "
                "to show are left out."
            ),
            x_labels=chart_labels,
            series=[ChartSeries(_("People"), chart_values)],
        ),
    )


# Public functions ------------------------------------------------------------


def overview_report(filters: ReportFilters, *, now=None) -> Report:
    """Sessions held, cancelled and still to come; attendances by registrants,
    walk-ins and headcounts; unique participants; average per session."""
    return _overview(_Source(filters, now))


def setting_report(filters: ReportFilters, *, now=None) -> Report:
    """The overview's numbers for hospital, community and online venues."""
    return _by_setting(_Source(filters, now))


def over_time_report(filters: ReportFilters, *, period="month", now=None) -> Report:
    """Sessions and attendances per week (Monday start) or calendar month,
    every period of the range listed even when empty."""
    return _over_time(_Source(filters, now, period=period), period)


def retention_report(filters: ReportFilters, *, now=None) -> Report:
    """Per event: how many registrants attended 0, 1, 2... held sessions."""
    return _retention(_Source(filters, now))


def session_number_report(filters: ReportFilters, *, now=None) -> Report:
    """Per event: attendances at each held session, by session number."""
    return _by_session_number(_Source(filters, now))


def no_show_report(filters: ReportFilters, *, now=None) -> Report:
    """Per event and in total: expected, attended, absent, no record,
    excused, and the no-show rate."""
    return _no_shows(_Source(filters, now))


def answers_report(filters: ReportFilters, *, now=None) -> Report:
    """Per demographic question: people per answer, small counts hidden."""
    return _answers(_Source(filters, now))


def waitlist_report(filters: ReportFilters, *, now=None) -> Report:
    """Events that filled, with capacity, confirmed places and the waitlist
    today."""
    return _waitlist(_Source(filters, now))


def events_report(filters: ReportFilters, *, now=None) -> Report:
    """Per event: sessions held and cancelled, attendances, unique
    participants and the average per session."""
    return _events(_Source(filters, now))


#: Every report by slug, in the order the page and the PDF show them. Each
#: builder takes the shared query source and the over-time period.
BUILDERS = {
    "overview": lambda source, period: _overview(source),
    "settings": lambda source, period: _by_setting(source),
    "over-time": _over_time,
    "events": lambda source, period: _events(source),
    "retention": lambda source, period: _retention(source),
    "session-numbers": lambda source, period: _by_session_number(source),
    "no-shows": lambda source, period: _no_shows(source),
    "waitlist": lambda source, period: _waitlist(source),
    "answers": lambda source, period: _answers(source),
}


#: The reports of the whole range, shown in full on every page of the admin
#: screen; the others have a row (or rows) per event, and the screen shows
#: them a page of events at a time.
WHOLE_RANGE = ("overview", "settings", "over-time")


def build_reports(
    filters: ReportFilters,
    *,
    period: str = "month",
    only=None,
    now=None,
    event_ids: list[int] | None = None,
) -> list[Report]:
    """Every report (or those whose slugs are in ``only``) sharing one set of
    queries: eleven, a twelfth for the waitlist totals of a page, and at
    most four for the answers, however much data there is.

    With ``event_ids`` (one page of ``events_page``) the per-event reports
    have rows for those events only; their totals rows, the waitlist note
    and the whole-range reports still count every event."""
    source = _Source(filters, now, event_ids=event_ids, period=period)
    return [
        build(source, period)
        for slug, build in BUILDERS.items()
        if only is None or slug in only
    ]


def events_page(filters: ReportFilters, number, *, per_page=None) -> Page:
    """One page of the events with a session in the range, by title: a
    ``Page`` of (event id, title), ``EVENTS_PER_PAGE`` to a page.
    ``number`` may be anything the query string held; out of range or not
    a number gives the last or first page. Two queries (the count and the
    page)."""
    events = (
        EventPage.objects.filter(
            pk__in=sessions_in_range(filters, with_setting=False).values("event_id")
        )
        .order_by("title", "pk")
        .values_list("pk", "title")
    )
    return Paginator(events, per_page or EVENTS_PER_PAGE).get_page(number)


def kind_label(kind: str) -> str:
    """The display name of an event kind key, for filter summaries."""
    return str(EventKind(kind).label) if kind in EventKind.values else kind


def setting_label(key: str) -> str:
    """The display name of a setting key ("" is "No venue set")."""
    return _setting_label(key)
