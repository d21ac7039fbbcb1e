"""Builders shared by the retention and erasure tests: a term that is over,
with registrants, walk-ins and attendance, and every report's numbers."""

import datetime as dt
import uuid

from django.utils import timezone

from attendance.models import AttendanceRecord
from attendance.reports import ReportFilters, build_reports
from events.consent import record_given
from events.models import Consent, Registration
from tests.conftest import make_event, make_session

#: Personal details the past term holds; none may remain once anonymised.
PERSONAL = [
    "Ana Rivera",
    "ana@example.org",
    "416 555 0101",
    "+14165550101",
    "After 4 on weekdays",
    "Ben Okafor",
    "Ben's cell 555-0188",
    "ben@example.org",
    "Walker Stone",
    "Needs a quiet room",
]


def registrant(event, name, *, email="", phone="", status="confirmed", **fields):
    """A registration written directly, without the sign-up rules."""
    return Registration.objects.create(
        event=event,
        name=name,
        email=email,
        phone=phone,
        status=status,
        token_salt=uuid.uuid4().hex,
        manage_token_hash=uuid.uuid4().hex,
        **fields,
    )


def make_past_term(index, *, ended_days_ago: int, title="Past group"):
    """A group whose two sessions ended ``ended_days_ago`` days ago (and a
    week before), with Ana (support needs, times to call, voicemail allowed,
    consent to email and calls), Ben (a phone number kept as typed,
    cancelled after coming once) and a walk-in, Walker, who came twice."""
    event = make_event(index, title=title, kind="group", capacity=10)
    last_start = timezone.now() - dt.timedelta(days=ended_days_ago, hours=3)
    first = make_session(event, start=last_start - dt.timedelta(days=7))
    second = make_session(event, start=last_start)
    created = last_start - dt.timedelta(days=30)
    ana = registrant(
        event,
        "Ana Rivera",
        email="ana@example.org",
        phone="416 555 0101",
        support_needs="Needs a quiet room",
        call_times="After 4 on weekdays",
        voicemail_ok=True,
    )
    record_given(ana, ["email", "call"])
    # A number kept as typed, because it could not be read (migration 0010).
    ben = registrant(
        event,
        "Ben Okafor",
        email="ben@example.org",
        phone_as_typed="Ben's cell 555-0188",
        status="cancelled",
    )
    Registration.objects.filter(pk__in=[ana.pk, ben.pk]).update(created_at=created)
    for session, status in [(first, "present"), (second, "late")]:
        AttendanceRecord.objects.create(
            session=session, registration=ana, status=status
        )
        AttendanceRecord.objects.create(
            session=session, walk_in_name="Walker Stone", status="present"
        )
    AttendanceRecord.objects.create(session=first, registration=ben, status="present")
    AttendanceRecord.objects.create(
        session=second, registration=ben, walk_in_name="Ben O", status="absent"
    )
    return {"event": event, "ana": ana, "ben": ben, "sessions": [first, second]}


def report_numbers(*, days_back=800):
    """Every report's rows and totals over the last ``days_back`` days."""
    today = timezone.localdate()
    filters = ReportFilters(
        date_from=today - dt.timedelta(days=days_back), date_to=today
    )
    return [(report.slug, report.all_rows()) for report in build_reports(filters)]


def holds_personal_data(*values) -> list[str]:
    """Which of ``PERSONAL`` appear in any of ``values``."""
    text = " ".join(str(value) for value in values)
    return [detail for detail in PERSONAL if detail in text]


def every_registration_and_record_field():
    """Every stored value of every registration and attendance record."""
    return [
        *Registration.objects.values_list(),
        *AttendanceRecord.objects.values_list(),
        *Consent.objects.values_list(),
    ]
