"""The call list on a phone, in a real browser: a coordinator finds the
person to phone, taps their number, records no answer, then that they
spoke, and the call leaves the list. Checked with axe-core."""

import re

from django.contrib.auth.models import Group
from playwright.sync_api import expect

from events.groups import COORDINATORS_GROUP
from events.models import CallAttempt, CallReason, CallRequest
from tests.conftest import make_registration_event, sign_up
from tests.e2e.support import assert_admin_accessible
from website.demo.builder import build_groups

PASSWORD = "a long coordinator passphrase"


def test_a_coordinator_works_through_the_call_list_on_a_phone(
    phone, site, event_index, django_user_model
):
    build_groups()
    coordinator = django_user_model.objects.create_user(
        "casey", password=PASSWORD, first_name="Casey"
    )
    coordinator.groups.add(Group.objects.get(name=COORDINATORS_GROUP))
    event = make_registration_event(event_index, title="Tuesday circle")
    pat = sign_up(event, "Pat Phoneonly", email="", phone="416 555 0199")
    # Signing up queued the call: no email or text reaches them.
    call = CallRequest.objects.get(registration=pat, reason=CallReason.NEW_SIGN_UP)

    phone.goto("/admin/login/")
    phone.get_by_label("Username").fill("casey")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url(re.compile(r"/admin/$"))
    phone.get_by_role("link", name="1 call waiting").click()

    person = phone.get_by_role("article", name="Pat Phoneonly")
    expect(person.get_by_role("link", name="(416) 555-0199")).to_have_attribute(
        "href", "tel:+14165550199"
    )
    expect(person).to_contain_text("New sign-up")
    expect(person).to_contain_text("Do not leave a voicemail.")
    expect(person.get_by_role("button", name="Left a message")).to_have_count(0)
    assert_admin_accessible(phone)

    person.get_by_role("button", name="No answer").click()
    expect(phone.get_by_text("Marked: no answer.")).to_be_visible()
    expect(person).to_contain_text("No answer: Casey")
    person.get_by_role("button", name="Spoke to them").click()
    expect(phone.get_by_text("No calls are waiting.")).to_be_visible()
    assert list(
        CallAttempt.objects.filter(call=call).values_list("outcome", flat=True)
    ) == ["no_answer", "called"]
