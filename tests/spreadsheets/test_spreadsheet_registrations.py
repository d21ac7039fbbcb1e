"""Registration spreadsheets: through register/cancel/promote so capacity and
the waitlist hold; row errors; all-or-nothing; re-import; round trip;
formula neutralisation; personal data only to those allowed; audit log."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import ModelLogEntry

from events.models import Registration
from events.resources.registrations import RegistrationResource
from spreadsheets.formats import read_dataset
from spreadsheets.models import ImportJob
from tests.conftest import make_event, make_registration_event, make_session, sign_up
from tests.spreadsheets.support import (
    actions,
    confirm,
    csv_bytes,
    errors,
    export,
    import_file,
    make_job,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

HEADER = ["name", "email", "phone", "status"]


def _statuses(event):
    return dict(Registration.objects.filter(event=event).values_list("email", "status"))


def test_new_people_get_places_then_the_waitlist(
    coordinator, event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=2)
    rows = [
        HEADER,
        ["Sam", "sam@example.org", "", "waitlisted"],  # there is room: a place
        ["Kim", "kim@example.org", "+1 416 555 0100", "confirmed"],
        ["Lee", "lee@example.org", "", ""],
        ["Ana", "", "416 555 0199", "waitlisted"],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        job = import_file(
            coordinator, "registrations", csv_bytes(rows), options={"event": event.pk}
        )
    assert job.status == "done", job.message
    assert set(actions(job).values()) == {"new"}
    assert _statuses(event) == {
        "sam@example.org": "confirmed",
        "kim@example.org": "confirmed",
        "lee@example.org": "waitlisted",
        "": "waitlisted",
    }
    assert list(
        Registration.objects.filter(event=event, status="waitlisted")
        .order_by("waitlist_position")
        .values_list("name", "waitlist_position")
    ) == [("Lee", 1), ("Ana", 2)]
    notes = [row[4] for row in job.preview["rows"]]
    assert notes[0] == "Given a place, not the waitlist: the event has room."
    assert notes[2] == "On the waitlist: the event is full."
    assert len(mail.outbox) == 3  # the usual emails; Ana gave no email


def test_reimport_skips_and_cancelling_promotes_the_next_person(
    coordinator, event_index
):
    event = make_registration_event(event_index, capacity=1)
    rows = [
        HEADER,
        ["Sam", "sam@example.org", "", ""],
        ["Kim", "kim@example.org", "", ""],
    ]
    import_file(
        coordinator, "registrations", csv_bytes(rows), options={"event": event.pk}
    )
    again = import_file(
        coordinator, "registrations", csv_bytes(rows), options={"event": event.pk}
    )
    assert set(actions(again).values()) == {"skip"}
    changed = [
        HEADER,
        ["Sam R.", "SAM@example.org", "", "cancelled"],
        ["Kim", "kim@example.org", "416 555 0100", ""],
    ]
    job = import_file(
        coordinator, "registrations", csv_bytes(changed), options={"event": event.pk}
    )
    assert actions(job) == {2: "update", 3: "update"}
    assert _statuses(event) == {
        "sam@example.org": "cancelled",
        "kim@example.org": "confirmed",
    }
    assert Registration.objects.get(email="kim@example.org").phone == "416 555 0100"
    assert Registration.objects.count() == 2


def test_a_waitlisted_person_marked_confirmed_is_promoted(coordinator, event_index):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event, email="a@example.org")
    waiting = sign_up(event, email="b@example.org")
    event.capacity = 2
    event.save()
    rows = [HEADER, ["B", "b@example.org", "", "confirmed"]]
    job = import_file(
        coordinator, "registrations", csv_bytes(rows), options={"event": event.pk}
    )
    assert actions(job) == {2: "update"}
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"


def test_every_kind_of_row_error(coordinator, event_index):
    event = make_registration_event(event_index, capacity=1)
    full = make_registration_event(event_index, capacity=0, waitlist=False)
    no_signup = make_event(event_index, registration_mode="none")
    make_session(no_signup)
    other = make_registration_event(event_index)
    placed = sign_up(event, email="placed@example.org")
    e = str(event.pk)
    rows = [
        ["event_id", *HEADER],
        [e, "", "x@example.org", "", ""],
        [e, "Sam", "", "", ""],
        [e, "Sam", "not-an-email", "", ""],
        [e, "Sam", "s@example.org", "", "maybe"],
        ["999999", "Sam", "s2@example.org", "", ""],
        ["twelve", "Sam", "s3@example.org", "", ""],
        [str(full.pk), "Sam", "s4@example.org", "", ""],
        [str(no_signup.pk), "Sam", "s5@example.org", "", ""],
        [e, "Dup", "dup@example.org", "", ""],
        [e, "Dup", "DUP@example.org", "", ""],
        [e, "Placed", placed.email, "", "waitlisted"],
        [e, "Long", "l@example.org", "1" * 41, ""],
        ["", "No event", "n@example.org", "", ""],
        [e, "Long email", "l" * 250 + "@example.org", "", ""],
        [e, "Short phone", "", "12", ""],
    ]
    job = make_job(coordinator, "registrations", csv_bytes(rows), options={})
    found = errors(job)
    assert "person's name" in found[2]["name"][0]
    assert "email address or a phone" in found[3]["email"][0]
    assert "not an email" in found[4]["email"][0]
    assert "status must be one of" in found[5]["status"][0]
    assert "no event with id 999999" in found[6]["event_id"][0]
    assert "whole number" in found[7]["event_id"][0]
    assert "full" in found[8]["status"][0]
    assert "no sign-up" in found[9]["event_id"][0]
    assert 10 not in found and "also on row 10" in found[11]["email"][0]
    assert "cannot be put on the waitlist" in found[12]["status"][0]
    assert "under 40" in found[13]["phone"][0]
    assert "Choose the event" in found[14]["event_id"][0]
    assert "too long" in found[15]["email"][0]
    assert "phone number we can call or text" in found[16]["phone"][0]
    assert len(found) == 14
    chosen = make_job(
        coordinator,
        "registrations",
        csv_bytes(
            [["event_id", *HEADER], [str(other.pk), "Sam", "o@example.org", "", ""]]
        ),
        options={"event": event.pk},
    )
    assert "another event" in errors(chosen)[2]["event_id"][0]
    assert Registration.objects.count() == 1  # checking changed nothing


class RowByRowRegistrations(RegistrationResource):
    """The library's default: each new person saved as their row is read."""

    class Meta(RegistrationResource.Meta):
        use_bulk = False


@pytest.mark.parametrize(
    "resource_class", [RegistrationResource, RowByRowRegistrations]
)
def test_bulk_and_row_by_row_imports_agree_on_a_mixed_file(
    coordinator, event_index, resource_class, django_capture_on_commit_callbacks
):
    """Cancellations free places for the rows after them, in file order, in
    bulk mode too (new people wait in memory until the end)."""
    event = make_registration_event(event_index, capacity=2)
    sign_up(event, "Ana", email="ana@example.org")
    sign_up(event, "Ben", email="ben@example.org")
    sign_up(event, "Cy", email="cy@example.org")  # waiting at 1
    rows = [
        HEADER,
        ["Di", "di@example.org", "", ""],
        ["Ana", "ana@example.org", "", "cancelled"],
        ["Ben B.", "ben@example.org", "416 555 0100", ""],
        ["Ed", "ed@example.org", "", ""],
    ]
    resource = resource_class(user=coordinator, options={"event": event.pk})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = resource.import_data(
            read_dataset(csv_bytes(rows), "mixed.csv"),
            dry_run=False,
            use_transactions=True,
            raise_errors=False,
        )
    assert not result.has_errors() and not result.has_validation_errors()
    assert list(
        Registration.objects.filter(event=event)
        .order_by("pk")
        .values_list("name", "phone", "status", "waitlist_position")
    ) == [
        ("Ana", "", "cancelled", None),
        ("Ben B.", "416 555 0100", "confirmed", None),
        ("Cy", "", "confirmed", None),
        ("Di", "", "waitlisted", 1),
        ("Ed", "", "waitlisted", 2),
    ]
    assert sorted((m.to[0], m.subject.split(":")[0]) for m in mail.outbox) == [
        ("ana@example.org", "Your place is cancelled"),
        ("cy@example.org", "Good news, a place opened up"),
        ("di@example.org", "You are on the waitlist"),
        ("ed@example.org", "You are on the waitlist"),
    ]


def test_any_bad_row_means_nothing_is_imported(coordinator, event_index):
    event = make_registration_event(event_index, capacity=5)
    rows = [HEADER, ["Sam", "sam@example.org", "", ""], ["", "bad", "", ""]]
    job = make_job(
        coordinator, "registrations", csv_bytes(rows), options={"event": event.pk}
    )
    assert job.preview["totals"] == {"new": 1, "update": 0, "skip": 0, "problem": 1}
    assert confirm(job).status == "failed"
    assert not Registration.objects.exists()


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "json"])
def test_round_trip_changes_nothing(client, coordinator, event_index, file_format):
    event = make_registration_event(event_index, capacity=1)
    second = make_registration_event(event_index, capacity=3)
    sign_up(event, name="=1+1", email="a@example.org", phone="+1 416 555 0100")
    sign_up(event, name="@Kim", email="", phone="-416 555 0100")
    cancelled = sign_up(second, name="Lee", email="lee@example.org")
    from events.registration import cancel

    cancel(registration=cancelled)
    sign_up(second, name="Lee again", email="lee@example.org")
    before = list(Registration.objects.order_by("pk").values())
    client.force_login(coordinator)
    response = export(client, "registrations", file_format)
    job = import_file(
        coordinator, "registrations", response.content, f"r.{file_format}"
    )
    assert job.status == "done", (job.message, errors(job))
    assert set(actions(job).values()) == {"skip"}
    assert list(Registration.objects.order_by("pk").values()) == before


def test_export_neutralises_formulas_and_is_logged_with_filters(
    client, coordinator, event_index
):
    event = make_registration_event(event_index, capacity=5)
    other = make_registration_event(event_index, capacity=5)
    sign_up(
        event,
        name='=HYPERLINK("http://evil")',
        email="a@example.org",
        phone="+44 20 7946 0958",
    )
    sign_up(other, name="Other", email="o@example.org")
    client.force_login(coordinator)
    response = export(client, "registrations", event=event.pk)
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",'+44 20 7946 0958," in text
    assert "o@example.org" not in text
    assert "no-store" in response["Cache-Control"]
    entry = ModelLogEntry.objects.get(action="spreadsheets.export")
    assert entry.user == coordinator
    assert entry.data["rows"] == 1
    assert entry.data["personal_data"] is True
    assert entry.data["filters"]["event"] == str(event)
    xlsx = export(client, "registrations", "xlsx", event=event.pk)
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(xlsx.content)).active
    assert sheet["C2"].value == '=HYPERLINK("http://evil")'
    assert sheet["C2"].data_type == "s"
    assert ModelLogEntry.objects.filter(action="spreadsheets.export").count() == 2


def test_personal_data_only_for_coordinators_and_their_own_events(
    client, staff_member, event_index, facilitators_group, django_user_model
):
    from django.contrib.auth.models import Permission

    mine = make_registration_event(event_index)
    theirs = make_registration_event(event_index)
    sign_up(mine, name="Mine", email="m@example.org")
    sign_up(theirs, name="Theirs", email="t@example.org")
    client.force_login(staff_member)  # not a coordinator, facilitates nothing
    response = export(client, "registrations")
    assert response.status_code == 302 and not response.has_header(
        "Content-Disposition"
    )

    facilitator = django_user_model.objects.create_user("fac", password="pw")
    facilitator.groups.add(facilitators_group)
    facilitator.user_permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "view_registration"])
    )
    mine.facilitators.add(facilitator)
    mine.save()
    client.force_login(facilitator)
    text = export(client, "registrations").content.decode("utf-8-sig")
    assert "Mine" in text and "Theirs" not in text
    assert (
        ModelLogEntry.objects.filter(
            action="spreadsheets.export", user=facilitator
        ).count()
        == 1
    )


def test_xlsx_import_with_numbers_in_text_columns(coordinator, event_index):
    event = make_registration_event(event_index, capacity=5)
    data = xlsx_bytes([HEADER, ["Sam", None, 4165550100, None]])
    job = import_file(
        coordinator, "registrations", data, "r.xlsx", options={"event": event.pk}
    )
    assert job.status == "done", errors(job)
    assert Registration.objects.get().phone == "4165550100"


def test_coordinators_can_add_people_without_emailing_them(
    client, coordinator, event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=1)
    client.force_login(coordinator)
    upload_url = reverse("spreadsheets_import", args=["registrations"])
    assert "Email the people added" in client.get(upload_url).content.decode()
    rows = [
        HEADER,
        ["Sam", "sam@example.org", "", ""],
        ["Kim", "kim@example.org", "", ""],
    ]
    response = client.post(  # the box left unticked
        upload_url,
        {"file": SimpleUploadedFile("r.csv", csv_bytes(rows)), "event": event.pk},
    )
    job = ImportJob.objects.get()
    assert job.options == {"event": event.pk, "notify": False}
    assert (
        "The people added are not emailed." in client.get(response.url).content.decode()
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("spreadsheets_confirm", args=[job.pk]))
    assert _statuses(event) == {
        "sam@example.org": "confirmed",
        "kim@example.org": "waitlisted",
    }
    assert mail.outbox == []


@pytest.mark.parametrize(
    "resource_class", [RegistrationResource, RowByRowRegistrations]
)
def test_a_refused_row_keeps_nothing_when_valid_rows_are_imported(
    coordinator, event_index, resource_class
):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event, "Ana", email="ana@example.org")
    sign_up(event, "Ben", email="ben@example.org")  # waiting; the event is full
    rows = [
        HEADER,
        ["Benjamin", "ben@example.org", "416 555 0123", "confirmed"],
        ["Cy", "cy@example.org", "", ""],
    ]
    resource = resource_class(user=coordinator, options={"event": event.pk})
    result = resource.import_data(
        read_dataset(csv_bytes(rows), "r.csv"),
        dry_run=False,
        use_transactions=True,
        rollback_on_validation_errors=False,
        raise_errors=False,
    )
    [invalid] = result.invalid_rows
    assert "full" in str(invalid.error_dict["status"])
    ben = Registration.objects.get(email="ben@example.org")
    assert (ben.name, ben.phone, ben.status) == ("Ben", "", "waitlisted")
    assert Registration.objects.get(email="cy@example.org").status == "waitlisted"


def test_export_never_decrypts_support_needs(
    client, coordinator, event_index, settings
):
    """The spreadsheet has no support needs column, so not one is decrypted:
    under a key that opens none of them the export still works."""
    from cryptography.fernet import Fernet

    event = make_registration_event(event_index, capacity=3)
    sign_up(event, name="Ana", email="ana@example.org", support_needs="Hearing loop")
    settings.GATHER_FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    client.force_login(coordinator)

    text = export(client, "registrations", event=event.pk).content.decode("utf-8-sig")

    assert "ana@example.org" in text and "Hearing" not in text
