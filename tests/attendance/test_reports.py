"""Attendance reports: every number checked against a small fixture counted
by hand, the filters, the admin page, the downloads and the PDF summary.

The fixture (all times 18:00 in Toronto, reports run "now" = 20 March 2025
at noon unless a test goes through the views, which use the real clock):

WRAP group (group series, community venue, capacity 5, waitlist on)
    A1 Mon 3 Feb    Ana present, Ben late, Dee present, walk-in Walker
                    present (no registration)
    A2 Mon 10 Feb   Ana present, Ben absent, Cy left early
    A3 Mon 17 Feb   CANCELLED (a stale record: Ana present, must not count)
    A4 Mon 24 Feb   at the HOSPITAL venue: Ana excused, Ben present, and
                    Eve (waitlisted) came as a walk-in linked to her
                    registration
    A5 Mon 24 Mar   still to come
    Registrations: Ana, Ben, Fay confirmed, signed up 20 Jan; Cy confirmed,
    signed up 5 Feb (after A1); Gus confirmed, signed up 1 Mar (after every
    held session); Dee signed up 20 Jan, came to A1, then cancelled; Eve
    signed up 8 Feb and is waiting (position 1).
Naloxone drop-in (education, headcount only, online venue)
    B1 Thu 6 Mar    headcount 12 (5 of them walk-ins)
Coffee social (social, community venue, capacity 20, nobody signed up)
    C1 Sat 15 Mar   held, but no attendance recorded
"""

import datetime as dt
import io
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from attendance import reports
from attendance.admin_reports import ReportFilterForm
from attendance.charts import render_svg, value_ticks
from attendance.models import AttendanceRecord, Headcount
from attendance.reports import ReportFilters, build_reports
from attendance.wagtail_hooks import ReportsMenuItem
from events.models import EventPage, EventSession, Registration
from tests.conftest import (
    admin_heading,
    make_event,
    make_event_index,
    make_session,
    make_venue,
    module_transaction,
    site_home_page,
)

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")
NOW = dt.datetime(2025, 3, 20, 12, tzinfo=TORONTO)
#: 1 Feb to 31 Mar 2025: every session of the fixture.
RANGE = ReportFilters(date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 3, 31))
#: What the views are asked for: up to 20 March, so the future session A5
#: (24 March) is outside the range and the real clock gives the same numbers.
QUERY = {"date_from": "2025-02-01", "date_to": "2025-03-20"}


def _at(month, day):
    return dt.datetime(2025, month, day, 18, tzinfo=TORONTO)


def _registrant(event, name, *, signed_up, status="confirmed", position=None):
    registration = Registration.objects.create(
        event=event,
        name=name,
        email=f"{name.lower()}@example.org",
        status=status,
        waitlist_position=position,
        token_salt=uuid.uuid4().hex,
        manage_token_hash=uuid.uuid4().hex,
    )
    Registration.objects.filter(pk=registration.pk).update(created_at=signed_up)
    return registration


def _record(session, status="present", registration=None, walk_in=""):
    return AttendanceRecord.objects.create(
        session=session, registration=registration, walk_in_name=walk_in, status=status
    )


@pytest.fixture(scope="module")
def fixture_pks(django_db_setup, django_db_blocker):
    """The fixture above, built once for the module (it publishes three
    pages and writes about forty rows) and rolled back after it."""
    with module_transaction(django_db_blocker):
        with django_db_blocker.unblock():
            events = _build_fixture(make_event_index(site_home_page()))
        yield {key: event.pk for key, event in events.items()}


@pytest.fixture
def fixture(db, fixture_pks):
    """The fixture's events, fetched afresh for each test, so that what one
    test changes on them (rolled back in the database) is not seen by the
    next."""
    return {key: EventPage.objects.get(pk=pk) for key, pk in fixture_pks.items()}


def _build_fixture(event_index):
    community = make_venue(name="Hall", setting="community")
    hospital = make_venue(name="Ward 4", setting="hospital")
    online = make_venue(
        name="Video call", setting="online", online_joining_link="https://x.test"
    )
    wrap = make_event(
        event_index,
        title="WRAP group",
        kind="group",
        venue=community,
        capacity=5,
        registration_mode="required",
    )
    naloxone = make_event(
        event_index,
        title="Naloxone drop-in",
        kind="education",
        venue=online,
        headcount_only=True,
    )
    coffee = make_event(
        event_index, title="Coffee social", kind="social", venue=community, capacity=20
    )
    a1 = make_session(wrap, start=_at(2, 3))
    a2 = make_session(wrap, start=_at(2, 10))
    a3 = make_session(wrap, start=_at(2, 17))
    EventSession.objects.filter(pk=a3.pk).update(status="cancelled")
    a4 = make_session(wrap, start=_at(2, 24), venue=hospital)
    make_session(wrap, start=_at(3, 24))
    b1 = make_session(naloxone, start=_at(3, 6))
    make_session(coffee, start=_at(3, 15))

    early = _at(1, 20)
    ana = _registrant(wrap, "Ana", signed_up=early)
    ben = _registrant(wrap, "Ben", signed_up=early)
    _registrant(wrap, "Fay", signed_up=early)
    cy = _registrant(wrap, "Cy", signed_up=_at(2, 5))
    _registrant(wrap, "Gus", signed_up=_at(3, 1))
    dee = _registrant(wrap, "Dee", signed_up=early, status="cancelled")
    eve = _registrant(wrap, "Eve", signed_up=_at(2, 8), status="waitlisted", position=1)

    _record(a1, "present", ana)
    _record(a1, "late", ben)
    _record(a1, "present", dee)
    _record(a1, "present", walk_in="Walker")
    _record(a2, "present", ana)
    _record(a2, "absent", ben)
    _record(a2, "left_early", cy)
    _record(a3, "present", ana)
    _record(a4, "excused", ana)
    _record(a4, "present", ben)
    _record(a4, "present", eve, walk_in="Eve")
    Headcount.objects.create(session=b1, attendees=12, walk_ins=5)
    return {"wrap": wrap, "naloxone": naloxone, "coffee": coffee}


def _report(slug, filters=RANGE, **kwargs):
    (report,) = build_reports(filters, only={slug}, now=NOW, **kwargs)
    return report


def _overview(filters=RANGE):
    return dict(_report("overview", filters).rows)


# The numbers -----------------------------------------------------------------


def test_overview_counts_held_sessions_attendances_and_people(fixture):
    assert _overview() == {
        # A1, A2, A4, B1, C1 (A3 is cancelled, A5 is after "now")
        "Sessions held": 5,
        # all but C1
        "Sessions held with attendance recorded": 4,
        "Sessions cancelled": 1,  # A3
        "Sessions not yet held (later in the range)": 1,  # A5
        # 7 + 1 + 12
        "Attendances": 20,
        # A1: Ana, Ben, Dee = 3; A2: Ana, Cy = 2; A4: Ben, Eve (linked) = 2
        "Attendances by registered people": 7,
        "Attendances by walk-ins": 1,  # Walker at A1
        "Attendances counted at headcount-only sessions": 12,  # B1
        # Ana, Ben, Cy, Dee, Eve; not Walker (no registration), not B1's 12
        "Unique participants": 5,
        # 20 attendances / 4 sessions with attendance recorded
        "Average attendance per session": 5.0,
    }


def test_settings_use_the_session_venue_else_the_event_venue(fixture):
    report = _report("settings")
    assert report.columns[1:] == [
        "Sessions held",
        "Sessions cancelled",
        "Attendances",
        "Unique participants",
        "Average attendance per session",
    ]
    assert report.rows == [
        # A4 only: Ben + Eve = 2 attendances and people, 2 / 1 session
        ["Hospital", 1, 0, 2, 2, 2.0],
        # held A1, A2, C1; cancelled A3 (A5 not held yet): 4 + 2 + 0 = 6
        # attendances by Ana, Ben, Dee, Cy; 6 / 2 recorded sessions = 3.0
        ["Community", 3, 1, 6, 4, 3.0],
        # B1: a headcount of 12, nobody by name
        ["Online", 1, 0, 12, 0, 12.0],
    ]


def test_attendance_by_month(fixture):
    report = _report("over-time", period="month")
    assert report.columns[0] == "Month"
    assert report.rows == [
        # A1, A2, A4 held, A3 cancelled: 4 + 2 + 2 = 8, 8 / 3 = 2.67
        ["2025-02", 3, 1, 8, 2.7],
        # B1 and C1 held (A5 later): 12 + 0, one session recorded
        ["2025-03", 2, 0, 12, 12.0],
    ]


def test_attendance_by_week_lists_every_week_from_monday(fixture):
    report = _report("over-time", period="week")
    assert report.columns[0] == "Week starting"
    assert report.rows == [
        ["2025-01-27", 0, 0, 0, None],  # the week of Sat 1 Feb
        ["2025-02-03", 1, 0, 4, 4.0],  # A1
        ["2025-02-10", 1, 0, 2, 2.0],  # A2
        ["2025-02-17", 0, 1, 0, None],  # A3 cancelled
        ["2025-02-24", 1, 0, 2, 2.0],  # A4
        ["2025-03-03", 1, 0, 12, 12.0],  # B1 (Thursday)
        ["2025-03-10", 1, 0, 0, None],  # C1: held, nothing recorded
        ["2025-03-17", 0, 0, 0, None],
        ["2025-03-24", 0, 0, 0, None],  # A5 is after "now"
        ["2025-03-31", 0, 0, 0, None],
    ]
    assert report.chart.x_labels[0] == "2025-01-27"
    assert report.chart.series[0].values == [0, 4, 2, 0, 2, 12, 0, 0, 0, 0]


def test_retention_counts_sessions_attended_per_registrant(fixture):
    report = _report("retention")
    # WRAP group: 3 held sessions (A1, A2, A4). Registrants: Ana, Ben, Fay,
    # Cy (confirmed before A4), Dee and Eve (they attended); not Gus (signed
    # up after A4). Attended: Ana 2 (A1, A2; excused at A4; A3 cancelled),
    # Ben 2 (A1, A4), Cy 1, Dee 1, Eve 1, Fay 0. Six registrants.
    assert report.rows == [
        ["WRAP group", 3, 0, 1, 16.7],  # Fay: 1/6
        ["WRAP group", 3, 1, 3, 50.0],  # Cy, Dee, Eve: 3/6
        ["WRAP group", 3, 2, 2, 33.3],  # Ana, Ben: 2/6
        ["WRAP group", 3, 3, 0, 0.0],
    ]
    assert report.chart.x_labels == ["0", "1", "2", "3"]
    assert [(s.name, s.values) for s in report.chart.series] == [
        ("WRAP group", [1, 3, 2, 0])
    ]


def test_attendance_by_session_number_skips_cancelled_numbers(fixture):
    report = _report("session-numbers")
    assert report.rows == [
        ["Coffee social", 1, dt.date(2025, 3, 15), 0, 0],
        ["Naloxone drop-in", 1, dt.date(2025, 3, 6), 12, 0],
        # A1: 3 registrants + Walker; A2: Ana, Cy; A3 (number 3) cancelled;
        # A4: Ben, Eve
        ["WRAP group", 1, dt.date(2025, 2, 3), 4, 3],
        ["WRAP group", 2, dt.date(2025, 2, 10), 2, 2],
        ["WRAP group", 4, dt.date(2025, 2, 24), 2, 2],
    ]
    # one line per event, in order of first session
    assert [(s.name, s.values) for s in report.chart.series] == [
        ("WRAP group", [4, 2, None, 2]),
        ("Naloxone drop-in", [12, None, None, None]),
        ("Coffee social", [0, None, None, None]),
    ]


def test_no_show_rate(fixture):
    report = _report("no-shows")
    # Only WRAP group: Naloxone is headcount-only, Coffee has nothing recorded.
    # A1: records Ana, Ben, Dee attended (3); Fay confirmed before, no record
    #     (1 missing); Cy signed up after A1 and Gus later: not expected.
    # A2: Ana, Cy attended (2); Ben absent (1); Fay missing (1).
    # A4: Ben, Eve attended (2); Ana excused (1); Cy and Fay missing (2).
    # attended 7, absent 1, no record 4, excused 1; expected 7 + 1 + 4 + 1 = 13
    # no-shows 1 + 4 = 5; rate 5 / (7 + 5) = 41.67%
    assert report.rows == [["WRAP group", 3, 13, 7, 1, 4, 1, 41.7]]
    assert report.totals == ["All events", 3, 13, 7, 1, 4, 1, 41.7]


def test_events_summary_has_a_row_per_event(fixture):
    report = _report("events")
    assert report.rows == [
        # C1 held, nothing recorded
        ["Coffee social", 1, 0, 0, 0, None],
        # B1: a headcount of 12, nobody by name
        ["Naloxone drop-in", 1, 0, 12, 0, 12.0],
        # A1, A2, A4 held (A5 later), A3 cancelled: 4 + 2 + 2 attendances
        # by Ana, Ben, Cy, Dee, Eve; 8 / 3 recorded sessions
        ["WRAP group", 3, 1, 8, 5, 2.7],
    ]
    assert report.row_events == [
        fixture["coffee"].pk,
        fixture["naloxone"].pk,
        fixture["wrap"].pk,
    ]


def test_a_page_of_events_has_their_rows_and_every_events_totals(fixture):
    wrap, coffee = fixture["wrap"].pk, fixture["coffee"].pk
    everything = {r.slug: r for r in build_reports(RANGE, now=NOW)}
    page = {r.slug: r for r in build_reports(RANGE, now=NOW, event_ids=[coffee])}
    # The whole-range reports are the same on every page
    for slug in reports.WHOLE_RANGE:
        assert page[slug].rows == everything[slug].rows
    assert [row[0] for row in page["events"].rows] == ["Coffee social"]
    assert [row[0] for row in page["session-numbers"].rows] == ["Coffee social"]
    # No WRAP group rows, but the totals and the note count it
    assert page["no-shows"].rows == [] and page["retention"].rows == []
    assert page["no-shows"].totals == ["All events", 3, 13, 7, 1, 4, 1, 41.7]
    assert page["waitlist"].rows == []
    assert page["waitlist"].totals == everything["waitlist"].totals
    assert page["waitlist"].notes == ["1 of 2 events with a capacity filled."]
    wrap_page = {r.slug: r for r in build_reports(RANGE, now=NOW, event_ids=[wrap])}
    for slug in ("retention", "no-shows", "waitlist"):
        assert wrap_page[slug].rows == everything[slug].rows


def test_waitlist_demand(fixture):
    report = _report("waitlist")
    # WRAP group: 5 confirmed of 5, Eve waiting. Coffee social (capacity
    # 20) did not fill; Naloxone has no capacity.
    assert report.rows == [["WRAP group", 5, 5, 1]]
    assert report.totals == ["All events", 5, 5, 1]
    assert report.notes == ["1 of 2 events with a capacity filled."]


def test_a_range_with_nothing_in_it_gives_zeros_not_errors():
    empty = ReportFilters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 1, 31))
    report_list = build_reports(empty, now=NOW)
    overview = dict(report_list[0].rows)
    assert overview["Sessions held"] == 0
    assert overview["Average attendance per session"] is None
    assert all(r.rows == [] for r in report_list if r.slug in {"retention", "no-shows"})


# Filters ---------------------------------------------------------------------


def test_kind_filter(fixture):
    overview = _overview(
        ReportFilters(RANGE.date_from, RANGE.date_to, kind="education")
    )
    # Naloxone only: B1 with its headcount of 12
    assert overview["Sessions held"] == 1
    assert overview["Attendances"] == 12
    assert overview["Unique participants"] == 0
    assert overview["Sessions cancelled"] == 0


def test_setting_filter_uses_the_session_venue(fixture):
    hospital = ReportFilters(RANGE.date_from, RANGE.date_to, setting="hospital")
    overview = _overview(hospital)
    # A4 only: Ben and Eve
    assert (overview["Sessions held"], overview["Attendances"]) == (1, 2)
    assert overview["Unique participants"] == 2
    # Retention over A4 alone: Ana (excused), Cy, Fay 0; Ben, Eve 1
    rows = _report("retention", hospital).rows
    assert [row[2:4] for row in rows] == [[0, 3], [1, 2]]


def test_event_filter(fixture):
    wrap = ReportFilters(RANGE.date_from, RANGE.date_to, event=fixture["wrap"].pk)
    overview = _overview(wrap)
    # A1, A2, A4: 4 + 2 + 2
    assert (overview["Sessions held"], overview["Attendances"]) == (3, 8)
    assert overview["Unique participants"] == 5
    assert _report("waitlist", wrap).notes == ["1 of 1 event with a capacity filled."]


def test_date_range_filter(fixture):
    february = ReportFilters(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    overview = _overview(february)
    assert (overview["Sessions held"], overview["Sessions cancelled"]) == (3, 1)
    assert overview["Attendances"] == 8
    # A single day, both ends included: A2 on 10 February
    one_day = ReportFilters(dt.date(2025, 2, 10), dt.date(2025, 2, 10))
    assert _overview(one_day)["Attendances"] == 2


def test_default_range_is_the_last_three_months():
    filters = ReportFilters.default(today=dt.date(2025, 5, 31))
    assert (filters.date_from, filters.date_to) == (
        dt.date(2025, 2, 28),
        dt.date(2025, 5, 31),
    )
    assert reports.months_before(dt.date(2025, 1, 15), 3) == dt.date(2024, 10, 15)


# Queries ---------------------------------------------------------------------


def _count_queries():
    with CaptureQueriesContext(connection) as queries:
        build_reports(RANGE, now=NOW, period="week")
    return len(queries)


def test_report_queries_do_not_grow_with_data(fixture, event_index):
    before = _count_queries()
    venue = make_venue(setting="hospital")
    for n in range(3):
        event = make_event(event_index, kind="group", venue=venue, capacity=2)
        people = [
            _registrant(event, f"P{n}{i}", signed_up=_at(1, 10)) for i in range(4)
        ]
        for day in (4, 11, 18):
            session = make_session(event, start=_at(2, day + n))
            for person in people[:3]:
                _record(session, "present", person)
            _record(session, "present", walk_in=f"W{n}{day}")
    after = _count_queries()
    assert before == after
    # Eleven for the attendance reports, at most four for the answers report.
    assert after <= 11 + 4
    assert dict(_report("overview").rows)["Sessions held"] == 5 + 9


# The admin screen ------------------------------------------------------------


@pytest.fixture
def coordinator(django_user_model):
    group = Group.objects.get_or_create(name="Coordinators")[0]
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    user = django_user_model.objects.create_user("coordinator", password="pw")
    user.groups.add(group)
    return user


@pytest.fixture
def facilitator(django_user_model, facilitators_group):
    user = django_user_model.objects.create_user("fac", password="pw")
    user.groups.add(facilitators_group)
    return user


def _cell(html, label):
    """The first number cell after the row heading ``label``."""
    match = re.search(
        rf'<th scope="row">{re.escape(label)}</th><td class="number">([^<]*)</td>',
        html,
    )
    return match and match.group(1)


def test_coordinator_sees_charts_and_tables(client, coordinator, fixture):
    client.force_login(coordinator)
    response = client.get(reverse("attendance_reports"), QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 9
    )  # eight attendance reports (the events summary too) and the answers
    assert 'role="img"' in html and '<title id="chart-overview-title">' in html
    assert html.count('<table class="listing">') == 9
    assert _cell(html, "Sessions held") == "5"
    assert _cell(html, "Attendances") == "20"
    assert _cell(html, "Unique participants") == "5"
    assert _cell(html, "Average attendance per session") == "5.0"
    assert "41.7" in html  # the no-show rate
    assert "Ana" not in html and "Walker" not in html  # counts, never names
    assert "<script" not in html.split('id="report-overview"')[1].split("</svg>")[0]
    assert reverse("attendance_reports_pdf") in html


def _row_headings(html, slug):
    """(link or "", heading) of each body row of report ``slug``'s table."""
    section = html.split(f'id="report-{slug}"')[1].split("</section>")[0]
    body = section.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'<th scope="row">(?:<a href="([^"]*)">)?([^<]*)', body)


def test_per_event_reports_show_a_page_of_events(
    client, coordinator, fixture, monkeypatch
):
    monkeypatch.setattr(reports, "EVENTS_PER_PAGE", 2)
    client.force_login(coordinator)
    first = client.get(reverse("attendance_reports"), QUERY).content.decode()
    assert "Events 1 to 2 of 3, by name." in first
    # the whole range stays whole: the overview counts WRAP group too
    assert _cell(first, "Attendances") == "20"
    events = _row_headings(first, "events")
    assert [title for _link, title in events] == ["Coffee social", "Naloxone drop-in"]
    # each event's name links to its own report, with the same filters
    link = events[1][0].replace("&amp;", "&")
    assert link.startswith(reverse("attendance_reports") + "?")
    assert f"event={fixture['naloxone'].pk}" in link
    assert "date_from=2025-02-01" in link and "page=" not in link
    own = client.get(link)
    assert own.context["form"].cleaned_data["event"] == fixture["naloxone"]
    assert [title for _l, title in _row_headings(own.content.decode(), "events")] == [
        "Naloxone drop-in"
    ]
    # no WRAP group rows on page 1, but the totals row counts it
    assert [t for _l, t in _row_headings(first, "no-shows")] == []
    assert "41.7" in first.split('id="report-no-shows"')[1].split("</section>")[0]
    assert 'aria-current="page"' in first and 'rel="next"' in first
    second = client.get(reverse("attendance_reports"), {**QUERY, "page": "2"})
    html = second.content.decode()
    assert "Events 3 to 3 of 3, by name." in html
    assert [t for _l, t in _row_headings(html, "no-shows")] == ["WRAP group"]
    assert [t for _l, t in _row_headings(html, "events")] == ["WRAP group"]
    assert 'rel="prev"' in html and 'rel="next"' not in html


@pytest.mark.parametrize("page", ["abc", "0", "999", "-1", "1.5"])
def test_a_page_number_out_of_range_shows_a_page(client, coordinator, fixture, page):
    client.force_login(coordinator)
    response = client.get(reverse("attendance_reports"), {**QUERY, "page": page})
    assert response.status_code == 200
    assert response.context["events_page"].number in (1, 2, 3)


def test_downloads_have_every_event_not_a_page(
    client, coordinator, fixture, monkeypatch
):
    monkeypatch.setattr(reports, "EVENTS_PER_PAGE", 1)
    client.force_login(coordinator)
    url = reverse("attendance_report_download", args=["session-numbers", "csv"])
    lines = client.get(url, {**QUERY, "page": "1"}).content.decode().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [
        "Coffee social",
        "Naloxone drop-in",
        "WRAP group",
        "WRAP group",
        "WRAP group",
    ]
    url = reverse("attendance_report_download", args=["events", "csv"])
    lines = client.get(url, QUERY).content.decode().splitlines()
    assert lines[-1] == "WRAP group,3,1,8,5,2.7"


def test_reports_page_queries_do_not_grow_with_events(
    client, coordinator, fixture, event_index, django_assert_max_num_queries
):
    """More events and sessions than fit on a page cost no more queries: a
    query per event or per session row would fail this."""
    client.force_login(coordinator)
    url = reverse("attendance_reports")
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, QUERY).status_code == 200
    venue = make_venue(setting="hospital")
    for n in range(reports.EVENTS_PER_PAGE + 5):
        event = make_event(
            event_index, title=f"Group {n:02}", kind="group", venue=venue, capacity=2
        )
        person = _registrant(event, f"P{n}", signed_up=_at(1, 10))
        for day in (4, 11):
            session = make_session(event, start=_at(2, day))
            _record(session, "present", person)
            _record(session, "present", walk_in=f"W{n}{day}")
    with django_assert_max_num_queries(len(small)):
        response = client.get(url, QUERY)
    page = response.context["events_page"]
    assert page.paginator.count == 3 + reports.EVENTS_PER_PAGE + 5
    assert len(page.object_list) == reports.EVENTS_PER_PAGE
    html = response.content.decode()
    assert len(_row_headings(html, "events")) == reports.EVENTS_PER_PAGE
    # every new event is counted in the whole range: 2 x 2 attendances each
    assert _cell(html, "Attendances") == str(20 + 4 * (reports.EVENTS_PER_PAGE + 5))


def test_default_page_covers_the_last_three_months(client, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("attendance_reports"))
    assert response.status_code == 200
    form = response.context["form"]
    defaults = ReportFilters.default()
    assert form.cleaned_data["date_from"] == defaults.date_from
    assert form.cleaned_data["date_to"] == defaults.date_to


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2025-03-01", "date_to": "2025-02-01"}, "date_to"),
        ({"date_from": "1900-01-01"}, "date_from"),
        ({"date_from": "2010-01-01", "date_to": "2025-01-01"}, "date_to"),
        ({"kind": "party"}, "kind"),
        ({"setting": "moon"}, "setting"),
        ({"event": "abc"}, "event"),
        ({"event": "99999999999999999999999"}, "event"),
        ({"event": "424242"}, "event"),
        ({"period": "year"}, "period"),
        ({"date_to": ""}, "date_to"),
    ],
)
def test_bad_filters_are_form_errors(client, coordinator, query, field):
    client.force_login(coordinator)
    response = client.get(reverse("attendance_reports"), query)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["sections"] == []
    download = reverse("attendance_report_download", args=["overview", "csv"])
    assert client.get(download, query).status_code == 400


def test_only_coordinators_see_reports(
    client, facilitator, coordinator, fixture, django_user_model
):
    urls = [
        reverse("attendance_reports"),
        reverse("attendance_report_download", args=["overview", "csv"]),
        reverse("attendance_reports_pdf"),
    ]
    # Without admin access Wagtail sends people to the login page
    outsider = django_user_model.objects.create_user("outsider", password="pw")
    client.force_login(outsider)
    assert all(client.get(url).status_code == 302 for url in urls)
    # Facilitators may use the admin, but are not coordinators: 403
    client.force_login(facilitator)
    for url in urls:
        response = client.get(url, QUERY)
        assert response.status_code == 403
        assert b"41.7" not in response.content
    request = RequestFactory().get("/admin/")
    item = ReportsMenuItem("Reports", reverse("attendance_reports"))
    request.user = facilitator
    assert not item.is_shown(request)
    request.user = coordinator
    assert item.is_shown(request)


def test_superusers_see_reports(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("attendance_reports")).status_code == 200


def test_reports_screen_has_its_title(client, coordinator):
    client.force_login(coordinator)
    assert admin_heading(client.get(reverse("attendance_reports"))) == (
        "Attendance reports"
    )


def test_menu_tells_attendance_reports_from_wagtails_site_reports(client, admin_user):
    """Two items both called "Reports" left coordinators guessing."""
    client.force_login(admin_user)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    labels = re.findall(r'"label": "([^"]*)"', html)
    assert "Attendance reports" in labels
    assert "Site reports" in labels  # Wagtail's locked pages, site history...
    assert "Reports" not in labels
    assert "Site history" in labels  # still there, under its new name


def test_unknown_report_or_format_is_404(client, coordinator):
    client.force_login(coordinator)
    for args in (["nonsense", "csv"], ["overview", "json"]):
        url = reverse("attendance_report_download", args=args)
        assert client.get(url, QUERY).status_code == 404


def test_csv_download_has_headings_and_the_same_numbers(client, coordinator, fixture):
    client.force_login(coordinator)
    url = reverse("attendance_report_download", args=["no-shows", "csv"])
    response = client.get(url, QUERY)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "no-shows-2025-02-01-2025-03-20.csv" in response["Content-Disposition"]
    lines = response.content.decode().strip().splitlines()
    assert lines == [
        "Event,Sessions with attendance recorded,Expected,Attended,"
        "Recorded absent,No record,Excused,No-show rate (%)",
        "WRAP group,3,13,7,1,4,1,41.7",
        "All events,3,13,7,1,4,1,41.7",
    ]


def test_xlsx_download_has_headings_and_the_same_numbers(client, coordinator, fixture):
    client.force_login(coordinator)
    url = reverse("attendance_report_download", args=["settings", "xlsx"])
    response = client.get(url, QUERY)
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows == [
        [
            "Setting",
            "Sessions held",
            "Sessions cancelled",
            "Attendances",
            "Unique participants",
            "Average attendance per session",
        ],
        ["Hospital", 1, 0, 2, 2, 2],
        ["Community", 3, 1, 6, 4, 3],
        ["Online", 1, 0, 12, 0, 12],
    ]


def test_downloads_defuse_spreadsheet_formulas(client, coordinator, fixture):
    fixture["wrap"].title = "=HYPERLINK(1)"
    fixture["wrap"].save()
    client.force_login(coordinator)
    url = reverse("attendance_report_download", args=["waitlist", "csv"])
    lines = client.get(url, QUERY).content.decode().splitlines()
    assert lines[1] == "'=HYPERLINK(1),5,5,1"


def test_xlsx_downloads_show_formulas_as_typed_in_text_cells(
    client, coordinator, fixture
):
    fixture["wrap"].title = "=HYPERLINK(1)"
    fixture["wrap"].save()
    client.force_login(coordinator)
    url = reverse("attendance_report_download", args=["waitlist", "xlsx"])
    sheet = load_workbook(io.BytesIO(client.get(url, QUERY).content)).active
    assert sheet["A2"].value == "=HYPERLINK(1)"
    assert sheet["A2"].data_type == "s"
    assert [cell.value for cell in sheet[2]][1:] == [5, 5, 1]


def test_pdf_summary_has_charts_numbers_and_page_numbers(client, coordinator, fixture):
    client.force_login(coordinator)
    response = client.get(reverse("attendance_reports_pdf"), QUERY)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Attendance summary" in text
    assert "Hospital, community and online" in text
    assert "41.7" in text  # the no-show rate, in its table and chart
    assert re.search(r"Attendances\s+20", text)
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "Ana" not in text


def test_form_query_string_round_trips(fixture):
    form = ReportFilterForm.from_query(
        _querydict({**QUERY, "kind": "group", "event": str(fixture["wrap"].pk)})
    )
    assert form.is_valid(), form.errors
    again = ReportFilterForm.from_query(_querydict_from_string(form.query_string()))
    assert again.is_valid()
    assert again.filters() == form.filters()
    assert form.filters().event == fixture["wrap"].pk


def _querydict(data):
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    query.update(data)
    return query


def _querydict_from_string(text):
    from django.http import QueryDict

    return QueryDict(text)


@pytest.mark.parametrize(
    "series",
    [[], [reports.ChartSeries("A", [])], [reports.ChartSeries("A", [None, None])]],
)
def test_charts_with_nothing_to_draw_say_so(series):
    chart = reports.Chart("line", "Empty", "Nothing", ["1", "2"][: len(series)], series)
    svg = render_svg(chart, chart_id="empty")
    assert svg.startswith("<svg") and "<script" not in svg
    assert '<title id="empty-title">Empty</title>' in svg


def test_count_charts_have_whole_number_ticks():
    def ticks(top, percent=False):
        chart = reports.Chart(
            "bar", "t", "d", ["a"], [reports.ChartSeries("s", [top])], percent=percent
        )
        return value_ticks(chart)

    assert ticks(3) == [0, 1, 2, 3]
    assert ticks(20) == [0, 5, 10, 15, 20]
    assert ticks(13) == [0, 5, 10, 15]
    assert ticks(0) == [0, 1]
    assert ticks(41.7, percent=True) == [0, 20, 40, 60, 80, 100]


def test_a_pdf_summary_of_many_sessions_is_made_in_the_background(
    client, coordinator, fixture, settings, django_user_model
):
    from spreadsheets.exports import run_export
    from spreadsheets.models import ExportJob

    client.force_login(coordinator)
    filters = ReportFilterForm.from_query(_querydict(QUERY))
    assert filters.is_valid()
    sessions = reports.sessions_in_range(filters.filters()).count()
    assert sessions > 1
    settings.GATHER_BACKGROUND_PDF_SESSIONS = sessions
    # At the threshold: made in the request, as before.
    assert client.get(reverse("attendance_reports_pdf"), QUERY).status_code == 200
    assert not ExportJob.objects.exists()

    settings.GATHER_BACKGROUND_PDF_SESSIONS = sessions - 1
    response = client.get(reverse("attendance_reports_pdf"), QUERY)
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("spreadsheets_export_job", args=[job.pk])
    assert (job.export, job.file_format, job.total_rows) == (
        "attendance-summary",
        "pdf",
        sessions,
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-job-progress="running"' in page
    assert "The file is made as soon as the server is free." in page

    run_export(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.message
    download = reverse("spreadsheets_export_download", args=[job.pk])
    other = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(other)
    assert client.get(download).status_code == 404
    client.force_login(coordinator)
    response = client.get(download)
    assert response["Content-Type"] == "application/pdf"
    assert job.file_name == "attendance-summary-2025-02-01-2025-03-20.pdf"
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Attendance summary" in text and "41.7" in text
