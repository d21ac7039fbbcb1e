"""The admin screens: upload, dry-run preview with every problem by row and
column, confirm, background jobs with progress, recent imports, and the
Export/Import buttons of the listings."""

import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.models import Venue
from spreadsheets.jobs import Progress, progress_key
from spreadsheets.models import ImportJob
from tests.conftest import (
    admin_heading,
    make_event,
    make_registration_event,
    make_session,
)
from tests.spreadsheets.support import (
    csv_bytes,
    export,
)

pytestmark = pytest.mark.django_db

VENUES = [["name", "setting"], ["Hall", "community"], ["Ward", "hospital"]]


def _upload(client, key, content, name="venues.csv", **data):
    return client.post(
        reverse("spreadsheets_import", args=[key]),
        {"file": SimpleUploadedFile(name, content), **data},
    )


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"name,setting\nHall,community\n", "venues.pdf", "ends in “.pdf”"),
        ("name,setting\nZoë,community\n".encode("latin-1"), "venues.csv", "UTF-8"),
        (b"", "venues.csv", "The submitted file is empty."),
        (b"\n\n", "venues.csv", "The file is empty."),
        (
            b"room,address\nA,B\n",
            "venues.csv",
            "These columns are missing: name, setting",
        ),
        (b"not a zip", "venues.xlsx", "not an Excel workbook"),
    ],
)
def test_bad_files_get_a_message_next_to_the_field(
    client, coordinator, content, name, message
):
    client.force_login(coordinator)
    response = _upload(client, "venues", content, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_upload_preview_then_confirm(client, coordinator):
    client.force_login(coordinator)
    assert (
        client.get(reverse("spreadsheets_import", args=["venues"])).status_code == 200
    )
    response = _upload(client, "venues", csv_bytes(VENUES))
    job = ImportJob.objects.get()
    assert response.url == reverse("spreadsheets_job", args=[job.pk])
    page = client.get(response.url).content.decode()
    assert "What the import will do" in page
    assert page.count('<span class="action">New</span>') == 2
    assert "Import now" in page
    assert not Venue.objects.exists()
    confirm_url = reverse("spreadsheets_confirm", args=[job.pk])
    assert client.post(confirm_url).status_code == 302
    assert Venue.objects.count() == 2
    client.post(confirm_url)  # a second click imports nothing more
    assert Venue.objects.count() == 2
    page = client.get(response.url).content.decode()
    assert "Imported: 2 new, 0 updated, 0 unchanged." in page


def test_preview_shows_each_problem_next_to_its_row_and_column(client, coordinator):
    client.force_login(coordinator)
    rows = [
        ["name", "setting"],
        ["Hall", "castle"],
        ["", "community"],
        ["Ok", "online"],
    ]
    rows[3][1] = "hospital"
    response = _upload(client, "venues", csv_bytes(rows))
    page = client.get(response.url).content.decode()
    assert "Nothing will be imported while any row has a problem" in page
    assert "Import now" not in page
    assert (
        '<td class="problem">castle<span class="cell-error">setting must be one of'
        in page
    )
    assert "Every venue needs a name." in page
    only = client.get(response.url, {"problems": "1"}).content.decode()
    assert only.count('<tr class="problem">') == 2 and '<tr class="new">' not in only
    assert '<tr class="new">' in page


@pytest.mark.tasks
def test_large_files_run_as_a_background_task(
    client, coordinator, settings, task_backend, run_tasks
):
    settings.GATHER_IMPORT_BACKGROUND_ROWS = 1
    client.force_login(coordinator)
    response = _upload(client, "venues", csv_bytes(VENUES))
    job = ImportJob.objects.get()
    # The immediate backend has run the check already; a real one has queued it.
    assert job.status == (
        "previewed" if task_backend == "immediate" else "preview_queued"
    )
    assert run_tasks() == (0 if task_backend == "immediate" else 1)
    job.refresh_from_db()
    assert job.status == "previewed"
    client.post(reverse("spreadsheets_confirm", args=[job.pk]))
    run_tasks()
    job.refresh_from_db()
    assert job.status == "done" and Venue.objects.count() == 2
    assert client.get(response.url).status_code == 200


def test_progress_shows_while_running_and_survives_a_reload(client, coordinator):
    job = ImportJob.objects.create(
        resource="venues",
        user=coordinator,
        file_name="big.csv",
        status="importing",
        total_rows=5000,
        processed_rows=1000,
    )
    client.force_login(coordinator)
    page = client.get(reverse("spreadsheets_job", args=[job.pk])).content.decode()
    assert '<progress max="5000" value="1000"' in page
    # It checks again itself (job-progress.js), and has a link to, without a
    # timed reload (WCAG 2.2.1).
    assert 'data-job-progress="running"' in page and "job-progress.js" in page
    assert "Check again" in page and 'http-equiv="refresh"' not in page
    progress = Progress(job)
    progress(1250)  # what the worker reports from inside its transaction
    progress.close_side()
    assert cache.get(progress_key(job.pk)) == 1250
    page = client.get(reverse("spreadsheets_job", args=[job.pk])).content.decode()
    assert '<progress max="5000" value="1250"' in page and "25%" in page
    jobs = client.get(reverse("spreadsheets_jobs")).content.decode()
    assert "big.csv" in jobs and "Importing" in jobs


def test_other_peoples_jobs_are_not_found(client, coordinator, staff_member):
    job = ImportJob.objects.create(
        resource="venues", user=coordinator, file_name="x.csv"
    )
    client.force_login(staff_member)
    assert client.get(reverse("spreadsheets_job", args=[job.pk])).status_code == 404
    assert (
        client.post(reverse("spreadsheets_confirm", args=[job.pk])).status_code == 404
    )


def test_listings_offer_export_with_their_filters_and_import(
    client, coordinator, event_index
):
    event = make_registration_event(event_index)
    make_session(make_event(event_index))
    client.force_login(coordinator)
    sessions = client.get(reverse("event_sessions:index"), {"event": event.pk}).content
    sessions = sessions.decode()
    assert (
        f"/admin/spreadsheets/export/schedule/?event={event.pk}&amp;format=xlsx"
        in sessions
    )
    assert (
        f"/admin/spreadsheets/export/attendance/?event={event.pk}&amp;format=csv"
        in sessions
    )
    assert reverse("spreadsheets_import", args=["schedule"]) in sessions
    registrations = client.get(
        reverse("event_registrations:index"), {"event": event.pk, "status": "confirmed"}
    ).content.decode()
    assert (
        f"/admin/spreadsheets/export/registrations/?event={event.pk}&amp;status=confirmed"
        "&amp;format=json" in registrations
    )
    venues = client.get(reverse("wagtailsnippets_events_venue:list")).content.decode()
    assert "/admin/spreadsheets/export/venues/?format=csv" in venues
    assert "Download CSV" not in venues  # Wagtail's own, unneutralised export is gone


def test_personal_data_buttons_are_hidden_from_people_not_allowed(
    client, staff_member, coordinator, event_index
):
    make_registration_event(event_index, title="Hearing Voices group")

    def listing(name):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "paginator" in response.context  # the listing itself is shown
        return response.content.decode()

    client.force_login(staff_member)
    page = listing("event_registrations:index")
    assert reverse("spreadsheets_import", args=["schedule"]) in page
    assert "/spreadsheets/export/registrations/" not in page
    page = listing("event_sessions:index")
    assert "/spreadsheets/export/schedule/" in page
    assert "/spreadsheets/export/attendance/" not in page

    client.force_login(coordinator)  # the same screens offer them to a coordinator
    assert "/spreadsheets/export/registrations/" in listing("event_registrations:index")
    assert "/spreadsheets/export/attendance/" in listing("event_sessions:index")


def test_bad_export_requests_do_not_fail(client, coordinator):
    client.force_login(coordinator)
    url = reverse("spreadsheets_export", args=["registrations"])
    assert client.get(url, {"format": "pdf"}).status_code == 400
    response = client.get(url, {"format": "csv", "event": "not-a-number"})
    assert response.status_code == 302
    assert client.get(reverse("spreadsheets_export", args=["nope"])).status_code == 404


@pytest.mark.parametrize("key", ["registrations", "venues"])
def test_an_export_searching_for_a_nul_character_does_not_fail(
    client, coordinator, key
):
    """No column holds a NUL, and PostgreSQL refuses one in a query and in
    the audit log's JSON: it is dropped from the search words."""
    from wagtail.models import ModelLogEntry

    client.force_login(coordinator)
    url = reverse("spreadsheets_export", args=[key])
    response = client.get(url, {"format": "csv", "q": "Ha\x00ll"})
    assert response.status_code == 200
    entry = ModelLogEntry.objects.get(action="spreadsheets.export")
    assert entry.data["filters"] == {"search": "Hall"}


@pytest.mark.parametrize("key", ["venues", "schedule", "registrations", "attendance"])
def test_an_empty_export_still_has_its_header_row(client, coordinator, key):
    from openpyxl import load_workbook

    from spreadsheets.registry import resource_class

    client.force_login(coordinator)
    columns = list(resource_class(key).columns)
    response = export(client, key, "csv")
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").splitlines() == [",".join(columns)]
    book = load_workbook(io.BytesIO(export(client, key, "xlsx").content))
    assert [c.value for c in book.active[1]] == columns


def test_import_screens_have_their_title_and_the_file_name(client, coordinator):
    """Each screen keeps Wagtail's h1 (a template variable called ``heading``
    used to replace it with bare text)."""
    client.force_login(coordinator)
    upload = client.get(reverse("spreadsheets_import", args=["venues"]))
    assert admin_heading(upload) == "Import Venues"
    response = _upload(client, "venues", csv_bytes(VENUES), "our venues.csv")
    assert admin_heading(client.get(response.url)) == "Import Venues our venues.csv"
    recent = client.get(reverse("spreadsheets_jobs"))
    assert admin_heading(recent) == "Recent imports"
    # The links to each import are a list of their own, styled as 24 px targets.
    assert '<ul class="gather-imports__links">' in recent.content.decode()
