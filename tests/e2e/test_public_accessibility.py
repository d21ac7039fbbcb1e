"""axe-core (WCAG 2.2 A and AA, any impact) on every public page, in each
state a person meets it: results and none, errors, full, cancelled, private
manage pages and the error pages. Each test visits several pages in one
browser to stay fast, and reports every page's violations together."""

import re

import pytest
from playwright.sync_api import expect

from events.sessions import cancel_session
from tests.conftest import make_event, make_session, make_workshop, sign_up
from tests.e2e.public_support import (
    configure_site,
    listing,
    local_start,
    manage_link,
    registration_event,
)
from tests.e2e.support import axe_violations
from website.models import StandardPage
from workshops.models import WorkshopIndexPage


@pytest.fixture
def program(site, home_page):
    """A listing with an open event, full ones and a cancelled session."""
    configure_site()
    index = listing(home_page)
    open_event = registration_event(
        index, title="Wellness Recovery Action Plan", capacity=10
    )
    full_waitlist = registration_event(index, title="Art group", capacity=1, days=2)
    sign_up(full_waitlist, email="first@example.org")
    full_closed = registration_event(
        index, title="Naloxone training", capacity=1, waitlist=False, days=3
    )
    sign_up(full_closed, email="only@example.org")
    drop_in = make_event(index, title="Community walk", registration_mode="none")
    session = make_session(drop_in)
    cancel_session(session=session, public_note="The leader is unwell.")
    make_session(drop_in, start=local_start(8))
    return {
        "index": index,
        "open": open_event,
        "full_waitlist": full_waitlist,
        "full_closed": full_closed,
        "drop_in": drop_in,
    }


def _check(page, url, found, name=None, *, heading=None):
    """Run axe on ``url`` (or the page as it is, once its h1 reads
    ``heading``: a click's navigation must finish first)."""
    if url:
        page.goto(url)
    if heading:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    violations = axe_violations(page)
    if violations:
        found[name or url] = violations


def _assert_none(found):
    assert not found, "\n".join(
        f"{url}:\n  " + "\n  ".join(lines) for url, lines in found.items()
    )


def test_finding_pages_have_no_violations(program, home_page, phone):
    about = StandardPage(title="About us", slug="about", intro="Who we are.")
    home_page.add_child(instance=about)
    library = WorkshopIndexPage(title="Workshop library", slug="workshops")
    home_page.add_child(instance=library)
    workshop = make_workshop(library, title="Understanding psychosis")
    found = {}

    for url in [
        "/",
        "/about/",
        "/groups/",
        "/groups/?q=nothing-matches-this",
        "/groups/?date_from=notadate&kind=zzz&topic=nope&date_to=2020-13-45",
        program["open"].url,
        program["full_waitlist"].url,
        program["full_closed"].url,
        program["drop_in"].url,
        "/workshops/",
        workshop.url,
    ]:
        _check(phone, url, found)

    _assert_none(found)


def test_sign_up_and_manage_pages_have_no_violations(program, phone):
    event = program["open"]
    found = {}

    _check(phone, f"/sign-up/{event.pk}/", found)
    phone.get_by_role("button", name="Sign up").click()
    expect(phone).to_have_title(re.compile(r"^Error: "))
    _check(phone, None, found, "sign-up with errors")
    phone.get_by_label("Your name").fill("Sam")
    phone.get_by_label("Phone number").fill("416 555 0123")
    phone.get_by_role("button", name="Sign up").click()
    _check(phone, None, found, "thanks, phone only", heading="Thank you for signing up")
    _check(phone, f"/sign-up/{program['full_waitlist'].pk}/", found)
    _check(phone, f"/sign-up/{program['full_closed'].pk}/", found)

    sign_up(event, email="confirmed@example.org")
    _check(phone, manage_link("confirmed@example.org"), found, "manage, confirmed")
    phone.get_by_role("link", name="Cancel my place").click()
    _check(phone, None, found, "cancel confirmation", heading="Cancel your place?")
    phone.get_by_role("button", name="Yes, cancel my place").click()
    expect(phone.get_by_role("status")).to_contain_text("Your place is cancelled.")
    _check(phone, None, found, "manage, cancelled")
    sign_up(program["full_waitlist"], email="waiting@example.org")
    _check(phone, manage_link("waiting@example.org"), found, "manage, waitlisted")
    phone.get_by_role("link", name="Leave the waitlist").click()
    _check(phone, None, found, "leave waitlist", heading="Leave the waitlist?")

    _assert_none(found)


def test_error_pages_have_no_violations(program, phone, settings):
    settings.ROOT_URLCONF = "tests.website.error_urls"
    event = program["open"]
    found = {}

    _check(phone, "/no-such-page/", found)
    _check(phone, "/manage/mistyped-link/", found)
    _check(phone, "/broken/", found)
    phone.goto(f"/sign-up/{event.pk}/")
    phone.context.clear_cookies()
    phone.get_by_label("Your name").fill("Sam")
    phone.get_by_label("Email address").fill("sam@example.org")
    phone.get_by_role("button", name="Sign up").click()
    _check(phone, None, found, "CSRF failure", heading="Your form was not sent")

    _assert_none(found)
