"""A person's journeys through the public site on a 375 px phone: find a
group, sign up (first with a mistake), manage the place from the email,
the waitlist, the keyboard alone, and the pages' small details."""

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from events.models import Registration, RegistrationStatus
from tests.conftest import sign_up
from tests.e2e.public_support import (
    EMAIL,
    active_element,
    configure_site,
    has_no_sideways_scroll,
    listing,
    manage_link,
    registration_event,
)
from tests.e2e.support import assert_accessible
from website.models import StandardPage


@pytest.fixture
def program(site, home_page):
    configure_site()
    index = listing(home_page)
    group = registration_event(
        index,
        title="Hearing Voices group",
        kind="group",
        summary="A weekly group for people who hear voices.",
        capacity=8,
        days=2,
    )
    registration_event(index, title="Naloxone training", kind="education", days=1)
    return {"index": index, "group": group}


def test_find_sign_up_with_a_mistake_then_manage_and_cancel(program, phone):
    phone.goto("/groups/")
    phone.get_by_text("More filters: type, place, topic and dates").click()
    phone.get_by_label("Type").select_option(label="Group series")
    phone.get_by_label("Search").fill("voices")
    phone.get_by_role("button", name="Show events").click()

    expect(phone).to_have_url(re.compile(r"kind=group"))
    expect(phone.locator(".session-card__title")).to_have_text(["Hearing Voices group"])
    phone.get_by_role("link", name="Hearing Voices group").click()
    phone.get_by_role("link", name="Sign up").click()

    # A mistake: no name, and an email without its domain.
    phone.get_by_label("Email address").fill("sam@")
    phone.get_by_label("Anything that would help you take part?").fill(
        "I will bring my support worker."
    )
    phone.get_by_role("button", name="Sign up").click()

    expect(phone).to_have_title(re.compile(r"^Error: "))
    summary = phone.locator("#error-summary")
    expect(phone.locator("#error-summary")).to_be_focused()
    assert (
        summary.bounding_box()["y"]
        < phone.locator("form.signup-form").bounding_box()["y"]
    )
    links = summary.get_by_role("link")
    assert links.all_inner_texts() == [
        "Your name: This field is required.",
        "Email address: Enter a valid email address.",
    ]
    assert [link.get_attribute("href") for link in links.all()] == [
        "#id_name",
        "#id_email",
    ]
    expect(phone.get_by_label("Email address")).to_have_value("sam@")
    expect(phone.get_by_label("Anything that would help you take part?")).to_have_value(
        "I will bring my support worker."
    )
    links.nth(1).click()
    expect(phone.locator("#id_email")).to_be_focused()

    phone.get_by_label("Your name").fill("Sam")
    phone.get_by_label("Email address").fill("sam@example.org")
    phone.get_by_role("button", name="Sign up").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Thank you for signing up"
    )
    assert not phone.title().startswith("Error:")
    assert_accessible(phone)

    phone.goto(manage_link("sam@example.org", "Your place is booked"))
    expect(phone.locator(".lead")).to_contain_text("You have a place.")
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Add these sessions to your calendar").click()
    ics = Path(download.value.path()).read_text(encoding="utf-8")
    assert ics.startswith("BEGIN:VCALENDAR")
    assert "Hearing Voices group" in ics

    phone.get_by_role("link", name="Cancel my place").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Cancel your place?")
    assert Registration.objects.get().status == RegistrationStatus.CONFIRMED
    phone.get_by_role("button", name="Yes, cancel my place").click()
    expect(phone.get_by_role("status")).to_contain_text("Your place is cancelled.")
    expect(phone.locator(".lead")).to_contain_text("This registration is cancelled")
    assert Registration.objects.get().status == RegistrationStatus.CANCELLED


def test_waitlisted_person_is_promoted_when_a_place_frees(program, browser_context):
    event = registration_event(program["index"], title="Art group", capacity=1)
    sign_up(event, name="Alex", email="alex@example.org")
    waiting = browser_context().new_page()
    waiting.goto(f"/sign-up/{event.pk}/")
    expect(waiting.locator(".notice")).to_contain_text("This event is full.")
    waiting.get_by_label("Your name").fill("Robin")
    waiting.get_by_label("Email address").fill("robin@example.org")
    waiting.get_by_role("button", name="Join the waitlist").click()
    expect(waiting.get_by_role("heading", level=1)).to_have_text(
        "Thank you for signing up"
    )
    waiting.goto(manage_link("robin@example.org", "You are on the waitlist"))
    expect(waiting.locator(".lead")).to_contain_text("number 1 in line")

    cancelling = browser_context().new_page()
    cancelling.goto(manage_link("alex@example.org", "Your place is booked"))
    cancelling.get_by_role("link", name="Cancel my place").click()
    cancelling.get_by_role("button", name="Yes, cancel my place").click()
    expect(cancelling.locator(".lead")).to_contain_text("is cancelled")

    promotion = next(m for m in mail.outbox if m.subject.startswith("Good news"))
    assert promotion.to == ["robin@example.org"]
    assert "it is now yours" in promotion.body
    waiting.goto(manage_link("robin@example.org", "Good news"))
    expect(waiting.locator(".lead")).to_contain_text("You have a place.")


def test_leave_the_waitlist_from_the_manage_link(program, phone):
    event = registration_event(program["index"], title="Art group", capacity=1)
    sign_up(event, email="first@example.org")
    sign_up(event, name="Robin", email="robin@example.org")

    phone.goto(manage_link("robin@example.org", "You are on the waitlist"))
    phone.get_by_role("link", name="Leave the waitlist").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Leave the waitlist?")
    phone.get_by_role("button", name="Yes, leave the waitlist").click()

    expect(phone.get_by_role("status")).to_contain_text("You have left the waitlist.")
    robin = Registration.objects.get(email="robin@example.org")
    assert robin.status == RegistrationStatus.CANCELLED
    assert any(m.subject.startswith("You have left the waitlist") for m in mail.outbox)


def _tab_to(page, predicate, *, limit=60, key="Tab"):
    """Press Tab until the focused element matches; each stop must show focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        focused = active_element(page)
        assert focused["outline"] or focused["shadow"], f"no visible focus: {focused}"
        if predicate(focused):
            return focused
    raise AssertionError("never reached the element by keyboard")


def test_sign_up_with_the_keyboard_alone(program, phone):
    phone.goto(program["group"].url)

    _tab_to(phone, lambda el: el["text"] == "Sign up")
    phone.keyboard.press("Enter")
    phone.wait_for_url(re.compile(r"/sign-up/"))
    _tab_to(phone, lambda el: el["id"] == "id_name")
    phone.keyboard.type("Kim")
    _tab_to(phone, lambda el: el["id"] == "id_consent_email")
    phone.keyboard.press("Space")
    _tab_to(phone, lambda el: el["tag"] == "button")
    phone.keyboard.press("Enter")

    # No way to reach Kim yet: the summary takes focus, its link leads back.
    expect(phone).to_have_title(re.compile(r"^Error: "))
    expect(phone.locator("#error-summary")).to_be_focused()
    _tab_to(phone, lambda el: el["text"].startswith("Email address:"))
    phone.keyboard.press("Enter")
    expect(phone.locator("#id_email")).to_be_focused()
    phone.keyboard.type("kim@example.org")
    _tab_to(phone, lambda el: el["id"] == "id_name", key="Shift+Tab")
    assert phone.locator("#id_name").input_value() == "Kim"
    _tab_to(phone, lambda el: el["tag"] == "button")
    phone.keyboard.press("Enter")

    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Thank you for signing up"
    )
    kim = Registration.objects.get()
    assert (kim.name, kim.email) == ("Kim", "kim@example.org")
    assert [c.channel for c in kim.consents.all() if c.is_given] == ["email"]


def test_crisis_link_in_header_jumps_to_tappable_numbers(program, phone):
    phone.goto("/groups/")
    header_link = phone.locator("header").get_by_role("link", name="Need help now?")
    header_link.click()

    expect(phone).to_have_url(re.compile(r"#crisis-line$"))
    crisis = phone.locator("#crisis-line")
    expect(crisis).to_be_in_viewport()
    expect(crisis.get_by_role("link", name="988")).to_have_attribute("href", "tel:988")
    expect(crisis.get_by_role("link", name="686868")).to_have_attribute(
        "href", "sms:686868?body=CONNECT"
    )
    footer = phone.locator("footer")
    expect(footer.get_by_role("link", name="416-555-0100")).to_have_attribute(
        "href", "tel:4165550100"
    )


def test_listing_details_marker_headings_and_no_stray_requests(program, phone):
    failed = []
    phone.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    phone.goto("/groups/")

    marker = phone.evaluate(
        """() => {
            const style = getComputedStyle(
                document.querySelector(".filters__more summary"), "::before");
            return {content: style.content, width: style.borderLeftWidth};
        }"""
    )
    assert marker["content"] != "none" and marker["width"] != "0px"
    phone.emulate_media(reduced_motion="reduce")
    phone.get_by_text("More filters: type, place, topic and dates").click()
    turned = phone.evaluate(
        """() => getComputedStyle(
            document.querySelector(".filters__more summary"), "::before").transform"""
    )
    assert turned != "none"  # the marker points down once open
    levels = phone.evaluate(
        "() => [...document.querySelectorAll('main h1, main h2, main h3, main h4')]"
        ".map(h => Number(h.tagName[1]))"
    )
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    day = phone.locator(".day__heading").first
    assert day.evaluate("h => h.tagName") == "H2"
    assert (
        phone.locator(".session-card__title").first.evaluate("h => h.tagName") == "H3"
    )
    # Browsers ask for the icon when they like: ask for it here, both ways.
    icon = phone.locator("link[rel=icon]").get_attribute("href")
    assert phone.request.get(icon).ok
    assert phone.request.get("/favicon.ico").ok
    assert failed == []


def test_home_cards_read_time_then_date(program, phone):
    phone.goto("/")
    when = phone.locator(".session-card__when").first.inner_text()
    assert re.fullmatch(
        r"\d+:\d\d [ap]\.m\. to \d+:\d\d [ap]\.m\., \w+ \d+ \w+", when
    ), when


def test_cancel_button_looks_destructive(program, phone):
    sign_up(program["group"], email="sam@example.org")
    phone.goto(manage_link("sam@example.org"))
    phone.get_by_role("link", name="Cancel my place").click()

    colours = phone.get_by_role("button", name="Yes, cancel my place").evaluate(
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]"
    )
    assert colours == ["rgb(164, 22, 26)", "rgb(255, 255, 255)"]


def test_no_sideways_scroll_at_320_px(program, browser_context, home_page):
    page = browser_context({"width": 320, "height": 640}).new_page()
    group = program["group"]
    sign_up(group, email="sam@example.org")
    contact = StandardPage(
        title="Contact us",
        slug="contact",
        # No hyphen to break at, as in the demo's Contact page.
        body=[("paragraph", "<p>Email: <b>hello@riversidepeersupport.example</b></p>")],
    )
    home_page.add_child(instance=contact)

    pages = [
        "/groups/",
        group.url,
        f"/sign-up/{group.pk}/",
        f"/sign-up/{group.pk}/thanks/",
        manage_link("sam@example.org"),
        manage_link("sam@example.org") + "cancel/",
        "/no-such-page/",
        "/contact/",
    ]
    wide = []
    for url in pages:
        page.goto(url)
        if not has_no_sideways_scroll(page):
            wide.append(url)
    page.goto(f"/sign-up/{group.pk}/")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    if not has_no_sideways_scroll(page):
        wide.append("sign-up with errors")

    assert wide == []
    assert EMAIL in page.locator("footer").inner_text().replace("\n", "")


def test_refused_form_keeps_what_was_typed_and_sends_again(program, phone):
    """The CSRF page: back to the form, what was typed is there, send again."""
    group = program["group"]
    phone.goto(f"/sign-up/{group.pk}/")
    phone.get_by_label("Your name").fill("Jo")
    phone.get_by_label("Email address").fill("jo@example.org")
    phone.context.clear_cookies()
    phone.get_by_role("button", name="Sign up").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Your form was not sent")
    assert phone.title().startswith("Your form was not sent")
    assert not Registration.objects.exists()
    phone.get_by_role("link", name="Go back to the form").click()
    expect(phone.get_by_label("Email address")).to_have_value("jo@example.org")

    expect(phone.get_by_label("Your name")).to_have_value("Jo")
    phone.get_by_role("button", name="Sign up").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Thank you for signing up"
    )
    assert Registration.objects.get().email == "jo@example.org"


def test_sign_up_errors_without_javascript(program, browser_context):
    """The summary is first and focused by ``autofocus`` alone; sign-up works."""
    page = browser_context(java_script_enabled=False).new_page()
    page.goto(f"/sign-up/{program['group'].pk}/")
    page.get_by_label("Your name").fill("Lee")
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#error-summary")).to_be_focused()
    first_in_main = page.evaluate(
        "() => document.querySelector('main h1').nextElementSibling.id"
    )
    assert first_in_main == "error-summary"
    page.get_by_role("link", name=re.compile("^Email address:")).click()
    expect(page).to_have_url(re.compile(r"#id_email$"))
    page.get_by_label("Phone number").fill("416 555 0199")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you for signing up"
    )
    assert Registration.objects.get().phone
