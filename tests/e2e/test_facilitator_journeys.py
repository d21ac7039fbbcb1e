"""Facilitators on a phone: signing in, a session from attendance to
check-in, a headcount drop-in, the calendar feed, a forgotten password; and
every page of the facilitator area and of self check-in checked with axe."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from attendance.checkin import check_in_code
from attendance.models import AttendanceRecord, Headcount, SessionNote
from events.sessions import cancel_session
from tests.conftest import make_event_index, make_registration_event, sign_up
from tests.e2e.support import assert_accessible

PASSWORD = "river-walk-4472"


@pytest.fixture
def facilitator(site, facilitators_group):
    user = User.objects.create_user(
        "fay", email="fay@example.org", password=PASSWORD, first_name="Fay"
    )
    user.groups.add(facilitators_group)
    return user


def _event(home_page, facilitator, **fields):
    """A published event of ``facilitator`` with one session tomorrow
    (people sign up before ``_move`` brings it closer)."""
    event = make_registration_event(
        make_event_index(home_page), capacity=None, **fields
    )
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    return event


def _move(session, *, starts_in):
    start = timezone.now() + starts_in
    type(session).objects.filter(pk=session.pk).update(
        start=start, end=start + dt.timedelta(hours=2)
    )
    session.refresh_from_db()
    return session


def _sign_in(page, username="fay", password=PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _status(page, name, status):
    page.get_by_role("group", name=name).get_by_label(status, exact=True).check()


def _checked(page, name):
    group = page.get_by_role("group", name=name)
    return group.locator("label:has(input:checked)").inner_text().strip()


def test_a_session_on_a_phone_from_sign_in_to_sign_out(
    phone, browser_context, home_page, facilitator
):
    event = _event(home_page, facilitator, title="Art group")
    for name in ("Ana Lopez", "Ben Ode", "Cy Park", "Dee Kim"):
        sign_up(event, name, by_coordinator=True)
    # Starts in ten minutes: attendance and check-in are open.
    session = _move(event.sessions.get(), starts_in=dt.timedelta(minutes=10))

    phone.goto("/accounts/login/")
    assert_accessible(phone)
    _sign_in(phone)
    expect(phone).to_have_url(re.compile(r"/facilitate/$"))
    expect(phone.get_by_role("heading", name="Your sessions")).to_be_visible()
    assert_accessible(phone)

    phone.get_by_role("link", name=re.compile("Art group")).first.click()
    expect(phone.get_by_role("heading", name="Art group")).to_be_visible()
    assert_accessible(phone)

    # One by one: Ana is here, Dee is not (yet).
    _status(phone, "Ana Lopez", "Present")
    _status(phone, "Dee Kim", "Absent")
    phone.get_by_role("button", name="Save attendance").click()
    expect(phone.get_by_text("Attendance saved (2 changes).")).to_be_visible()
    # Cy sends word he cannot come; the rest are here. The button below
    # saves Cy's status, chosen but not saved, before marking the rest.
    _status(phone, "Cy Park", "Excused")
    phone.get_by_role("button", name="Mark everyone not yet marked").click()
    expect(phone.get_by_text("Attendance saved (1 change).")).to_be_visible()
    expect(phone.get_by_text("1 person marked present.")).to_be_visible()
    assert _checked(phone, "Ben Ode") == "Present"
    assert _checked(phone, "Cy Park") == "Excused"
    assert _checked(phone, "Dee Kim") == "Absent"

    phone.get_by_label("Name of someone who came without signing up").fill("Eve")
    phone.get_by_role("button", name="Add walk-in").click()
    expect(phone.get_by_text("Walk-in added.")).to_be_visible()
    expect(phone.get_by_role("group", name="Eve walk-in")).to_be_visible()

    phone.get_by_label("What was covered").fill("Collage and tea")
    phone.get_by_role("button", name="Save note").click()
    expect(phone.get_by_text("Note saved.")).to_be_visible()
    assert_accessible(phone)

    sheet = phone.get_by_role("link", name="Sign-in sheet", exact=True)
    response = phone.request.get(sheet.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    phone.get_by_role("link", name="Check-in code to show on a screen").click()
    code = phone.locator(".check-in-code strong").inner_text()
    assert code == check_in_code(session)
    check_in_url = phone.locator(".check-in-screen p strong").first.inner_text()
    assert_accessible(phone)

    # Dee arrives and checks in on her own phone, by picking her name.
    participant = browser_context().new_page()
    participant.goto(check_in_url)
    expect(
        participant.get_by_role("heading", name="Check in to Art group")
    ).to_be_visible()
    assert_accessible(participant)
    expect(participant.get_by_label("Dee K.")).to_be_visible()
    assert participant.get_by_label("Ana L.").count() == 0  # already here
    participant.get_by_label("Dee K.").check()
    participant.get_by_role("button", name="Check in").click()
    expect(
        participant.get_by_role("heading", name="You are checked in")
    ).to_be_visible()
    expect(participant.get_by_text("Thank you, Dee K.!")).to_be_visible()
    assert_accessible(participant)

    phone.get_by_role("link", name="Back to the session").click()
    assert _checked(phone, "Dee Kim") == "Present"
    statuses = dict(
        AttendanceRecord.objects.values_list("registration__name", "status")
    )
    assert statuses == {
        "Ana Lopez": "present",
        "Ben Ode": "present",
        "Cy Park": "excused",
        "Dee Kim": "present",
        None: "present",  # Eve, the walk-in
    }
    assert SessionNote.objects.get().covered == "Collage and tea"

    # Signing out from the session's own page, the last one used.
    phone.get_by_role("button", name="Sign out").click()
    expect(phone).to_have_url(re.compile(r"^http://[^/]+/$"))
    phone.goto("/facilitate/")
    expect(phone).to_have_url(re.compile(r"/accounts/login/\?next="))


def test_a_walk_in_without_a_name_is_explained_at_the_top(
    phone, home_page, facilitator
):
    event = _event(home_page, facilitator, title="Art group")
    for name in ("Ana Lopez", "Ben Ode", "Cy Park", "Dee Kim"):
        sign_up(event, name, by_coordinator=True)
    session = _move(event.sessions.get(), starts_in=dt.timedelta(minutes=10))
    _sign_in(phone)
    phone.goto(f"/facilitate/sessions/{session.pk}/")

    phone.get_by_role("button", name="Add walk-in").click()

    summary = phone.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(phone).to_have_title(re.compile(r"^Error: "))
    assert_accessible(phone)
    summary.get_by_role("link", name=re.compile("This field is required")).click()
    expect(
        phone.get_by_label("Name of someone who came without signing up")
    ).to_be_focused()

    # A double tap adds the walk-in once.
    phone.get_by_label("Name of someone who came without signing up").fill("Eve")
    phone.get_by_role("button", name="Add walk-in").click()
    expect(phone.get_by_text("Walk-in added.")).to_be_visible()
    phone.get_by_label("Name of someone who came without signing up").fill("eve ")
    phone.get_by_role("button", name="Add walk-in").click()
    expect(phone.get_by_text("Eve is already on the list")).to_be_visible()
    assert AttendanceRecord.objects.filter(walk_in_name="Eve").count() == 1


def test_check_in_pages_when_closed_or_the_code_is_wrong(phone, home_page, facilitator):
    event = _event(home_page, facilitator, title="Walk group")
    # In two hours: check-in opens in an hour and a half.
    session = _move(event.sessions.get(), starts_in=dt.timedelta(hours=2))

    # No camera: the code is typed, wrongly first.
    phone.goto("/check-in/")
    assert_accessible(phone)
    phone.get_by_label("Check-in code").fill("wrong-cod")
    phone.get_by_role("button", name="Go to check-in").click()
    expect(
        phone.get_by_text("could not find a session with this check-in code")
    ).to_be_visible()
    expect(phone).to_have_url(re.compile(r"/check-in/WRONGCOD/$"))
    expect(
        phone.get_by_role("heading", name="We could not find that code")
    ).to_be_visible()
    assert_accessible(phone)

    code = check_in_code(session)
    phone.get_by_label("Check-in code").fill(f"{code[:4].lower()} {code[4:]}")
    phone.get_by_role("button", name="Go to check-in").click()
    expect(phone).to_have_url(re.compile(f"/check-in/{code}/$"))
    expect(phone.get_by_role("heading", name="Check-in is not open")).to_be_visible()
    expect(phone.get_by_text("30 minutes before the session starts")).to_be_visible()
    assert_accessible(phone)


def test_a_headcount_drop_in_gets_its_numbers(phone, home_page, facilitator):
    event = _event(home_page, facilitator, title="Drop-in", headcount_only=True)
    _move(event.sessions.get(), starts_in=-dt.timedelta(minutes=10))
    _sign_in(phone)

    phone.get_by_role("link", name=re.compile("Drop-in")).first.click()
    assert_accessible(phone)
    phone.get_by_label("How many people came in total").fill("14")
    phone.get_by_label("Of those, how many were new").fill("3")
    phone.get_by_role("button", name="Save headcount").click()
    expect(phone.get_by_text("Headcount saved.")).to_be_visible()
    headcount = Headcount.objects.get()
    assert (headcount.attendees, headcount.walk_ins) == (14, 3)


def test_sessions_before_they_start_cancelled_and_the_calendar_feed(
    phone, home_page, facilitator
):
    _sign_in(phone)
    expect(phone.get_by_text("No sessions today.")).to_be_visible()
    assert_accessible(phone)  # the list with no sessions

    later = _event(home_page, facilitator, title="Book club")
    sign_up(later, "Ana Lopez", support_needs="A seat near the door")
    called_off = _event(home_page, facilitator, title="Quiz night")
    cancel_session(session=called_off.sessions.get(), notify=False)

    phone.goto(f"/facilitate/sessions/{later.sessions.get().pk}/")
    expect(phone.get_by_text("This session has not started yet.")).to_be_visible()
    expect(phone.get_by_text("A seat near the door")).to_be_visible()
    assert_accessible(phone)

    phone.goto(f"/facilitate/sessions/{called_off.sessions.get().pk}/")
    expect(phone.get_by_text("This session is cancelled.")).to_be_visible()
    assert_accessible(phone)

    phone.goto("/facilitate/calendar/")
    old = phone.locator("#feed-url").input_value()
    assert_accessible(phone)
    phone.get_by_role("button", name="Make a new address").click()
    expect(phone.get_by_text("Your calendar has a new address.")).to_be_visible()
    assert phone.locator("#feed-url").input_value() != old


def test_a_forgotten_password_is_reset_by_email(phone, facilitator):
    phone.goto("/accounts/login/")
    phone.get_by_role("link", name="Forgot your password?").click()
    assert_accessible(phone)
    phone.get_by_label("Email").fill("fay@example.org")
    phone.get_by_role("button", name="Email me a link").click()
    expect(phone.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_accessible(phone)

    (message,) = mail.outbox
    link = re.search(r"http\S+/accounts/password-reset/\S+/", message.body)[0]
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert_accessible(phone)
    phone.get_by_label(re.compile(r"^New password \(")).fill("new-garden-9931")
    phone.get_by_label("New password confirmation").fill("new-garden-9931")
    phone.get_by_role("button", name="Save my new password").click()
    expect(
        phone.get_by_role("heading", name="Your new password is saved")
    ).to_be_visible()
    assert_accessible(phone)

    phone.get_by_role("link", name="Sign in").last.click()
    _sign_in(phone, password="new-garden-9931")
    expect(phone).to_have_url(re.compile(r"/facilitate/$"))

    phone.goto(link)  # used once already
    expect(
        phone.get_by_role("heading", name="This link does not work any more")
    ).to_be_visible()
    assert_accessible(phone)
