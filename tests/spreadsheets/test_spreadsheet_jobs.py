"""Import jobs past retention, and the registry through which apps offer
their resources to the engine."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks

from spreadsheets.jobs import JOB_RETENTION, PREVIEW_RETENTION, purge_old_jobs
from spreadsheets.models import ImportJob
from spreadsheets.registry import resource_class, resources
from tests.spreadsheets.support import csv_bytes, make_job

VENUES = csv_bytes([["name", "setting"], ["Library", "community"]])


def _age(job, *, created=None, updated=None):
    ImportJob.objects.filter(pk=job.pk).update(
        **({"created_at": created} if created else {}),
        **({"updated_at": updated} if updated else {}),
    )


@pytest.mark.django_db
def test_purge_deletes_old_jobs_and_clears_abandoned_previews(admin_user):
    now = timezone.now()
    old = make_job(admin_user, "venues", VENUES)
    abandoned = make_job(admin_user, "venues", VENUES)
    fresh = make_job(admin_user, "venues", VENUES)
    assert abandoned.status == ImportJob.Status.PREVIEWED
    assert abandoned.preview["rows"], "the preview holds the file's rows"
    _age(old, created=now - JOB_RETENTION - dt.timedelta(minutes=1))
    _age(abandoned, updated=now - PREVIEW_RETENTION - dt.timedelta(minutes=1))

    assert purge_old_jobs(now=now) == (1, 1)

    assert not ImportJob.objects.filter(pk=old.pk).exists()
    abandoned.refresh_from_db()
    assert abandoned.status == ImportJob.Status.FAILED
    assert bytes(abandoned.data) == b""
    assert abandoned.preview == {}
    assert "expired" in abandoned.message
    fresh.refresh_from_db()
    assert fresh.status == ImportJob.Status.PREVIEWED
    assert bytes(fresh.data) == VENUES


@pytest.mark.django_db
def test_uploading_no_longer_purges_and_the_command_does(admin_client, admin_user):
    old = make_job(admin_user, "venues", VENUES)
    _age(old, created=timezone.now() - JOB_RETENTION - dt.timedelta(hours=1))

    upload = SimpleUploadedFile("venues.csv", VENUES, content_type="text/csv")
    response = admin_client.post(
        reverse("spreadsheets_import", args=["venues"]), {"file": upload}
    )
    assert response.status_code == 302
    assert ImportJob.objects.count() == 2
    assert ImportJob.objects.filter(pk=old.pk).exists()

    out = io.StringIO()
    call_command("purge_import_jobs", stdout=out)
    assert not ImportJob.objects.filter(pk=old.pk).exists()
    assert "Deleted 1 old import jobs" in out.getvalue()


def test_apps_register_their_resources_in_menu_order():
    registered = resources()

    assert list(registered) == ["venues", "schedule", "registrations", "attendance"]
    assert all(cls.menu_label for cls in registered.values())
    assert resource_class("attendance").__module__ == "attendance.resources"


def test_an_unknown_resource_is_a_404():
    with pytest.raises(Http404):
        resource_class("passwords")


def test_two_resources_with_one_key_are_refused():
    venues = resource_class("venues")

    with hooks.register_temporarily("register_spreadsheet_resources", lambda: [venues]):
        with pytest.raises(ValueError, match="venues"):
            resources()


@pytest.mark.django_db
def test_an_expired_preview_says_so_and_cannot_be_imported(admin_client, admin_user):
    job = make_job(admin_user, "venues", VENUES)
    _age(job, updated=timezone.now() - PREVIEW_RETENTION - dt.timedelta(minutes=1))
    purge_old_jobs()

    response = admin_client.get(reverse("spreadsheets_job", args=[job.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "This check expired" in page
    assert "Import now" not in page

    response = admin_client.post(reverse("spreadsheets_confirm", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert not ImportJob.objects.filter(status=ImportJob.Status.DONE).exists()
