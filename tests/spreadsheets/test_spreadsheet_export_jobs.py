"""Background exports: an export over ``GATHER_BACKGROUND_EXPORT_ROWS`` is
built by a task into a private file (the same file as the request would
have written), with progress; only its owner downloads it, each download is
logged, and retention deletes it."""

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.models import ModelLogEntry

from events.models import RegistrationAnswer, RegistrationQuestion
from spreadsheets import exports
from spreadsheets.exports import run_export
from spreadsheets.models import ExportJob, export_storage
from tests.conftest import make_registration_event, sign_up
from tests.spreadsheets.support import export

NAMES = ["Ana", "Ben", "Cleo", "Dev", "=Eve"]


@pytest.fixture
def people(event_index):
    """Five people on one event (each answering its question), one on
    another event."""
    event = make_registration_event(event_index, capacity=10, title="Tuesday")
    question = RegistrationQuestion.objects.create(
        event=event, label="Best time", kind="text", sort_order=0
    )
    for number, name in enumerate(NAMES):
        registration = sign_up(event, name=name, email=f"p{number}@example.org")
        RegistrationAnswer.objects.create(
            registration=registration, question=question, value=f"time {number}"
        )
    other = make_registration_event(event_index, capacity=10, title="Thursday")
    sign_up(other, name="Olga", email="olga@example.org")
    return event


@pytest.fixture
def small_chunks(monkeypatch):
    """Two rows a chunk, so five rows take three."""
    monkeypatch.setattr(exports, "EXPORT_CHUNK_ROWS", 2)


def _in_request(client, settings, file_format, event):
    settings.GATHER_BACKGROUND_EXPORT_ROWS = 1000
    response = export(client, "registrations", file_format, event=event.pk)
    assert response.status_code == 200
    return response.content


def _queued(client, settings, file_format, event):
    settings.GATHER_BACKGROUND_EXPORT_ROWS = 4
    response = export(client, "registrations", file_format, event=event.pk)
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("spreadsheets_export_job", args=[job.pk])
    return job


def test_an_export_under_the_threshold_stays_in_the_request(
    client, coordinator, people, settings
):
    client.force_login(coordinator)
    settings.GATHER_BACKGROUND_EXPORT_ROWS = 5
    response = export(client, "registrations", event=people.pk)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "Cleo" in response.content.decode("utf-8-sig")
    assert not ExportJob.objects.exists()


def test_an_export_over_the_threshold_is_built_by_a_task_with_progress(
    client, coordinator, people, settings, small_chunks, monkeypatch
):
    client.force_login(coordinator)
    in_request = _in_request(client, settings, "csv", people)
    job = _queued(client, settings, "csv", people)
    assert (job.user, job.export, job.file_format) == (
        coordinator,
        "registrations",
        "csv",
    )
    assert job.status == ExportJob.Status.QUEUED and job.total_rows == 5
    assert job.filters["event"] == str(people)
    assert not job.file
    page = client.get(reverse("spreadsheets_export_job", args=[job.pk]))
    html = page.content.decode()
    assert 'data-job-progress="running"' in html and "Check again" in html
    assert 'http-equiv="refresh"' not in html  # no timed reload (WCAG 2.2.1)
    # No download before the file is made.
    download_url = reverse("spreadsheets_export_download", args=[job.pk])
    assert client.get(download_url)["Location"] == page.request["PATH_INFO"]

    seen = []
    write_rows = exports.ExportWriter.write_rows

    def recording(writer, rows):
        # What the job's page would show while this chunk is written.
        seen.append(ExportJob.objects.get(pk=job.pk).processed_rows)
        write_rows(writer, rows)

    monkeypatch.setattr(exports.ExportWriter, "write_rows", recording)
    run_export(job.pk)
    job.refresh_from_db()
    assert seen == [0, 2, 4]
    assert job.status == ExportJob.Status.DONE, job.message
    assert job.processed_rows == job.total_rows == 5
    assert job.finished_at is not None
    # A random name in the private storage, outside the public media.
    assert job.file.name.startswith("exports/") and "registrations" not in job.file.name
    assert export_storage().exists(job.file.name)
    assert not str(export_storage().path(job.file.name)).startswith(
        str(settings.MEDIA_ROOT)
    )
    with job.file.open("rb") as stored:
        content = stored.read()
    # The very file the request writes: header row, every row, each answer.
    assert content == in_request
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["event_id", "event", "name"] and rows[0][-1] == "Best time"
    assert [row[2] for row in rows[1:]] == ["Ana", "Ben", "Cleo", "Dev", "'=Eve"]
    assert [row[-1] for row in rows[1:]] == [f"time {n}" for n in range(5)]

    page = client.get(reverse("spreadsheets_export_job", args=[job.pk]))
    assert 'data-job-progress="ended"' in page.content.decode()
    assert download_url in page.content.decode()


@pytest.mark.parametrize("file_format", ["xlsx", "json"])
def test_a_background_export_writes_the_same_file_in_every_format(
    client, coordinator, people, settings, small_chunks, file_format
):
    client.force_login(coordinator)
    in_request = _in_request(client, settings, file_format, people)
    job = _queued(client, settings, file_format, people)
    run_export(job.pk)
    job.refresh_from_db()
    with job.file.open("rb") as stored:
        content = stored.read()
    if file_format == "json":
        assert content == in_request
        assert [row["name"] for row in json.loads(content)] == NAMES
    else:

        def cells(data):
            return [
                [cell.value for cell in row]
                for row in load_workbook(io.BytesIO(data)).active.iter_rows()
            ]

        assert cells(content) == cells(in_request)
        assert len(cells(content)) == 6


def test_only_the_owner_downloads_and_each_download_is_logged(
    client, coordinator, people, settings, django_user_model, staff_member
):
    from django.contrib.auth.models import Group

    client.force_login(coordinator)
    job = _queued(client, settings, "csv", people)
    run_export(job.pk)
    urls = [
        reverse("spreadsheets_export_job", args=[job.pk]),
        reverse("spreadsheets_export_download", args=[job.pk]),
    ]
    other = django_user_model.objects.create_user("other-coord", password="pw")
    other.groups.add(Group.objects.get(name="Coordinators"))
    root = django_user_model.objects.create_superuser("root", password="pw")
    for someone in (other, root, staff_member):
        client.force_login(someone)
        assert [client.get(url).status_code for url in urls] == [404, 404]
    client.logout()
    assert all(client.get(url).status_code == 302 for url in urls)
    assert not ModelLogEntry.objects.filter(action="spreadsheets.export").exists()

    client.force_login(coordinator)
    response = client.get(urls[1])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert job.file_name in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Cleo" in body and "Olga" not in body
    entry = ModelLogEntry.objects.get(action="spreadsheets.export")
    assert entry.user == coordinator
    assert entry.data["job"] == job.pk
    assert entry.data["rows"] == 5
    assert entry.data["personal_data"] is True
    assert entry.data["filters"]["event"] == str(people)
    # No one's details in the log's title.
    assert "Cleo" not in entry.label

    # Moved from the Coordinators to the Editors: still in the admin, but
    # no longer allowed the export, so no longer theirs to download.
    coordinator.groups.set(staff_member.groups.all())
    # (The admin answers a refusal by sending them to its dashboard.)
    for url in urls:
        assert client.get(url)["Location"] == reverse("wagtailadmin_home")
    assert ModelLogEntry.objects.filter(action="spreadsheets.export").count() == 1


def test_the_task_refuses_someone_no_longer_allowed(
    client, coordinator, people, settings
):
    client.force_login(coordinator)
    job = _queued(client, settings, "csv", people)
    coordinator.groups.clear()
    run_export(job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert "not allowed" in job.message
    assert not job.file
    # A job is built once, whatever the number of workers.
    ExportJob.objects.filter(pk=job.pk).update(message="")
    run_export(job.pk)
    job.refresh_from_db()
    assert job.message == ""


def test_the_recent_exports_page_lists_only_the_user_s_own(
    client, coordinator, people, settings, django_user_model
):
    client.force_login(coordinator)
    job = _queued(client, settings, "csv", people)
    html = client.get(reverse("spreadsheets_exports")).content.decode()
    assert reverse("spreadsheets_export_job", args=[job.pk]) in html
    root = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(root)
    html = client.get(reverse("spreadsheets_exports")).content.decode()
    assert reverse("spreadsheets_export_job", args=[job.pk]) not in html


def test_retention_deletes_old_exports_and_their_files(
    client, coordinator, people, settings
):
    client.force_login(coordinator)
    settings.GATHER_BACKGROUND_EXPORT_ROWS = 4
    settings.GATHER_EXPORT_RETENTION_HOURS = 24
    export(client, "registrations", event=people.pk)
    export(client, "registrations", "xlsx", event=people.pk)
    old, recent = ExportJob.objects.order_by("pk")
    for job in (old, recent):
        run_export(job.pk)
        job.refresh_from_db()
    ExportJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )
    out = io.StringIO()
    call_command("purge_export_jobs", stdout=out)
    assert "Deleted 1 old background exports." in out.getvalue()
    assert list(ExportJob.objects.all()) == [recent]
    assert not export_storage().exists(old.file.name)
    assert export_storage().exists(recent.file.name)


def test_asking_again_for_a_running_export_returns_its_job(
    client, coordinator, people, settings, event_index, django_user_model
):
    """A second click on Export while the file is queued or being built
    lands on the same job's page; nothing is queued twice."""
    from django.contrib.auth.models import Group

    client.force_login(coordinator)
    job = _queued(client, settings, "csv", people)
    for status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING):
        ExportJob.objects.filter(pk=job.pk).update(status=status)
        response = export(client, "registrations", "csv", event=people.pk)
        assert response["Location"] == reverse("spreadsheets_export_job", args=[job.pk])
        assert list(ExportJob.objects.all()) == [job]

    # Another format, other filters or another person: another export.
    export(client, "registrations", "xlsx", event=people.pk)
    other_event = make_registration_event(event_index, capacity=10, title="Friday")
    for number in range(5):
        sign_up(other_event, name=f"F{number}", email=f"f{number}@example.org")
    export(client, "registrations", "csv", event=other_event.pk)
    someone = django_user_model.objects.create_user("other-coord", password="pw")
    someone.groups.add(Group.objects.get(name="Coordinators"))
    client.force_login(someone)
    export(client, "registrations", "csv", event=people.pk)
    assert ExportJob.objects.count() == 4

    # A finished or failed job does not count: asking again builds anew.
    client.force_login(coordinator)
    for status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
        ExportJob.objects.filter(pk=job.pk).update(status=status)
        before = set(ExportJob.objects.values_list("pk", flat=True))
        response = export(client, "registrations", "csv", event=people.pk)
        (new,) = ExportJob.objects.exclude(pk__in=before)
        assert response["Location"] == reverse("spreadsheets_export_job", args=[new.pk])
        ExportJob.objects.filter(pk=new.pk).update(status=ExportJob.Status.DONE)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_for_the_same_export_make_one_job(
    django_user_model, monkeypatch
):
    """Requests racing on their own connections: the user's row lock in
    ``start_export`` lets only one of them create the job."""
    from tests.events.test_concurrency import _run_at_once

    queued = []
    monkeypatch.setattr(
        exports, "enqueue_on_commit", lambda task, pk: queued.append(pk)
    )
    user = django_user_model.objects.create_user("racer", password="pw")
    returned = []

    def ask():
        returned.append(
            exports.start_export(
                user=user,
                export="registrations",
                file_format="csv",
                query={"format": ["csv"], "event": ["7"]},
                filters={},
                total_rows=5000,
                file_name="registrations.csv",
            ).pk
        )

    errors = _run_at_once([ask for _ in range(8)])
    assert errors == []
    job = ExportJob.objects.get()
    assert returned == [job.pk] * 8
    assert queued == [job.pk]
