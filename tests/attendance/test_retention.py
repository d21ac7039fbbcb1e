"""Retention: past events' people are anonymised, the reports keep every
number, abandoned import files go, and a second run changes nothing."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import ModelLogEntry, PageLogEntry

from attendance.models import AttendanceRecord
from attendance.retention import apply_retention
from events.models import Registration
from events.registration import find_by_token, manage_token
from spreadsheets.models import ImportJob
from tests.conftest import make_registration_event, sign_up
from tests.privacy import (
    every_registration_and_record_field,
    holds_personal_data,
    make_past_term,
    report_numbers,
)

pytestmark = pytest.mark.django_db


def test_retention_anonymises_past_people_and_keeps_every_report_number(
    event_index,
):
    past = make_past_term(event_index, ended_days_ago=400)
    link = manage_token(past["ana"])
    before = report_numbers()
    records_before = AttendanceRecord.objects.count()

    result = apply_retention(days=365)

    assert result.registrations == 2
    assert result.walk_ins == 3  # Walker twice, and Ben's own walk-in name
    assert result.events == 1
    assert report_numbers() == before
    assert any(rows for _slug, rows in before)  # the reports have numbers
    assert AttendanceRecord.objects.count() == records_before
    assert holds_personal_data(*every_registration_and_record_field()) == []
    ana = Registration.objects.get(pk=past["ana"].pk)
    assert ana.anonymised_at is not None
    assert (ana.name, ana.email, ana.phone, ana.support_needs) == (
        "Anonymised",
        "",
        "",
        "",
    )
    assert (ana.call_times, ana.voicemail_ok, ana.phone_as_typed) == ("", False, "")
    ben = Registration.objects.get(pk=past["ben"].pk)
    assert ben.phone_as_typed == ""
    assert not Registration.objects.phone_needs_check().exists()
    assert ana.status == "confirmed"
    assert not ana.consents.exists()
    assert find_by_token(link) is None


def test_walk_ins_stay_told_apart_within_their_event(event_index):
    past = make_past_term(event_index, ended_days_ago=400)
    first, second = past["sessions"]
    AttendanceRecord.objects.create(
        session=first, walk_in_name="Zoe Park", status="present"
    )

    apply_retention(days=365)

    names = dict(
        AttendanceRecord.objects.filter(registration__isnull=True).values_list(
            "pk", "walk_in_name"
        )
    )
    assert sorted(set(names.values())) == [
        "Anonymised walk-in 1",
        "Anonymised walk-in 2",
    ]


def test_retention_leaves_recent_and_upcoming_events_alone(event_index):
    make_past_term(event_index, ended_days_ago=100, title="Recent group")
    upcoming = make_registration_event(event_index)
    person = sign_up(upcoming, name="Cy Dube", email="cy@example.org")

    result = apply_retention(days=365)

    assert (result.registrations, result.walk_ins, result.events) == (0, 0, 0)
    assert Registration.objects.filter(anonymised_at__isnull=False).count() == 0
    assert Registration.objects.get(pk=person.pk).email == "cy@example.org"


def test_the_retention_period_is_a_setting(event_index, settings):
    make_past_term(event_index, ended_days_ago=100)
    settings.GATHER_RETENTION_DAYS = 30

    assert apply_retention().registrations == 2


def test_a_second_run_changes_nothing_and_says_so(event_index, capsys):
    make_past_term(event_index, ended_days_ago=400)
    call_command("apply_retention")
    first = capsys.readouterr().out
    stored = every_registration_and_record_field()
    entries = PageLogEntry.objects.count()

    call_command("apply_retention")

    assert first.startswith("Anonymised 2 registrations and 3 walk-in names at 1 ")
    assert capsys.readouterr().out.startswith(
        "Anonymised 0 registrations and 0 walk-in names at 0 events"
    )
    assert every_registration_and_record_field() == stored
    assert PageLogEntry.objects.count() == entries


def test_the_audit_entry_holds_counts_and_no_personal_data(event_index):
    past = make_past_term(event_index, ended_days_ago=400)

    apply_retention(days=365)

    entry = PageLogEntry.objects.get(action="attendance.retention.applied")
    assert entry.page_id == past["event"].pk
    assert entry.user is None
    assert entry.data == {
        "by": "system",
        "event": past["event"].pk,
        "registrations": 2,
        "walk_ins": 3,
        "days": 365,
    }
    assert holds_personal_data(entry.label, entry.data) == []
    assert "2 registrations and 3 walk-in names" in entry.message


def test_earlier_entries_about_anonymised_people_lose_their_names(event_index):
    past = make_past_term(event_index, ended_days_ago=400)
    # As entries were labelled before registrations' labels dropped names.
    ModelLogEntry.objects.log_action(
        past["ana"], "wagtail.edit", title=f"{past['ana'].name} (Confirmed)"
    )
    assert ModelLogEntry.objects.get(action="wagtail.edit").label.startswith("Ana")

    apply_retention(days=365)

    label = ModelLogEntry.objects.get(action="wagtail.edit").label
    assert label == f"Registration {past['ana'].pk}"


def test_retention_forgets_failed_sign_ins_that_can_no_longer_lock_anyone_out(
    settings,
):
    now = timezone.now()
    fields = {"user_agent": "x", "get_data": "", "post_data": "", "http_accept": ""}
    old = AccessAttempt.objects.create(
        username="sam", ip_address="192.0.2.1", failures_since_start=4, **fields
    )
    recent = AccessAttempt.objects.create(
        username="kim", ip_address="192.0.2.2", failures_since_start=2, **fields
    )
    AccessAttempt.objects.filter(pk=old.pk).update(
        attempt_time=now - settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)
    )

    result = apply_retention(days=365)

    assert result.sign_in_failures_deleted == 1
    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [recent.pk]
    assert apply_retention(days=365).sign_in_failures_deleted == 0


def test_retention_clears_abandoned_import_previews_and_old_jobs():
    now = timezone.now()
    abandoned = ImportJob.objects.create(
        resource="registrations",
        file_name="people.csv",
        data=b"name,email\nAna,ana@example.org\n",
        status=ImportJob.Status.PREVIEWED,
        preview={"rows": [["Ana", "ana@example.org"]]},
    )
    old = ImportJob.objects.create(resource="venues", file_name="venues.csv")
    ImportJob.objects.filter(pk=abandoned.pk).update(
        updated_at=now - dt.timedelta(days=2)
    )
    ImportJob.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=8))

    result = apply_retention(days=365)

    assert (result.import_jobs_deleted, result.previews_cleared) == (1, 1)
    abandoned.refresh_from_db()
    assert bytes(abandoned.data) == b""
    assert abandoned.preview == {}
    assert not ImportJob.objects.filter(pk=old.pk).exists()
