"""A drop-in on a 375 px phone: see the places per date, sign up for two
dates in one go (first forgetting to choose one), then cancel one date from
its link and keep the other."""

import re

import pytest
from django.core import mail
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from events import drop_in
from events.models import Registration, RegistrationStatus
from tests.conftest import make_event, make_session
from tests.e2e.public_support import (
    configure_site,
    has_no_sideways_scroll,
    listing,
    local_start,
    manage_link,
)
from tests.e2e.support import assert_accessible


def _day(session):
    return dateformat.format(timezone.localtime(session.start), "l j F")


@pytest.fixture
def drop_in_group(site, home_page):
    configure_site()
    index = listing(home_page)
    event = make_event(
        index,
        title="Online peer support drop-in",
        summary="An hour on Wednesday evenings to connect with peers from home.",
        registration_mode="open",
        capacity=2,
        sign_up_per="session",
    )
    sessions = [make_session(event, start=local_start(1 + 7 * w)) for w in range(3)]
    for name in ("Ana", "Ben"):  # the third date is full
        drop_in.register_sessions(
            event=event,
            session_ids=[sessions[2].pk],
            name=name,
            email=f"{name.lower()}@example.org",
            notify=False,
        )
    return event, sessions


def test_sign_up_for_two_dates_then_cancel_one(drop_in_group, phone):
    event, (first, second, full) = drop_in_group

    phone.goto("/groups/")
    expect(phone.locator(".session-card .places")).to_have_text(
        ["2 places left", "2 places left", "Full, join the waitlist"]
    )
    assert_accessible(phone)

    phone.goto(event.url)
    phone.get_by_role("link", name="Choose your dates").click()
    dates = phone.get_by_role("group", name=re.compile("Which dates"))
    expect(dates.get_by_role("checkbox")).to_have_count(3)
    expect(dates.get_by_label(re.compile(_day(full)))).to_have_accessible_name(
        re.compile(r"\(Full, join the waitlist\)$")
    )

    # A mistake: no date ticked. What was typed is kept.
    phone.get_by_label("Your name").fill("Sam")
    phone.get_by_label("Email address").fill("sam@example.org")
    phone.get_by_role("button", name="Sign up").click()
    expect(phone).to_have_title(re.compile(r"^Error: "))
    summary_link = phone.locator("#error-summary").get_by_role("link")
    expect(summary_link).to_have_text(
        "Which dates would you like to come to?: Please choose at least one date."
    )
    assert summary_link.get_attribute("href") == "#id_sessions"
    expect(phone.locator("#id_sessions_error")).to_have_text(
        "Please choose at least one date."
    )
    expect(phone.get_by_label("Your name")).to_have_value("Sam")
    assert has_no_sideways_scroll(phone)
    assert_accessible(phone)

    phone.get_by_label(re.compile(_day(first))).check()
    phone.get_by_label(re.compile(_day(full))).check()
    phone.get_by_role("button", name="Sign up").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Thank you for signing up"
    )
    mine = {
        r.session_id: r for r in Registration.objects.filter(email="sam@example.org")
    }
    assert {k: (r.status, r.waitlist_position) for k, r in mine.items()} == {
        first.pk: ("confirmed", None),
        full.pk: ("waitlisted", 1),
    }
    [message] = [m for m in mail.outbox if m.to == ["sam@example.org"]]
    assert message.subject == "Your dates"

    # The first link in the message is the first date's.
    phone.goto(manage_link("sam@example.org", "Your dates"))
    expect(phone.locator(".lead")).to_contain_text(
        f"You have a place on {_day(first)}."
    )
    expect(phone.get_by_role("heading", name="Your other dates")).to_be_visible()
    assert_accessible(phone)
    phone.get_by_role("link", name="Cancel my place on this date").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Cancel your place?")
    expect(phone.get_by_text("Your other dates stay as they are.")).to_be_visible()
    phone.get_by_role("button", name="Yes, cancel my place").click()
    expect(phone.get_by_role("status")).to_contain_text("Your place is cancelled.")

    mine[first.pk].refresh_from_db()
    mine[full.pk].refresh_from_db()
    assert mine[first.pk].status == RegistrationStatus.CANCELLED
    assert (mine[full.pk].status, mine[full.pk].waitlist_position) == (
        RegistrationStatus.WAITLISTED,
        1,
    )
    # The other date is still there, a link away.
    phone.get_by_role("link", name=re.compile(_day(full))).click()
    expect(phone.locator(".lead")).to_contain_text("number 1 in line")
