"""Signing up on a 375 px phone for an event that asks questions of its
own: a required one left blank first, then answered."""

import re

import pytest
from playwright.sync_api import expect

from events.models import Registration, RegistrationQuestion
from tests.e2e.public_support import (
    configure_site,
    has_no_sideways_scroll,
    listing,
    registration_event,
)
from tests.e2e.support import assert_accessible

NEEDS = "Anything we should know to make the session work for you?"


@pytest.fixture
def event(site, home_page):
    configure_site()
    event = registration_event(listing(home_page), title="WRAP group", capacity=8)
    for order, fields in enumerate(
        [
            {
                "label": "Which evening suits you?",
                "kind": "choice",
                "choices": "Tuesday\nThursday",
                "required": True,
            },
            {
                "label": "How did you hear about us?",
                "kind": "choice",
                "choices": "A friend\nA poster",
                "demographic": True,
            },
            {"label": NEEDS, "kind": "text", "help_text": "For example: a quiet seat."},
        ]
    ):
        RegistrationQuestion.objects.create(event=event, sort_order=order, **fields)
    return event


def test_sign_up_answering_the_questions_after_one_mistake(event, phone):
    phone.goto(event.sign_up_url)
    assert_accessible(phone)
    assert has_no_sideways_scroll(phone)
    # Choice questions are groups named by the question.
    evening = phone.get_by_role("group", name=re.compile("Which evening suits you?"))
    expect(evening.get_by_role("radio")).to_have_count(2)
    heard = phone.get_by_role("group", name=re.compile("How did you hear about us?"))
    expect(heard.get_by_role("radio", name="I would rather not say")).to_be_visible()

    phone.get_by_label("Your name").fill("Sam")
    phone.get_by_label("Email address").fill("sam@example.org")
    heard.get_by_role("radio", name="A poster").check()
    phone.get_by_label(NEEDS).fill("A seat near the door, please.")
    phone.get_by_role("button", name="Sign up").click()

    expect(phone).to_have_title(re.compile(r"^Error: "))
    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link")
    expect(link).to_have_text(
        ["Which evening suits you?: Please answer this question."]
    )
    expect(phone.get_by_label(NEEDS)).to_have_value("A seat near the door, please.")
    expect(heard.get_by_role("radio", name="A poster")).to_be_checked()
    expect(evening.locator(".field__error")).to_have_text(
        "Please answer this question."
    )
    assert_accessible(phone)
    link.click()
    expect(phone.locator(f"#{link.get_attribute('href')[1:]}")).to_be_focused()

    evening.get_by_role("radio", name="Thursday").check()
    phone.get_by_role("button", name="Sign up").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Thank you for signing up"
    )
    registration = Registration.objects.get()
    assert dict(registration.answers.values_list("question__label", "value")) == {
        "Which evening suits you?": "Thursday",
        "How did you hear about us?": "A poster",
        NEEDS: "A seat near the door, please.",
    }
