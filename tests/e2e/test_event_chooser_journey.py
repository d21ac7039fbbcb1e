"""A coordinator picks an event in the event chooser (``events.choosers``), in
a real browser: on the registrations listing's filters, then on the
attendance reports form. Each screen, and the chooser's modal, is checked
with axe-core once Wagtail's fade-in has finished (mid-fade, text is drawn
half transparent and axe reports contrast that the finished screen has)."""

import re

from playwright.sync_api import expect

from tests.conftest import make_registration_event, sign_up
from tests.e2e.support import assert_admin_accessible
from tests.e2e.test_coordinator_journeys import sign_in

#: True once the page's fades and slides have ended: every CSS animation
#: or transition of two seconds or less (the sidebar's badge pings for 25
#: seconds, a spinner for ever; neither is what axe looks at).
SETTLED = """() => document.getAnimations().every(
    (a) => a.playState !== "running"
        || a.effect.getComputedTiming().activeDuration > 2000
)"""


def settled(page):
    page.wait_for_function(SETTLED)


def choose_event(page, title, *, other):
    """Open the chooser modal, search for ``title`` (the ``other`` event
    drops out of the list) and pick it."""
    page.get_by_role("button", name="Choose an event").click()
    modal = page.get_by_role("dialog")
    expect(modal.get_by_role("heading", name="Choose an event")).to_be_visible()
    settled(page)
    assert_admin_accessible(page)
    # By name: the listing's own search box has the same id, ``id_q``, as
    # the modal's (Wagtail's chooser script finds its box by that id).
    expect(modal.get_by_role("link", name=other)).to_be_visible()
    modal.locator("input[name=q]").fill(title)
    expect(modal.get_by_role("link", name=other)).to_have_count(0)
    modal.get_by_role("link", name=title).click()
    expect(modal).to_be_hidden()
    settled(page)


def test_coordinator_filters_registrations_and_reports_by_one_event(
    desktop, coordinator, event_index
):
    page = desktop
    tuesday = make_registration_event(event_index, capacity=10, title="Tuesday circle")
    thursday = make_registration_event(event_index, capacity=10, title="Thursday walk")
    sign_up(tuesday, "Ana Tuesday", email="ana@example.org")
    sign_up(tuesday, "Ben Tuesday", email="ben@example.org")
    sign_up(thursday, "Cy Thursday", email="cy@example.org")

    sign_in(page, coordinator)
    page.goto("/admin/registrations/")
    results = page.locator("#listing-results")
    expect(results.get_by_text("Cy Thursday")).to_be_visible()
    page.get_by_role("button", name="Show filters").click()
    page.get_by_role("button", name="Event", exact=True).click()
    settled(page)
    choose_event(page, "Tuesday circle", other="Thursday walk")

    expect(results.get_by_text("Cy Thursday")).to_have_count(0)
    expect(results.get_by_text("Ana Tuesday")).to_be_visible()
    expect(results.get_by_text("Ben Tuesday")).to_be_visible()
    page.wait_for_url(re.compile(rf"[?&]event={tuesday.pk}\b"))
    settled(page)
    assert_admin_accessible(page)

    # The same on a fresh load of the filtered address: the chooser shows the
    # event chosen, and the listing holds its people only.
    page.reload()
    expect(results.get_by_text("Ana Tuesday")).to_be_visible()
    expect(results.get_by_text("Cy Thursday")).to_have_count(0)

    page.goto("/admin/attendance/reports/")
    expect(page.locator("h1")).to_contain_text("Attendance reports")
    choose_event(page, "Thursday walk", other="Tuesday circle")
    expect(page.locator(".chooser__title")).to_have_text("Thursday walk")
    page.get_by_role("button", name="Show reports").click()
    page.wait_for_url(re.compile(rf"[?&]event={thursday.pk}\b"))
    expect(page.locator(".chooser__title")).to_have_text("Thursday walk")
    settled(page)
    assert_admin_accessible(page)


def test_coordinator_adds_someone_then_moves_them_on_a_phone(
    phone, coordinator, event_index
):
    """The add-registration and Move to forms pick their event in the
    chooser too; Move to's chooser does not offer the event the person is
    on (a forged one is the form's error, tested without a browser), and
    the chooser shows what was chosen."""
    from events.models import Registration
    from tests.e2e.test_messaging_journeys import shot

    page = phone
    tuesday = make_registration_event(event_index, capacity=10, title="Tuesday circle")
    thursday = make_registration_event(event_index, capacity=10, title="Thursday walk")

    sign_in(page, coordinator)
    page.goto("/admin/registrations/new/")
    expect(page.get_by_role("combobox", name="Event", exact=True)).to_have_count(0)
    settled(page)
    assert_admin_accessible(page)
    choose_event(page, "Tuesday circle", other="Thursday walk")
    page.get_by_role("textbox", name="Name").fill("Ana Lopez")
    page.get_by_role("textbox", name="Email").fill("ana@example.org")
    shot(page, "chooser-1-add")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/admin/registrations/"))
    ana = Registration.objects.get(name="Ana Lopez")
    assert ana.event_id == tuesday.pk

    page.goto(f"/admin/registrations/{ana.pk}/move/")
    expect(page.locator("h1")).to_contain_text("Move to another event")
    settled(page)
    assert_admin_accessible(page)
    # The event she is on is not one to move to: the chooser leaves it out.
    page.get_by_role("button", name="Choose an event").click()
    modal = page.get_by_role("dialog")
    expect(modal.get_by_role("link", name="Thursday walk")).to_be_visible()
    expect(modal.get_by_role("link", name="Tuesday circle")).to_have_count(0)
    settled(page)
    shot(page, "chooser-2-move-offers")
    modal.get_by_role("link", name="Thursday walk").click()
    expect(modal).to_be_hidden()
    settled(page)
    expect(page.locator(".chooser__title")).to_have_text("Thursday walk")
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_text("Moved to Thursday walk (Confirmed).")).to_be_visible()
    assert thursday.registrations.confirmed().filter(name="Ana Lopez").exists()
    assert not tuesday.registrations.confirmed().exists()

    # Editing her contact details asks for no event again (the add form's
    # chooser is not on it) and saves; a bad number is refused next to its
    # field with what was typed kept.
    from django.urls import reverse

    moved = thursday.registrations.confirmed().get(name="Ana Lopez")
    page.goto(reverse("event_registrations:edit", args=[moved.pk]))
    expect(page.get_by_role("textbox", name="Phone")).to_be_visible()
    expect(page.locator(".chooser__title")).to_have_count(0)
    settled(page)
    assert_admin_accessible(page)
    page.get_by_role("textbox", name="Phone").fill("555")
    page.get_by_role("textbox", name="Name").fill("Ana M. Lopez")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error-message")).to_contain_text("Enter a phone number")
    expect(page.get_by_role("textbox", name="Name")).to_have_value("Ana M. Lopez")
    settled(page)
    assert_admin_accessible(page)
    shot(page, "chooser-3-edit-refused")
    page.get_by_role("textbox", name="Phone").fill("416-555-0123")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/admin/registrations/(\?.*)?$"))
    moved.refresh_from_db()
    assert (moved.name, str(moved.phone), moved.event_id) == (
        "Ana M. Lopez",
        "+14165550123",
        thursday.pk,
    )
