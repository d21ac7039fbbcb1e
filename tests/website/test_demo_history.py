"""The demo's people and past term: what a new coordinator does with them
(export, edit and re-import registrations; import a term; read reports).

The first test builds its own demo; the rest share one build per module
(``demo``, tests/website/conftest.py), each test's changes undone after it.
"""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from attendance.models import AttendanceRecord, FollowUp, Headcount, SessionNote
from events.models import CallRequest, EventIndexPage, EventPage, Registration
from spreadsheets.formats import unneutralise
from spreadsheets.models import ImportJob
from tests.conftest import make_event
from tests.spreadsheets.support import csv_bytes
from website.demo.content import load_content
from website.demo.history import ATTENDED

pytestmark = pytest.mark.django_db

CONTENT = load_content()
NAMED = [spec for spec in CONTENT.past_events if "attendance" in spec]


def wrap_group():
    return EventPage.objects.get(slug="wrap-group")


def _cell(html, label):
    """The number cell after the row heading ``label`` in a report table."""
    match = re.search(
        rf'<th scope="row">{re.escape(label)}</th><td class="number">([^<]*)</td>',
        html,
    )
    return match and match.group(1)


def test_events_elsewhere_with_a_demo_slug_are_left_alone(site_without_demo):
    partners = EventIndexPage(title="Partner events", slug="partner-events")
    site_without_demo.add_child(instance=partners)
    theirs = make_event(partners, slug="peer-support-101", registration_mode="none")

    call_command("load_demo", stdout=io.StringIO())

    assert not theirs.registrations.exists()
    assert EventPage.objects.filter(slug="peer-support-101").count() == 2


def test_people_sign_up_for_the_program_and_nobody_is_emailed(demo):
    assert demo.emails == []
    wrap = wrap_group()
    assert wrap.registrations.confirmed().count() == wrap.capacity == 12
    assert [r.waitlist_position for r in wrap.registrations.waitlisted()] == [1, 2, 3]
    for slug, sign_up in CONTENT.sign_ups.items():
        assert Registration.objects.filter(event__slug=slug).count() == sign_up["count"]
    emails = Registration.objects.exclude(email="").values_list("email", flat=True)
    assert {email.split("@")[1] for email in emails} == {"example.org"}
    assert Registration.objects.filter(email="").exclude(phone="").exists()


def test_phone_only_people_hear_by_text_or_go_on_the_call_list(demo):
    """Eli and Umar agreed to texts: they get their texts (the make run
    terminal prints them); Lena did not: she is on the call list, with her
    best times. Nobody is emailed."""
    texted = {text.to for text in demo.texts}
    eli, umar, lena = (
        Registration.objects.filter(name=name, event__live=True)
        .exclude(event__slug__in=[spec["slug"] for spec in CONTENT.past_events])
        .first()
        for name in ("Eli Novak", "Umar Siddiqui", "Lena Fischer")
    )
    assert {str(eli.phone), str(umar.phone)} <= texted
    assert str(lena.phone) not in texted
    assert all(text.body.startswith("Riverside: ") for text in demo.texts)
    [call] = CallRequest.objects.filter(registration=lena)
    assert call.reason in ("new_sign_up", "waitlisted")
    assert (lena.call_times, lena.voicemail_ok) == ("Weekday mornings", True)
    assert FollowUp.objects.filter(kind="call", call_request=call).exists()


def test_a_flagged_note_of_the_past_term_is_in_the_inbox(demo):
    flagged = SessionNote.objects.exclude(follow_ups="")
    assert flagged.exists()
    assert set(
        FollowUp.objects.filter(kind="flagged_note").values_list(
            "session_note", flat=True
        )
    ) == set(flagged.values_list("pk", flat=True))


def test_the_past_term_is_recorded_as_its_tables_say(demo):
    for spec in NAMED:
        event = EventPage.objects.get(slug=spec["slug"])
        records = AttendanceRecord.objects.filter(session__event=event)
        letters = "".join(spec["attendance"])
        walk_ins = sum(len(names) for names in spec["walk_ins"])
        assert records.filter(registration__isnull=False).count() == len(letters)
        assert records.filter(registration__isnull=True).count() == walk_ins
        assert records.filter(status="absent").count() == letters.count("A")
        assert SessionNote.objects.filter(session__event=event).count() == len(
            spec["notes"]
        )
    voices = next(s for s in CONTENT.past_events if "headcounts" in s)
    assert sorted(
        Headcount.objects.filter(session__event__slug=voices["slug"]).values_list(
            "attendees", "walk_ins"
        )
    ) == sorted(
        (count["attendees"], count["walk_ins"]) for count in voices["headcounts"]
    )


def test_reports_show_the_demo_attendance(demo, client, admin_user):
    held = sum(
        spec["sessions"] - (1 if "cancel" in spec else 0)
        for spec in CONTENT.past_events
    )
    by_people = sum(
        "".join(spec["attendance"]).count(letter)
        for spec in NAMED
        for letter in ATTENDED
    )
    walk_ins = sum(len(names) for spec in NAMED for names in spec["walk_ins"])
    headcounts = sum(
        count["attendees"]
        for spec in CONTENT.past_events
        for count in spec.get("headcounts", [])
    )
    unique = sum(
        1 for spec in NAMED for row in spec["attendance"] if set(row) & set(ATTENDED)
    )
    total = by_people + walk_ins + headcounts
    client.force_login(admin_user)

    html = client.get(reverse("attendance_reports")).content.decode()

    assert _cell(html, "Sessions held") == str(held)
    assert _cell(html, "Sessions cancelled") == "1"
    assert _cell(html, "Attendances by registered people") == str(by_people)
    assert _cell(html, "Attendances by walk-ins") == str(walk_ins)
    assert _cell(html, "Attendances counted at headcount-only sessions") == str(
        headcounts
    )
    assert _cell(html, "Attendances") == str(total)
    assert _cell(html, "Unique participants") == str(unique)
    assert _cell(html, "Average attendance per session") == str(round(total / held, 1))
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 9


def test_export_edit_and_reimport_the_demo_registrations(demo, client, admin_user):
    client.force_login(admin_user)
    response = client.get(
        reverse("spreadsheets_export", args=["registrations"]), {"format": "xlsx"}
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    assert sheet.max_row - 1 == Registration.objects.count()
    name_cell = sheet.cell(row=2, column=header.index("name") + 1)
    email = unneutralise(sheet.cell(row=2, column=header.index("email") + 1).value)
    name_cell.value = "Someone Renamed"
    edited = io.BytesIO()
    book.save(edited)

    response = client.post(
        reverse("spreadsheets_import", args=["registrations"]),
        {
            "file": SimpleUploadedFile("registrations.xlsx", edited.getvalue()),
            "notify": "on",
        },
    )
    job = ImportJob.objects.get()
    assert job.preview["totals"] == {
        "new": 0,
        "update": 1,
        "skip": Registration.objects.count() - 1,
        "problem": 0,
    }
    client.post(reverse("spreadsheets_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done", job.message
    renamed = Registration.objects.get(name="Someone Renamed")
    assert renamed.email == (email or "")


def test_import_a_term_schedule_into_the_demo(demo, client, admin_user):
    index = EventPage.objects.get(slug="wrap-group").get_parent()
    rows = [["event", "kind", "venue", "start", "end", "capacity", "facilitators"]]
    for week in range(3):
        day = f"2031-01-{6 + 7 * week:02d}"
        rows.append(
            [
                "Spring peer support group",
                "group",
                "Riverside Community Centre",
                f"{day} 18:00",
                f"{day} 19:30",
                "12",
                "amara.okafor",
            ]
        )
    client.force_login(admin_user)

    response = client.post(
        reverse("spreadsheets_import", args=["schedule"]),
        {"file": SimpleUploadedFile("term.csv", csv_bytes(rows)), "parent": index.pk},
    )

    job = ImportJob.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert job.preview["totals"]["new"] == 3, job.preview
    client.post(reverse("spreadsheets_confirm", args=[job.pk]))
    event = EventPage.objects.get(title="Spring peer support group")
    assert not event.live
    assert event.sessions.count() == 3
    assert event.capacity == 12


def test_the_online_drop_in_has_people_on_single_dates_one_full(demo):
    drop_in = EventPage.objects.get(slug="online-peer-support-drop-in")
    assert drop_in.sign_up_per == "session"
    first, second, third = list(drop_in.sessions.order_by("start"))[:3]
    by_date = {
        session: list(
            Registration.objects.filter(session=session).values_list(
                "status", "waitlist_position"
            )
        )
        for session in (first, second, third)
    }
    assert [s for s, _ in by_date[first]].count("confirmed") == drop_in.capacity == 6
    assert sorted(p for s, p in by_date[first] if s == "waitlisted") == [1, 2]
    assert {s for s, _ in by_date[second] + by_date[third]} == {"confirmed"}
    assert (len(by_date[second]), len(by_date[third])) == (4, 2)
    assert not Registration.objects.filter(event=drop_in, session__isnull=True).exists()


def test_the_wrap_group_asks_its_own_questions(demo, client, admin_user):
    import datetime as dt

    from django.utils import timezone

    from events.models import RegistrationAnswer

    wrap = wrap_group()
    spec = next(s for s in CONTENT.events if s["slug"] == "wrap-group")
    heard, needs = wrap.questions.order_by("sort_order")
    assert (heard.kind, heard.demographic, needs.kind) == ("choice", True, "text")
    # In the published revision too, so editing the page keeps them.
    revision = wrap.get_latest_revision_as_object()
    assert [q.label for q in revision.questions.all()] == [heard.label, needs.label]
    given = [a for a in spec["questions"][1]["answers"] if a]
    assert sorted(
        RegistrationAnswer.objects.filter(question=needs).values_list(
            "value", flat=True
        )
    ) == sorted(given)
    client.force_login(admin_user)
    today = timezone.localdate()
    html = client.get(
        reverse("attendance_reports"),
        {
            "date_from": today.isoformat(),
            "date_to": (today + dt.timedelta(days=60)).isoformat(),
        },
    ).content.decode()
    answers = spec["questions"][0]["answers"]
    friend = answers.count("A friend or family member")
    assert friend >= 5
    assert re.search(
        rf"A friend or family member</td><td class=\"number\">{friend}</td>", html
    )
    assert "fewer than 5" in html
