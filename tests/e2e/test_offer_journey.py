"""A waitlisted person on a 375 px phone opens the offer of a place from
their email and accepts it, without a mouse-only control, with no axe
violations on either page."""

import re

from django.core import mail
from playwright.sync_api import expect

from events import registration as workflows
from events.models import PlaceOffer, Registration, RegistrationStatus
from tests.conftest import sign_up
from tests.e2e.public_support import (
    configure_site,
    has_no_sideways_scroll,
    listing,
    registration_event,
)
from tests.e2e.support import assert_accessible

OFFER_LINK = re.compile(r"https?://\S+/offer/[0-9a-f]{64}/")


def test_open_the_offer_link_and_accept_the_place(site, home_page, phone):
    configure_site()
    event = registration_event(
        listing(home_page),
        title="Art group",
        capacity=1,
        days=3,
        waitlist_offer_hours=24,
    )
    alex = sign_up(event, name="Alex", email="alex@example.org")
    robin = sign_up(event, name="Robin", email="robin@example.org")
    workflows.cancel(registration=alex)

    offer_email = next(
        m for m in mail.outbox if m.subject == "A place is free for you: please reply"
    )
    assert offer_email.to == ["robin@example.org"]
    phone.goto(OFFER_LINK.search(offer_email.body).group())

    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "A place is free for you"
    )
    expect(phone.get_by_text(re.compile(r"^Please answer by \w+day"))).to_be_visible()
    expect(phone.get_by_role("group", name="Do you want this place?")).to_be_visible()
    assert has_no_sideways_scroll(phone)
    assert_accessible(phone)

    # The answer is sent from the keyboard: Enter on the focused button.
    accept = phone.get_by_role("button", name="Yes, I want the place")
    accept.focus()
    phone.keyboard.press("Enter")

    expect(phone.get_by_role("status")).to_contain_text(
        "Thank you. The place is yours."
    )
    expect(phone.get_by_role("heading", level=1)).to_have_text("The place is yours")
    assert has_no_sideways_scroll(phone)
    assert_accessible(phone)
    assert Registration.objects.get(pk=robin.pk).status == (
        RegistrationStatus.CONFIRMED
    )
    assert PlaceOffer.objects.get().status == "accepted"
    # Back on the same link later, it says so instead of offering again.
    phone.reload()
    expect(phone.get_by_role("heading", level=1)).to_have_text("The place is yours")
    expect(phone.get_by_role("button", name="Yes, I want the place")).to_have_count(0)
