"""A coordinator's large export on a phone, in a real browser: asked for
from the registrations listing, it is built in the background
(``spreadsheets.exports``), so they land on its progress page, which
updates itself in place until the file is ready (without JavaScript, its
"Check again" link does); they download it and find it under "Recent
exports". Another person who may export that event's registrations cannot
open the job or its file. Every screen is checked with axe-core and
photographed under ``E2E_SHOTS``.

The thresholds are lowered (``GATHER_BACKGROUND_EXPORT_ROWS``) so a few
people take the background path, and tasks are stored by the database
task backend, as ``GATHER_TEST_TASKS=db`` does, so the page is seen
waiting before the test runs the worker.
"""

import csv
import re

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect

from events.groups import FACILITATORS_GROUP
from spreadsheets.models import ExportJob
from tests.conftest import make_registration_event, sign_up
from tests.e2e.support import assert_accessible, assert_admin_accessible
from tests.e2e.test_coordinator_journeys import PASSWORD, sign_in
from tests.e2e.test_event_chooser_journey import settled
from tests.e2e.test_messaging_journeys import shot
from website.demo.builder import build_groups

PEOPLE = ["Ana Lopez", "Ben Ode", "Cy Park", "Dee Kim", "Eli Moss"]


@pytest.fixture
def facilitator(site, django_user_model):
    """A facilitator allowed to see their event's registrations (so allowed
    to export them): only the job's owner stops them."""
    build_groups()
    user = django_user_model.objects.create_user(
        "fay", email="fay@example.org", password=PASSWORD
    )
    user.groups.add(Group.objects.get(name=FACILITATORS_GROUP))
    user.user_permissions.add(Permission.objects.get(codename="view_registration"))
    return user


def test_a_large_export_is_made_in_the_background_then_downloaded(
    coordinator, facilitator, event_index, browser_context, settings, stored_tasks
):
    settings.GATHER_BACKGROUND_EXPORT_ROWS = 3
    event = make_registration_event(event_index, capacity=10, title="Tuesday circle")
    event.facilitators.add(facilitator)
    event.save()
    for number, name in enumerate(PEOPLE):
        sign_up(event, name, email=f"p{number}@example.org")

    page = browser_context().new_page()
    sign_in(page, coordinator)
    page.goto(f"/admin/registrations/?event={event.pk}")
    expect(page.locator("#listing-results").get_by_text("Eli Moss")).to_be_visible()
    page.locator("header").get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Export registrations as CSV").click()

    # Five rows, more than three: the export is queued, and its page says so.
    page.wait_for_url(re.compile(r"/admin/spreadsheets/exports/\d+/$"))
    job = ExportJob.objects.get()
    assert (job.user, job.status, job.total_rows) == (coordinator, "queued", 5)
    expect(page.locator("h1")).to_contain_text("Export Registrations")
    progress = page.locator(".gather-export").get_by_role("status")
    expect(progress).to_have_text("0 of 5 rows (0%).")
    expect(page.get_by_role("link", name="Check again")).to_be_visible()
    # No timed reload (axe's meta-refresh rule, WCAG 2.2.1): the page asks
    # for itself again and updates in place.
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    settled(page)
    assert_admin_accessible(page)
    shot(page, "export-1-waiting")

    # The same page without JavaScript, to be checked again by its link.
    no_script = browser_context(java_script_enabled=False).new_page()
    sign_in(no_script, coordinator)
    no_script.goto(f"/admin/spreadsheets/exports/{job.pk}/")
    progress = no_script.locator(".gather-export").get_by_role("status")
    expect(progress).to_have_text("0 of 5 rows (0%).")

    # The heading the script is to keep in place while it updates the page.
    page.locator("h1").evaluate("(heading) => { heading.dataset.kept = 'yes'; }")
    stored_tasks()  # the export, and the sign-ups' emails
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.message

    # With JavaScript the page says so by itself, without reloading, and
    # moves focus to the news; without, a click on "Check again" does.
    ready = "The file is ready: 5 rows."
    expect(page.get_by_text(ready)).to_be_visible(timeout=10_000)
    expect(page.locator("h1")).to_have_attribute("data-kept", "yes")
    expect(page.get_by_role("status").filter(has_text=ready)).to_be_focused()
    no_script.get_by_role("link", name="Check again").click()
    expect(no_script.get_by_text(ready)).to_be_visible()
    expect(no_script.get_by_role("link", name="Check again")).to_have_count(0)
    shot(no_script, "export-2-ready-without-javascript")
    settled(page)
    assert_admin_accessible(page)
    shot(page, "export-2-ready")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"Download {job.file_name}").click()
    download = download_info.value
    assert download.suggested_filename == job.file_name
    with open(download.path(), encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0][:3] == ["event_id", "event", "name"]
    assert len(rows) == 1 + len(PEOPLE)
    assert sorted(row[2] for row in rows[1:]) == PEOPLE

    page.get_by_role("link", name="Recent exports").click()
    expect(page.locator("h1")).to_contain_text("Recent exports")
    row = page.get_by_role("row").filter(has_text=job.file_name)
    expect(row).to_contain_text("Registrations")
    expect(row).to_contain_text("Ready to download")
    expect(row.get_by_role("cell").nth(2)).to_have_text("5")
    settled(page)
    assert_admin_accessible(page)
    shot(page, "export-3-recent")
    # On a phone each export is a card within the screen's width (the
    # admin scrolls inside its own panel, so the page's width says nothing).
    box = row.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375

    # Someone else, who may export that event's registrations too, gets a
    # 404 for the job and its file, and sees no export in their list.
    other = browser_context().new_page()
    sign_in(other, facilitator)
    for url in (
        f"/admin/spreadsheets/exports/{job.pk}/",
        f"/admin/spreadsheets/exports/{job.pk}/download/",
    ):
        response = other.goto(url)
        assert response.status == 404, url
        assert "Ana Lopez" not in other.content()
    other.goto("/admin/spreadsheets/exports/")
    expect(other.get_by_text("No large exports in the last day.")).to_be_visible()
    expect(other.get_by_text(job.file_name)).to_have_count(0)
    assert_accessible(other, impacts={"serious", "critical"})


def test_a_large_import_is_checked_then_made_in_the_background(
    coordinator, browser_context, settings, stored_tasks, tmp_path
):
    """The import's page updates in place the same way: the preview, with
    its "Import now" button, comes in by itself, and so does the outcome."""
    from events.models import Venue

    settings.GATHER_IMPORT_BACKGROUND_ROWS = 1
    venues = tmp_path / "venues.csv"
    venues.write_text("name,setting\nLibrary hall,community\nWard 4,hospital\n")
    page = browser_context().new_page()
    sign_in(page, coordinator)
    page.goto("/admin/spreadsheets/import/venues/")
    page.get_by_label("File").set_input_files(venues)
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_url(re.compile(r"/admin/spreadsheets/imports/\d+/$"))
    progress = page.locator(".gather-import").get_by_role("status")
    expect(progress).to_contain_text("0 of 2 rows (0%).")
    expect(page.get_by_role("link", name="Check again")).to_be_visible()
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    settled(page)
    assert_admin_accessible(page)
    shot(page, "import-1-waiting")

    page.locator("h1").evaluate("(heading) => { heading.dataset.kept = 'yes'; }")
    stored_tasks()
    expect(page.get_by_text("What the import will do")).to_be_visible(timeout=10_000)
    expect(page.locator("h1")).to_have_attribute("data-kept", "yes")
    assert not Venue.objects.exists()
    settled(page)
    assert_admin_accessible(page)
    shot(page, "import-2-preview")

    page.get_by_role("button", name="Import now").click()
    expect(page.get_by_role("link", name="Check again")).to_be_visible()
    stored_tasks()
    expect(page.get_by_text("What the import did")).to_be_visible(timeout=10_000)
    assert set(Venue.objects.values_list("name", flat=True)) == {
        "Library hall",
        "Ward 4",
    }
    settled(page)
    assert_admin_accessible(page)
    shot(page, "import-3-done")
