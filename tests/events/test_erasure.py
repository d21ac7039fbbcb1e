"""Erasure on request: only coordinators, found by email or any phone
format, erased after a confirmation, reports unchanged, no personal data
left behind or logged; and the admin's delete no longer loses attendance."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from wagtail.models import ModelLogEntry, PageLogEntry

from attendance.models import AttendanceRecord
from events.models import Registration
from events.privacy import find_person
from tests.conftest import make_registration_event, sign_up
from tests.privacy import (
    every_registration_and_record_field,
    holds_personal_data,
    make_past_term,
    registrant,
    report_numbers,
)

pytestmark = pytest.mark.django_db

URL = reverse("erase_person")


def _staff(django_user_model, name, group, *codenames):
    group, _ = Group.objects.get_or_create(name=group)
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(codename__in=codenames),
    )
    user = django_user_model.objects.create_user(name, password="pw")
    user.groups.add(group)
    return user


@pytest.fixture
def coordinator(django_user_model):
    return _staff(
        django_user_model,
        "coordinator",
        "Coordinators",
        "view_registration",
        "change_registration",
        "delete_registration",
    )


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


@pytest.mark.parametrize("group", ["Facilitators", "Editors"])
def test_facilitators_and_editors_cannot_reach_erasure(
    client, django_user_model, event_index, group
):
    past = make_past_term(event_index, ended_days_ago=10)
    user = _staff(
        django_user_model, "staff", group, "view_registration", "delete_registration"
    )
    if group == "Facilitators":
        past["event"].facilitators.add(user)
    client.force_login(user)
    search = {"email": "ana@example.org", "search": ""}
    erase = {
        "email": "ana@example.org",
        "registrations": [past["ana"].pk],
        "confirm": "on",
        "erase": "",
    }

    assert client.get(URL).status_code == 403
    assert client.post(URL, search).status_code == 403
    assert client.post(URL, erase).status_code == 403
    assert Registration.objects.get(pk=past["ana"].pk).name == "Ana Rivera"


def test_the_menu_item_shows_for_coordinators_only(
    client, coordinator_client, django_user_model
):
    assert URL in coordinator_client.get(reverse("wagtailadmin_home")).content.decode()
    editor = _staff(django_user_model, "editor", "Editors")
    client.force_login(editor)
    assert URL not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_a_phone_in_another_format_finds_the_same_person(event_index):
    past = make_past_term(event_index, ended_days_ago=10)
    other = make_past_term(event_index, ended_days_ago=20, title="Other group")
    Registration.objects.filter(pk=other["ana"].pk).update(
        email="", phone="+1 (416) 555-0101"
    )

    found = find_person(phone="1-416-555-0101")

    assert {r.pk for r in found} == {past["ana"].pk, other["ana"].pk}
    assert find_person(phone="555 0101") == []  # too short to be anyone


def test_a_number_kept_as_typed_is_found_by_its_digits(event_index):
    past = make_past_term(event_index, ended_days_ago=10)

    assert [r.pk for r in find_person(phone="555-0188")] == [past["ben"].pk]
    assert find_person(phone="555-0199") == []
    assert find_person(email="ANA@example.org ")[0].pk == past["ana"].pk


def test_the_search_is_a_post_and_shows_what_is_held(coordinator_client, event_index):
    past = make_past_term(event_index, ended_days_ago=10)

    response = coordinator_client.post(
        URL, {"email": "", "phone": "416.555.0101", "search": ""}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Past group" in html
    assert "Ana Rivera" in html and "Needs a quiet room" in html
    pk = past["ana"].pk
    row = re.search(rf'value="{pk}".*?</tr>', html, re.S).group()
    assert "<td>2</td>" in row  # attendance records
    assert "Email: given" in row and "Phone call: given" in row
    # The search is logged with what it found, never what was searched for.
    (logged,) = ModelLogEntry.objects.filter(action="events.person.searched")
    assert logged.data["count"] == 1
    assert logged.user_id == response.wsgi_request.user.pk
    text = f"{logged.label} {logged.data}"
    assert "555" not in text and "Ana" not in text


def test_erasure_keeps_the_reports_and_leaves_no_personal_data(
    coordinator_client, coordinator, event_index
):
    past = make_past_term(event_index, ended_days_ago=10)
    AttendanceRecord.objects.filter(walk_in_name="Walker Stone").delete()
    before = report_numbers()
    search = {"email": "ana@example.org", "phone": "416 555 0101"}

    review = coordinator_client.post(URL, {**search, "search": ""})
    assert 'name="erase"' in review.content.decode()
    response = coordinator_client.post(
        URL,
        {
            **search,
            "registrations": [past["ana"].pk],
            "confirm": "on",
            "erase": "",
        },
        follow=True,
    )

    assert response.redirect_chain == [(URL, 302)]
    assert "Erased the details of 1 registration." in response.content.decode()
    assert report_numbers() == before
    ana = Registration.objects.get(pk=past["ana"].pk)
    assert ana.anonymised_at is not None
    assert ana.attendance.count() == 2
    stored = [
        value
        for row in every_registration_and_record_field()
        for value in row
        if value is not None
    ]
    assert not {
        "Ana Rivera",
        "ana@example.org",
        "416 555 0101",
        "+14165550101",
        "After 4 on weekdays",
    } & {str(value) for value in stored}
    assert "Needs a quiet room" not in map(str, stored)
    assert (ana.call_times, ana.voicemail_ok, ana.phone_as_typed) == ("", False, "")
    entry = PageLogEntry.objects.get(action="events.registration.erased")
    assert entry.user == coordinator
    assert entry.data == {
        "by": "staff",
        "event": past["event"].pk,
        "count": 1,
        "attendance_records": 2,
    }
    logged = [
        (e.label, e.data)
        for model in (PageLogEntry, ModelLogEntry)
        for e in model.objects.all()
    ]
    assert holds_personal_data(logged) == []


def test_erasure_needs_the_confirmation(coordinator_client, event_index):
    past = make_past_term(event_index, ended_days_ago=10)

    response = coordinator_client.post(
        URL,
        {"email": "ana@example.org", "registrations": [past["ana"].pk], "erase": ""},
    )

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert Registration.objects.get(pk=past["ana"].pk).anonymised_at is None


def test_an_id_the_search_did_not_find_is_never_erased(coordinator_client, event_index):
    past = make_past_term(event_index, ended_days_ago=10)

    coordinator_client.post(
        URL,
        {
            "email": "ana@example.org",
            "registrations": [past["ana"].pk, past["ben"].pk],
            "confirm": "on",
            "erase": "",
        },
    )

    assert Registration.objects.get(pk=past["ben"].pk).name == "Ben Okafor"
    assert Registration.objects.get(pk=past["ana"].pk).name == "Ana Rivera"


def test_a_place_still_to_come_is_cancelled_first_and_goes_to_the_next(
    coordinator_client, event_index
):
    event = make_registration_event(event_index, capacity=1)
    ana = sign_up(event, name="Ana Rivera", email="ana@example.org")
    waiting = sign_up(event, name="Cy Dube")

    coordinator_client.post(
        URL,
        {
            "email": "ana@example.org",
            "registrations": [ana.pk],
            "confirm": "on",
            "erase": "",
        },
    )

    assert Registration.objects.get(pk=ana.pk).status == "cancelled"
    assert Registration.objects.get(pk=waiting.pk).status == "confirmed"


# The admin's delete --------------------------------------------------------------


def test_a_registration_with_attendance_cannot_be_deleted(
    coordinator_client, event_index
):
    past = make_past_term(event_index, ended_days_ago=10)
    delete_url = reverse("event_registrations:delete", args=[past["ana"].pk])
    listing = coordinator_client.get(
        reverse("event_registrations:index"), {"event": past["event"].pk}
    )
    assert delete_url not in listing.content.decode()

    response = coordinator_client.post(delete_url, follow=True)

    assert "cannot be deleted" in response.content.decode()
    assert "Erase a person" in response.content.decode()
    assert Registration.objects.filter(pk=past["ana"].pk).exists()
    assert AttendanceRecord.objects.filter(registration=past["ana"]).count() == 2


def test_deleting_one_without_attendance_logs_no_name(coordinator_client, event_index):
    event = make_registration_event(event_index)
    mistake = registrant(event, "Dana Mistake", email="dana@example.org")
    ModelLogEntry.objects.log_action(mistake, "wagtail.edit")
    delete_url = reverse("event_registrations:delete", args=[mistake.pk])
    listing = coordinator_client.get(
        reverse("event_registrations:index"), {"event": event.pk}
    )
    assert delete_url in listing.content.decode()

    response = coordinator_client.post(delete_url)

    assert response.status_code == 302
    assert not Registration.objects.filter(pk=mistake.pk).exists()
    entry = PageLogEntry.objects.get(action="events.registration.deleted")
    assert entry.data["registration"] == mistake.pk
    labels = [e.label for e in ModelLogEntry.objects.all()]
    assert labels and not [label for label in labels if "Dana" in label]
    assert "Dana" not in str(entry.data) + entry.label


def test_the_workflow_erases_only_what_its_own_search_finds(coordinator, event_index):
    from events.privacy import erase

    past = make_past_term(event_index, ended_days_ago=10)

    result = erase(
        registration_ids=[past["ana"].pk, past["ben"].pk],
        email="ana@example.org",
        user=coordinator,
    )

    assert (result.erased, result.attendance_records) == (1, 2)
    assert Registration.objects.get(pk=past["ben"].pk).name == "Ben Okafor"
    assert Registration.objects.get(pk=past["ana"].pk).name == "Anonymised"


def test_an_anonymised_registration_cannot_be_edited_back(
    coordinator_client, coordinator, event_index
):
    from events.privacy import erase

    past = make_past_term(event_index, ended_days_ago=10)
    erase(registration_ids=[past["ana"].pk], email="ana@example.org", user=coordinator)
    edit_url = reverse("event_registrations:edit", args=[past["ana"].pk])

    page = coordinator_client.get(edit_url, follow=True)
    coordinator_client.post(
        edit_url, {"name": "Ana Rivera", "email": "ana@example.org", "phone": ""}
    )

    assert "it has no details to edit" in page.content.decode()
    ana = Registration.objects.get(pk=past["ana"].pk)
    assert (ana.name, ana.email) == ("Anonymised", "")
    inspect = coordinator_client.get(
        reverse("event_registrations:inspect", args=[past["ana"].pk])
    )
    assert "Anonymised on " in inspect.content.decode()
