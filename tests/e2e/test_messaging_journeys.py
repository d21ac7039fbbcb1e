"""Messages on a phone, in a real browser: a person signs up with a phone
number (first mistyped) and reaches their page from the text's short link; a
coordinator picks an event in the event chooser, writes to a group, previews
and sends it, and a person reads it on their own page; a facilitator flags a
session note and a coordinator works it through the follow-up inbox. Every
screen is checked with axe-core.

Screenshots of the screens are saved under ``E2E_SHOTS`` (default
``/tmp/e2e-shots/``) to look at the layout on a phone.
"""

import datetime as dt
import os
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from attendance.models import FollowUp, SessionNote, StaffNotificationPreference
from core import sms
from core.phones import INVALID_PHONE_MESSAGE
from events.consent import CONSENT_WORDING
from events.groups import COORDINATORS_GROUP
from events.models import Channel, GroupMessage, Registration
from tests.conftest import make_event_index, make_registration_event, sign_up
from tests.e2e.public_support import (
    configure_site,
    has_no_sideways_scroll,
    listing,
    registration_event,
)
from tests.e2e.support import assert_accessible, assert_admin_accessible
from tests.e2e.test_event_chooser_journey import choose_event
from website.demo.builder import build_groups

PASSWORD = "a long coordinator passphrase"
FACILITATOR_PASSWORD = "river-walk-4472"
SHOTS = Path(os.environ.get("E2E_SHOTS", "/tmp/e2e-shots"))
SHORT_LINK = re.compile(r"https?://\S+/m/[0-9a-z]+-[0-9A-Za-z]{10}")


@pytest.fixture(autouse=True)
def no_quiet_hours(settings):
    """Quiet hours off (start equals end), so texts to the group go when
    sent whatever the hour the tests run at."""
    settings.GATHER_QUIET_HOURS_START = settings.GATHER_QUIET_HOURS_END = "00:00"


def shot(page, name):
    """A full-page screenshot, to look at the layout on a phone. The admin
    scrolls inside its own container, which a full-page screenshot cuts at
    the viewport, so the viewport is made as tall as the content meanwhile."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    height = page.evaluate(
        """() => Math.max(document.documentElement.scrollHeight,
            ...[...document.querySelectorAll("main, .content-wrapper, #main")]
                .map((el) => el.scrollHeight))"""
    )
    page.set_viewport_size({"width": viewport["width"], "height": max(height, 1)})
    try:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    finally:
        page.set_viewport_size(viewport)


def texts_to(number, *, wait=5.0):
    """The texts sent to ``number`` (E.164), waiting briefly for the live
    server's thread to send them."""
    deadline = time.monotonic() + wait
    while True:
        found = [text for text in sms.outbox if text.to == number]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def short_link_path(text):
    """The path of the short link a text carries."""
    match = SHORT_LINK.search(text.body)
    assert match, f"no short link in {text.body!r}"
    return urlsplit(match.group()).path


@pytest.fixture
def coordinator(site, home_page, django_user_model):
    """A member of the Coordinators group, with the demo's permissions."""
    build_groups()
    user = django_user_model.objects.create_user(
        "casey",
        email="casey@example.org",
        password=PASSWORD,
        first_name="Casey",
        last_name="Rowe",
    )
    user.groups.add(Group.objects.get(name=COORDINATORS_GROUP))
    return user


def admin_accessible(page):
    """axe on an admin screen once Wagtail's messages have faded in: while
    they fade, their half-transparent text fails the contrast rule."""
    page.wait_for_function(
        """() => {
            const list = document.querySelector(".messages > ul");
            return !list || getComputedStyle(list).opacity === "1";
        }"""
    )
    page.evaluate(
        """async () => {
            const frame = () => new Promise((r) => requestAnimationFrame(r));
            await frame();
            await frame();
            const messages = document.querySelector(".messages");
            const fading = messages ? messages.getAnimations({subtree: true}) : [];
            await Promise.all(fading.map((animation) => animation.finished));
        }"""
    )
    assert_admin_accessible(page)


def admin_sign_in(page, user):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/admin/$"))


def test_sign_up_with_a_phone_number_then_the_text_link(site, home_page, phone):
    configure_site()
    event = registration_event(
        listing(home_page), title="Hearing Voices group", kind="group", capacity=8
    )
    phone.goto(f"/sign-up/{event.pk}/")
    assert_accessible(phone)
    # The call questions are there before any number is typed (no JS needed).
    expect(phone.get_by_label("Best times to call you")).to_be_visible()

    phone.get_by_label("Your name").fill("Sam")
    phone.get_by_label("Phone number").fill("416-555-01")
    phone.get_by_role("button", name="Sign up").click()

    expect(phone).to_have_title(re.compile(r"^Error: "))
    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link")
    expect(link).to_have_text(f"Phone number: {INVALID_PHONE_MESSAGE}")
    expect(link).to_have_attribute("href", "#id_phone")
    field = phone.get_by_label("Phone number")
    # What they typed is kept as typed, not reformatted.
    expect(field).to_have_value("416-555-01")
    expect(field).to_have_attribute(
        "aria-describedby", "id_phone_helptext id_phone_error"
    )
    error = phone.locator("#id_phone_error")
    expect(error).to_have_text(str(INVALID_PHONE_MESSAGE))
    # Next to the field: in its own box, just above the input.
    expect(phone.locator(".field--error")).to_have_count(1)
    expect(phone.locator(".field--error #id_phone")).to_have_count(1)
    error_box, field_box = error.bounding_box(), field.bounding_box()
    assert 0 <= field_box["y"] - (error_box["y"] + error_box["height"]) < 40
    assert has_no_sideways_scroll(phone)
    assert_accessible(phone)
    shot(phone, "1-sign-up-phone-error")
    link.click()
    expect(field).to_be_focused()

    field.fill("416-555-0123")
    phone.get_by_label("Best times to call you").fill("Weekday mornings")
    voicemail = phone.get_by_role("group", name="May we leave a voicemail?")
    expect(voicemail.get_by_label("No")).to_be_checked()  # no unless they say yes
    voicemail.get_by_label("Yes").check()
    voicemail.get_by_label("No").check()
    phone.get_by_label(str(CONSENT_WORDING[Channel.TEXT])).check()
    shot(phone, "1-sign-up-filled")
    phone.get_by_role("button", name="Sign up").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Thank you for signing up"
    )
    assert not phone.title().startswith("Error:")
    assert has_no_sideways_scroll(phone)
    assert_accessible(phone)
    shot(phone, "1-thank-you")

    registration = Registration.objects.get()
    assert (registration.phone, registration.email) == ("+14165550123", "")
    assert registration.call_times == "Weekday mornings"
    assert registration.voicemail_ok is False

    (text,) = texts_to("+14165550123")
    assert "you have a place" in text.body
    assert "Hearing Voices" not in text.body  # discreet unless chosen
    phone.goto(short_link_path(text))
    expect(phone).to_have_url(re.compile(r"/manage/[^/]+/$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hearing Voices group")
    expect(phone.locator(".lead")).to_contain_text("Hello Sam. You have a place.")
    expect(phone.get_by_text("Text message: you agreed on")).to_be_visible()
    assert has_no_sideways_scroll(phone)
    assert_accessible(phone)
    shot(phone, "1-manage-from-text")


def test_a_coordinator_messages_a_group_and_a_person_reads_it(
    coordinator, event_index, browser_context, phone
):
    event = make_registration_event(event_index, title="Tuesday circle", capacity=8)
    make_registration_event(event_index, title="Thursday walk", capacity=8)
    sign_up(event, "Ana Email", email="ana@example.org")
    sign_up(event, "Tess Text", email="", phone="416 555 0111", consent=[Channel.TEXT])
    sign_up(event, "Pat Phoneonly", email="", phone="416 555 0199")
    mail.outbox.clear()
    sms.outbox.clear()

    admin_sign_in(phone, coordinator)
    phone.goto("/admin/attendance/messages/")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Message a group")
    admin_accessible(phone)
    # The event is picked in the event chooser's modal (no drop-down of
    # every event), searched for by its title.
    expect(phone.get_by_role("combobox", name="Event", exact=True)).to_have_count(0)
    choose_event(phone, "Tuesday circle", other="Thursday walk")
    expect(phone.locator(".chooser__title")).to_have_text("Tuesday circle")
    shot(phone, "2-message-choose")
    phone.get_by_role("button", name="Next").click()

    expect(phone.get_by_role("heading", level=1)).to_contain_text("Tuesday circle")
    expect(phone.get_by_label("Everyone with a place")).to_be_checked()
    admin_accessible(phone)
    body = "The room has changed: we meet upstairs from now on. See you Tuesday."
    message = phone.get_by_role("textbox", name=re.compile(r"^Message"))
    message.fill(body)
    phone.get_by_role("button", name="Preview").click()

    preview = phone.get_by_role("region", name="Preview")
    expect(preview).to_be_visible()
    counts = dict(
        zip(
            preview.locator("dt").all_inner_texts(),
            preview.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    assert counts == {
        "People": "3",
        "By email": "1",
        "By text message": "1",
        "On the call list": "1",
        "Held until the quiet hours end": "0",
    }
    text = preview.locator(".gather-message__text").inner_text()
    assert body in text
    expect(preview).to_contain_text(f"{len(text)} characters, 1 text message.")
    expect(message).to_have_value(body)
    admin_accessible(phone)
    shot(phone, "2-message-preview")

    preview.get_by_role("button", name="Send to 3 people").click()
    expect(phone.get_by_text("Message sent to 3 people.")).to_be_visible()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Messages sent")
    row = phone.get_by_role("row").filter(has_text=body)
    expect(row).to_contain_text("Everyone with a place")
    expect(row).to_contain_text("3 people")
    cells = row.get_by_role("cell").all_inner_texts()
    assert cells[3:] == [
        "1 sent, 0 waiting, 0 failed",
        "1 sent, 0 waiting, 0 failed",
        "1 to call, 0 done",
    ]
    # On a phone each message is a card that fits the screen's width.
    box = row.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    admin_accessible(phone)
    shot(phone, "2-message-sent")

    assert GroupMessage.objects.get().recipients == 3
    assert [email.to for email in mail.outbox] == [["ana@example.org"]]
    (group_text,) = texts_to("+14165550111")
    assert body in group_text.body
    assert texts_to("+14165550199", wait=0) == []

    person = browser_context().new_page()
    person.goto(short_link_path(group_text))
    messages = person.get_by_role("region", name="Messages from the organisers")
    expect(messages).to_contain_text(body)
    expect(person.locator(".lead")).to_contain_text("Hello Tess Text.")
    assert has_no_sideways_scroll(person)
    assert_accessible(person)
    shot(person, "2-manage-messages")


@pytest.fixture
def facilitator(site, facilitators_group, django_user_model):
    user = django_user_model.objects.create_user(
        "fay", email="fay@example.org", password=FACILITATOR_PASSWORD, first_name="Fay"
    )
    user.groups.add(facilitators_group)
    return user


def _started_session(home_page, facilitator):
    """A session of ``facilitator``'s event that began ten minutes ago."""
    event = make_registration_event(
        make_event_index(home_page), title="Art group", capacity=None
    )
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    sign_up(event, "Ana Lopez", by_coordinator=True)
    session = event.sessions.get()
    start = timezone.now() - dt.timedelta(minutes=10)
    type(session).objects.filter(pk=session.pk).update(
        start=start, end=start + dt.timedelta(hours=2)
    )
    return session


def test_a_flagged_note_is_worked_through_the_follow_ups(
    coordinator, facilitator, home_page, browser_context, phone
):
    session = _started_session(home_page, facilitator)
    fay = browser_context().new_page()
    fay.goto("/accounts/login/")
    fay.get_by_label("Username").fill("fay")
    fay.get_by_label("Password").fill(FACILITATOR_PASSWORD)
    fay.get_by_role("button", name="Sign in").click()
    expect(fay).to_have_url(re.compile(r"/facilitate/$"))
    fay.get_by_role("link", name=re.compile("Art group")).first.click()
    fay.get_by_label("What was covered").fill("Collage and tea")
    fay.get_by_label("Follow-ups for the coordinator").fill(
        "The room heater is broken."
    )
    fay.get_by_label("Flag for the coordinator").check()
    fay.get_by_role("button", name="Save note").click()
    expect(fay.get_by_text("Note saved.")).to_be_visible()
    assert_accessible(fay)
    assert SessionNote.objects.get(session=session).needs_follow_up
    (follow_up,) = FollowUp.objects.all()

    admin_sign_in(phone, coordinator)
    phone.goto("/admin/follow-ups/")
    expect(phone.get_by_role("heading", name="1 follow-up")).to_be_visible()
    item = phone.get_by_role("region", name=re.compile("flagged a session note"))
    expect(item).to_contain_text("Open")
    expect(item).to_contain_text("Art group")
    expect(item.locator("blockquote")).to_have_text("The room heater is broken.")
    expect(item).to_contain_text("Nobody yet")
    admin_accessible(phone)
    shot(phone, "3-follow-ups-open")

    item.get_by_role("button", name="Assign to me").click()
    expect(phone.get_by_text("Assigned to you.")).to_be_visible()
    expect(item).to_contain_text("Assigned toCasey Rowe")
    expect(item.get_by_role("button", name="Assign to me")).to_have_count(0)
    item.get_by_role("button", name="Mark as seen").click()
    expect(phone.get_by_text("Marked as seen.")).to_be_visible()
    expect(item.locator("dt", has_text="Seen")).to_be_visible()
    expect(item.get_by_role("button", name="Mark as seen")).to_have_count(0)
    admin_accessible(phone)
    item.get_by_role("button", name="Resolve").click()
    expect(phone.get_by_text("Resolved.", exact=True)).to_be_visible()
    expect(item.locator(".w-status")).to_have_text("Resolved")
    expect(item.get_by_role("button", name="Reopen")).to_be_visible()
    follow_up.refresh_from_db()
    assert follow_up.resolved_at is not None
    assert follow_up.assigned_to == coordinator
    assert follow_up.acknowledged_by == coordinator
    assert follow_up.resolved_by == coordinator

    choices = phone.get_by_role("form", name="Email me when…")
    choices.get_by_label("A facilitator flags a session note").check()
    choices.get_by_role("button", name="Save my email choices").click()
    expect(phone.get_by_text("Your email choices are saved.")).to_be_visible()
    expect(phone.get_by_label("A facilitator flags a session note")).to_be_checked()
    preference = StaffNotificationPreference.objects.get(user=coordinator)
    assert preference.email_on_flagged_note and not preference.daily_digest
    admin_accessible(phone)
    shot(phone, "3-follow-ups-resolved")

    # The choice works: a new flag on the note reaches the coordinator.
    mail.outbox.clear()
    fay.get_by_label("Follow-ups for the coordinator").fill(
        "The heater is still broken."
    )
    fay.get_by_role("button", name="Save note").click()
    expect(fay.get_by_text("Note saved.")).to_be_visible()
    (email,) = mail.outbox
    assert email.to == ["casey@example.org"]
    assert "heater" not in email.body  # the note's words stay in the inbox
    assert FollowUp.objects.open().count() == 1
