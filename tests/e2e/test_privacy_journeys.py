"""Privacy in a real browser: a person stops emails from their manage link
on a phone, and a coordinator at a desk finds someone by phone number and
erases their details. Each screen is checked with axe-core."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import expect

from attendance.models import AttendanceRecord
from events.groups import COORDINATORS_GROUP
from events.models import Registration
from events.registration import manage_token
from tests.conftest import (
    make_event,
    make_event_index,
    make_registration_event,
    make_session,
    sign_up,
)
from tests.e2e.support import assert_accessible, assert_admin_accessible

pytestmark = pytest.mark.browser

PASSWORD = "a long coordinator passphrase"


def test_a_person_stops_emails_from_their_manage_link(site, home_page, phone):
    event = make_registration_event(make_event_index(home_page))
    person = sign_up(event, phone="416 555 0123", consent=["email", "call"])

    phone.goto(f"/manage/{manage_token(person)}/")
    assert_accessible(phone)
    phone.get_by_role("button", name="Stop all emails").click()

    expect(phone.get_by_text("You will get no more emails from us")).to_be_visible()
    expect(phone.get_by_text("We send you no emails at all")).to_be_visible()
    assert_accessible(phone)
    assert not person.consents.get(channel="email").is_given


def test_a_coordinator_erases_a_person_found_by_phone(
    site, home_page, desktop, django_user_model
):
    coordinator = django_user_model.objects.create_user(
        "casey", email="casey@example.org", password=PASSWORD
    )
    coordinator.groups.add(Group.objects.get_or_create(name=COORDINATORS_GROUP)[0])
    coordinator.user_permissions.add(Permission.objects.get(codename="access_admin"))
    event = make_event(make_event_index(home_page), title="Spring group")
    session = make_session(event, start=timezone.now() - dt.timedelta(days=30))
    person = Registration.objects.create(
        event=event,
        name="Ana Rivera",
        phone="(416) 555-0101",
        token_salt="s" * 32,
        manage_token_hash="h" * 64,
    )
    AttendanceRecord.objects.create(
        session=session, registration=person, status="present"
    )

    desktop.goto("/admin/login/")
    desktop.get_by_label("Username").fill("casey")
    desktop.get_by_label("Password").fill(PASSWORD)
    desktop.get_by_role("button", name="Sign in").click()
    desktop.wait_for_url(re.compile(r"/admin/$"))
    desktop.goto("/admin/privacy/erase/")
    assert_admin_accessible(desktop)
    desktop.get_by_label("Phone number").fill("+1 416 555 0101")
    desktop.get_by_role("button", name="Find").click()

    expect(desktop.get_by_role("cell", name="Spring group", exact=True)).to_be_visible()
    assert "privacy/erase/" in desktop.url and "555" not in desktop.url
    assert_admin_accessible(desktop)
    desktop.get_by_label("I have checked").check()
    desktop.get_by_role("button", name="Erase the ticked registrations").click()

    expect(desktop.get_by_text("Erased the details of 1 registration.")).to_be_visible()
    person.refresh_from_db()
    assert (person.name, person.phone) == ("Anonymised", "")
    assert person.attendance.count() == 1
