"""A coordinator's term in the Wagtail admin, in a real browser.

One journey signs in as a member of the Coordinators group (with the
permissions ``load_demo`` gives that group), creates an event with a weekly
series, publishes it, finds it on the public listing, cancels a session
(the people signed up are emailed), imports spreadsheets and a calendar, and
reads the reports. Every Gather admin screen on the way is checked with
axe-core.
"""

import datetime as dt
import re

from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from events.models import EventPage, SessionStatus, Venue
from tests.conftest import make_event, sign_up
from tests.e2e.support import PASSWORD, assert_accessible, assert_admin_accessible

CALL_LIST_LINE = (
    "1 person with a place can only be reached by phone: they go on the call list."
)


#: A partner's calendar: a book club three weeks running, a month from now.
ICS = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Partner//EN",
        "X-WR-CALNAME:Riverside Library",
        "BEGIN:VEVENT",
        "UID:book-club@library",
        "DTSTAMP:20261101T000000Z",
        "DTSTART;TZID=America/Toronto:{start}",
        "DTEND;TZID=America/Toronto:{end}",
        "RRULE:FREQ=WEEKLY;COUNT=3",
        "SUMMARY:Book club",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)


def sign_in(page, user):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/admin/$"))


def create_event(page, event_index):
    """Add an EventPage below the events listing and save it as a draft;
    returns the page editor's URL."""
    page.goto(f"/admin/pages/{event_index.pk}/")
    page.get_by_role("link", name="Add child page").first.click()
    page.get_by_placeholder("Page title*").fill("Hearing Voices group")
    page.get_by_role("tab", name="Promote").click()
    page.get_by_role("textbox", name="Slug").fill("hearing-voices")
    page.get_by_role("tab", name="Content").click()
    page.get_by_role("textbox", name="Summary").fill(
        "A weekly group for people who hear voices."
    )
    page.get_by_role("combobox", name="Registration mode").select_option("required")
    page.get_by_role("spinbutton", name="Capacity").fill("3")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/admin/pages/\d+/edit/$"))
    return page.url


def add_weekly_series(page, editor_url, first_date):
    page.get_by_role("link", name="Add a series").click()
    expect(page.locator("h1")).to_contain_text("Add a series")
    expect(page.locator("h1")).to_contain_text("Hearing Voices group")
    assert_admin_accessible(page)
    page.get_by_label("First session date").fill(first_date.isoformat())
    page.get_by_label("Starts at").fill("18:00")
    page.get_by_label("Ends at").fill("19:30")
    page.get_by_label("Number of dates", exact=True).fill("4")
    page.keyboard.press("Escape")  # close the date picker
    page.get_by_role("button", name="Add sessions").click()
    page.wait_for_url(editor_url)
    expect(page.get_by_text("4 sessions added.")).to_be_visible()


def publish(page, event_index):
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(rf"/admin/pages/{event_index.pk}/$"))


def cancel_first_session(page, editor_url):
    """Cancel a session from the page editor's Sessions panel; the screen
    says who is told, and the admin comes back to the editor."""
    page.get_by_role("link", name="Cancel", exact=True).first.click()
    expect(page.locator("h1")).to_contain_text("Cancel session")
    expect(page.locator("h1")).to_contain_text("Hearing Voices group")
    told = page.locator(".gather-audience")
    expect(told).to_contain_text("2 people with a place will be emailed.")
    expect(told).to_contain_text(CALL_LIST_LINE)
    expect(told).to_contain_text("Cy: (416) 555-0199")
    assert_admin_accessible(page)
    page.get_by_label("Note for participants").fill("Room closed")
    page.get_by_role("button", name="Yes, cancel this session").click()
    page.wait_for_url(editor_url)
    expect(page.get_by_text("Session cancelled:")).to_be_visible()


def visit_session_screens(page, editor_url):
    """Reinstate, move and add: each checked, each back to the editor."""
    page.get_by_role("link", name="Reinstate", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Reinstate session")
    assert_admin_accessible(page)
    page.get_by_role("button", name="Yes, reinstate this session").click()
    page.wait_for_url(editor_url)

    page.get_by_role("link", name="Move or edit").first.click()
    expect(page.get_by_label("Start")).to_be_visible()
    expect(page.locator(".gather-audience")).to_contain_text(
        "2 people with a place will be emailed."
    )
    assert_admin_accessible(page)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(editor_url)

    page.get_by_role("link", name="Add one session").click()
    expect(page.get_by_label("Start")).to_be_visible()
    assert_admin_accessible(page)
    page.goto(editor_url)


def visit_registration_screens(page, editor_url, waiting):
    """The registrations listing and inspect screen, the promote screen and
    the capacity screen, whose message names who got a place."""
    page.get_by_role("link", name="See registrations").click()
    expect(page.get_by_role("link", name="Ana", exact=True)).to_be_visible()
    assert_admin_accessible(page)
    page.goto(f"/admin/registrations/inspect/{waiting.pk}/")
    expect(page.get_by_text("eve@example.org")).to_be_visible()
    assert_admin_accessible(page)
    page.goto(f"/admin/registrations/{waiting.pk}/promote/")
    expect(page.locator("h1")).to_contain_text("Give a place")
    expect(page.locator("h1")).to_contain_text("Hearing Voices group")
    assert_admin_accessible(page)

    page.goto(editor_url)
    page.get_by_role("link", name="Change capacity").click()
    expect(page.locator("h1")).to_contain_text("Change capacity")
    expect(page.locator("h1")).to_contain_text("Hearing Voices group")
    assert_admin_accessible(page)
    page.get_by_label("Capacity").fill("5")
    page.get_by_role("button", name="Save capacity").click()
    expect(
        page.get_by_text("Capacity saved. Dee and Eve got places from the waitlist.")
    ).to_be_visible()


def import_venues(page, tmp_path):
    """Upload, preview, confirm; then the recent imports, whose links are
    targets of at least 24 by 24 px (WCAG 2.5.8)."""
    venues = tmp_path / "venues.csv"
    venues.write_text("name,setting\nLibrary hall,community\nWard 4,hospital\n")
    page.get_by_role("button", name="Spreadsheets").click()
    page.get_by_role("link", name="Import venues").click()
    expect(page.locator("h1")).to_contain_text("Import")
    assert_admin_accessible(page)
    page.get_by_label("File").set_input_files(venues)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("What the import will do")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("venues.csv")
    assert_admin_accessible(page)
    page.get_by_role("button", name="Import now").click()
    expect(page.get_by_text("What the import did")).to_be_visible()
    assert_admin_accessible(page)
    assert set(Venue.objects.values_list("name", flat=True)) == {
        "Library hall",
        "Ward 4",
    }

    page.goto("/admin/spreadsheets/imports/")
    expect(page.get_by_role("link", name="venues.csv")).to_be_visible()
    assert_admin_accessible(page)
    for link in page.locator(".gather-imports__links a").all():
        box = link.bounding_box()
        assert box["height"] >= 24 and box["width"] >= 24, box


def import_calendar(page, event_index, tmp_path):
    day = timezone.localdate() + dt.timedelta(days=30)
    calendar = tmp_path / "library.ics"
    calendar.write_text(
        ICS.format(start=f"{day:%Y%m%d}T180000", end=f"{day:%Y%m%d}T193000")
    )
    page.get_by_role("link", name="Import a calendar").click()
    expect(page.locator("h1")).to_contain_text("Import a calendar")
    assert_admin_accessible(page)
    page.get_by_label("Calendar file (.ics)").set_input_files(calendar)
    page.get_by_label("Put new events in").select_option(str(event_index.pk))
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("cell", name="Book club")).to_be_visible()
    assert_admin_accessible(page)
    page.get_by_role("button", name="Import these events").click()
    page.wait_for_url(re.compile(rf"/admin/pages/{event_index.pk}/$"))
    assert EventPage.objects.filter(title="Book club", live=False).exists()


def test_coordinator_plans_a_group_cancels_a_session_imports_and_reads_reports(
    desktop, coordinator, event_index, tmp_path
):
    page = desktop
    sign_in(page, coordinator)
    editor_url = create_event(page, event_index)
    event = EventPage.objects.get(title="Hearing Voices group")
    add_weekly_series(page, editor_url, timezone.localdate() + dt.timedelta(days=7))
    assert event.sessions.count() == 4
    publish(page, event_index)
    assert EventPage.objects.get(pk=event.pk).live

    page.goto(event_index.url)
    expect(page.get_by_role("link", name="Hearing Voices group").first).to_be_visible()

    # Capacity 3: three places (one for someone with only a phone), then a
    # waitlist of two.
    sign_up(event, "Ana", email="ana@example.org")
    sign_up(event, "Ben", email="ben@example.org")
    sign_up(event, "Cy", email="", phone="416 555 0199")
    sign_up(event, "Dee", email="dee@example.org")
    eve = sign_up(event, "Eve", email="eve@example.org")
    mail.outbox.clear()

    page.goto(editor_url)
    cancel_first_session(page, editor_url)
    cancelled = event.sessions.get(status=SessionStatus.CANCELLED)
    assert cancelled.public_note == "Room closed"
    assert sorted(email.to[0] for email in mail.outbox) == [
        "ana@example.org",
        "ben@example.org",
    ]
    assert all("cancelled" in email.subject for email in mail.outbox)

    visit_session_screens(page, editor_url)
    visit_registration_screens(page, editor_url, eve)
    import_venues(page, tmp_path)
    import_calendar(page, event_index, tmp_path)

    page.get_by_role("link", name="Attendance reports").click()
    expect(page.locator("h1")).to_contain_text("Attendance reports")
    expect(page.locator("#report-overview")).to_be_visible()
    assert_admin_accessible(page)


def _overlap(a, b):
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


#: The boxes of a selector's elements, measured in one go once two frames in
#: a row agree: the admin's sidebar slides when the viewport changes, and
#: boxes read one by one while it moves come from different layouts.
SETTLED_BOXES = """async (selector) => {
    const measure = () => JSON.stringify(
        [...document.querySelectorAll(selector)].map((element) => {
            const r = element.getBoundingClientRect();
            return {x: r.x, y: r.y, width: r.width, height: r.height};
        }));
    const frame = () => new Promise((done) => requestAnimationFrame(done));
    let last = measure();
    for (let tries = 0; tries < 200; tries++) {
        await frame();
        await frame();
        const now = measure();
        if (now === last) return JSON.parse(now);
        last = now;
    }
    throw new Error("the layout never settled");
}"""


def test_report_filters_wrap_on_a_phone_even_with_a_long_event_title(
    phone, coordinator, event_index
):
    """A long title widens the Event select to its text; it must neither run
    off a 375 px screen nor cover the next field."""
    make_event(
        event_index,
        title="Wellness Recovery Action Plan (WRAP) group for young adults, "
        "Thursday evenings at the library",
    )
    sign_in(phone, coordinator)
    phone.goto("/admin/attendance/reports/")
    for width in (375, 1280):
        phone.set_viewport_size({"width": width, "height": 900})
        expect(phone.locator(".gather-reports__filters > *")).to_have_count(6)
        boxes = phone.evaluate(SETTLED_BOXES, ".gather-reports__filters > *")
        controls = phone.evaluate(
            SETTLED_BOXES, ".gather-reports__filters :is(input, select)"
        )
        for box in boxes + controls:
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        for index, box in enumerate(boxes):
            for other in boxes[index + 1 :]:
                assert not _overlap(box, other), (width, box, other)
    phone.set_viewport_size({"width": 375, "height": 812})
    assert_admin_accessible(phone)


def test_coordinator_starts_a_series_that_keeps_going_then_stops_it(
    desktop, coordinator, event_index
):
    """The series form's "Keeps going" choice: a mistake shown next to its
    field, the preview, the sessions made to the rolling horizon, the rule
    in words in the Sessions panel, and stopping it."""
    page = desktop
    sign_in(page, coordinator)
    editor_url = create_event(page, event_index)
    event = EventPage.objects.get(title="Hearing Voices group")
    first = timezone.localdate() + dt.timedelta(days=7)
    weekday = first.strftime("%A")
    made_until = first + dt.timedelta(weeks=12)

    page.get_by_role("link", name="Add a series").click()
    expect(page.locator("h1")).to_contain_text("Add a series")
    page.get_by_label("First session date").fill(first.isoformat())
    page.get_by_label("Starts at").fill("14:00")
    page.get_by_label("Ends at").fill("15:30")
    page.keyboard.press("Escape")  # close the date picker
    page.get_by_label("Keeps going (open-ended)").check()
    # A skip date on another weekday is refused, next to its field.
    page.get_by_label("Skip these dates").fill(
        (first + dt.timedelta(days=1)).isoformat()
    )
    page.get_by_role("button", name="Preview").click()
    skip_field = page.locator("[data-field-wrapper]").filter(
        has=page.get_by_label("Skip these dates")
    )
    expect(skip_field).to_contain_text(f"this series meets on {weekday}s")
    assert_admin_accessible(page)

    page.get_by_label("Skip these dates").fill("")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#series-preview").locator("..")
    expect(preview).to_contain_text("Preview: 13 sessions would be added")
    expect(preview).to_contain_text("keep 12 weeks ahead")
    assert_admin_accessible(page)
    assert not event.sessions.exists()

    page.get_by_role("button", name="Add sessions").click()
    page.wait_for_url(editor_url)
    expect(page.get_by_text("13 sessions added.")).to_be_visible()
    assert event.sessions.count() == 13
    words = (
        f"Every {weekday}, 2–3:30 pm, keeps going; sessions made up to "
        f"{made_until.day} {made_until:%B %Y}"
    )
    expect(page.get_by_text(words)).to_be_visible()
    # The Sessions panel (Wagtail's editor around it is Wagtail's own).
    assert_accessible(
        page,
        impacts={"serious", "critical"},
        context="#panel-child-content-sessions-section",
    )

    page.get_by_role("link", name="Stop this series").click()
    expect(page.locator("h1")).to_contain_text("Stop a series")
    assert_admin_accessible(page)
    page.get_by_role("button", name="Stop the series").click()
    page.wait_for_url(editor_url)
    expect(page.get_by_text("The series stops:")).to_be_visible()
    expect(page.get_by_role("link", name="Stop this series")).to_have_count(0)
    rule = event.series_rules.get()
    assert (rule.open_ended, rule.until) == (False, made_until)
