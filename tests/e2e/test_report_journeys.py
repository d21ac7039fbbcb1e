"""A coordinator reads a term's attendance reports on a phone, in a real
browser: the per-event reports show 25 events a page (``?page=``), so they
go to the second page by its link, open one event's own report from the
events summary, and ask for the summary PDF, which a range of many sessions
gets in the background (``GATHER_BACKGROUND_PDF_SESSIONS`` lowered here).
A page number that is not one, or past the last page, shows a page of
events, never an error. Every screen is checked with axe-core and
photographed under ``E2E_SHOTS``.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from attendance.models import AttendanceRecord
from events.models import EventSession
from spreadsheets.models import ExportJob
from tests.conftest import make_event, make_session, sign_up
from tests.e2e.support import assert_admin_accessible
from tests.e2e.test_coordinator_journeys import sign_in
from tests.e2e.test_event_chooser_journey import settled
from tests.e2e.test_messaging_journeys import shot

EVENTS = 30


def fits_the_screen(page, selector):
    """Whether every element ``selector`` finds lies within the phone's
    375 px (the admin scrolls inside its own panel, so the document's
    width says nothing)."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].every((el) => {
            const box = el.getBoundingClientRect();
            return box.left >= 0 && box.right <= window.innerWidth;
        })""",
        selector,
    )


@pytest.fixture
def term(event_index):
    """Thirty events, "Group 01" to "Group 30", each with a session held a
    week ago; two people came to Group 27's."""
    held = timezone.now() - dt.timedelta(days=7)
    events = []
    for number in range(1, EVENTS + 1):
        event = make_event(
            event_index,
            title=f"Group {number:02d}",
            registration_mode="required",
            capacity=10,
        )
        make_session(event)
        events.append(event)
    chosen = events[26]
    registrations = [sign_up(chosen, name) for name in ("Ana Lopez", "Ben Ode")]
    EventSession.objects.update(start=held, end=held + dt.timedelta(hours=2))
    session = chosen.sessions.get()
    for registration in registrations:
        AttendanceRecord.objects.create(
            session=session, registration=registration, status="present"
        )
    return events


def test_a_year_of_events_page_by_page_then_one_event(
    coordinator, term, browser_context, settings, stored_tasks
):
    settings.GATHER_BACKGROUND_PDF_SESSIONS = 5
    page = browser_context().new_page()
    sign_in(page, coordinator)
    page.goto("/admin/attendance/reports/")
    expect(page.locator("h1")).to_contain_text("Attendance reports")
    summary = page.locator(".gather-reports__page-summary")
    expect(summary).to_contain_text("Events 1 to 25 of 30, by name.")
    events_table = page.locator("#report-events table")
    expect(events_table.get_by_role("link", name="Group 25")).to_be_visible()
    expect(events_table.get_by_role("link", name="Group 26")).to_have_count(0)
    settled(page)
    assert_admin_accessible(page)
    shot(page, "report-1-first-page")
    assert fits_the_screen(
        page, ".gather-reports__pages, .gather-report, .gather-report__scroll"
    )

    totals = page.locator("#report-no-shows tfoot tr")
    first_totals = totals.locator("th, td").all_inner_texts()
    assert first_totals[0] == "All events"
    top = page.get_by_role("navigation", name="Pages of events, top")
    expect(top.get_by_role("link", name="Page 1")).to_have_attribute(
        "aria-current", "page"
    )
    top.get_by_role("link", name="Page 2").click()
    page.wait_for_url(re.compile(r"[?&]page=2\b"))
    expect(summary).to_contain_text("Events 26 to 30 of 30, by name.")
    expect(events_table.get_by_role("link", name="Group 26")).to_be_visible()
    expect(events_table.get_by_role("link", name="Group 25")).to_have_count(0)
    # The totals rows still count every event: the same on each page.
    assert totals.locator("th, td").all_inner_texts() == first_totals
    settled(page)
    assert_admin_accessible(page)
    shot(page, "report-2-second-page")

    chosen = term[26]
    events_table.get_by_role("link", name="Group 27").click()
    page.wait_for_url(re.compile(rf"[?&]event={chosen.pk}\b"))
    expect(page.locator(".chooser__title")).to_have_text("Group 27")
    expect(summary).to_contain_text("1 event, by name.")
    row = events_table.locator("tbody tr")
    expect(row).to_have_count(1)
    # Its own report needs no link to itself; two people came.
    expect(row.get_by_role("link")).to_have_count(0)
    expect(row.locator("th")).to_have_text("Group 27")
    expect(row.locator("td").nth(2)).to_have_text("2")
    expect(page.get_by_role("navigation", name="Pages of events, top")).to_have_count(0)
    settled(page)
    assert_admin_accessible(page)
    shot(page, "report-3-one-event")

    # Thirty sessions, more than five: the summary PDF is made in the
    # background, on the same progress page as a large export.
    page.goto("/admin/attendance/reports/")
    page.get_by_role("link", name="PDF summary for funders").click()
    page.wait_for_url(re.compile(r"/admin/spreadsheets/exports/\d+/$"))
    job = ExportJob.objects.get()
    assert (job.export, job.total_rows) == ("attendance-summary", EVENTS)
    progress = page.locator(".gather-export").get_by_role("status")
    expect(progress).to_have_text("The file is made as soon as the server is free.")
    settled(page)
    assert_admin_accessible(page)
    shot(page, "report-4-pdf-waiting")
    stored_tasks()
    expect(page.get_by_text("The file is ready")).to_be_visible(timeout=15_000)
    settled(page)
    assert_admin_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Download {job.file_name}").click()
    with open(download_info.value.path(), "rb") as stream:
        assert stream.read(5) == b"%PDF-"


#: ``?page=`` values that are no page, and the page each shows.
ODD_PAGES = [
    ("abc", "Events 1 to 25 of 30"),
    ("2.5", "Events 1 to 25 of 30"),
    ("", "Events 1 to 25 of 30"),
    ("99999", "Events 26 to 30 of 30"),
    ("0", "Events 26 to 30 of 30"),
    ("-1", "Events 26 to 30 of 30"),
    ("99999999999999999999999", "Events 26 to 30 of 30"),
]


def test_a_page_number_that_is_not_one_shows_a_page_of_events(
    coordinator, term, browser_context
):
    page = browser_context().new_page()
    sign_in(page, coordinator)
    for number, shown in ODD_PAGES:
        response = page.goto(f"/admin/attendance/reports/?page={number}")
        assert response.status == 200, number
        summary = page.locator(".gather-reports__page-summary")
        expect(summary).to_contain_text(shown)
