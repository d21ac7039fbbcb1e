"""The public sign-up form and the private manage pages."""

import datetime as dt
import re

import icalendar
import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from events.models import Registration
from events.registration import cancel, manage_token
from tests.conftest import make_registration_event, make_session, make_venue, sign_up

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Sam Rivera",
    "email": "sam@example.org",
    "phone": "",
    "support_needs": "Step-free access please",
    "consent_email": "on",
    "website": "",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


def _sign_up_url(event):
    return event.sign_up_url


def _manage_link(message):
    return re.search(r"http://testserver(/manage/[0-9a-f]{64}/)", message.body).group(1)


def test_event_page_links_to_the_form(site_client, event_index):
    event = make_registration_event(event_index)
    html = site_client.get(event.url).content.decode()
    assert _sign_up_url(event) in html


def test_sign_up_confirms_emails_and_shows_the_same_thanks(
    site_client, event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = site_client.post(_sign_up_url(event), VALID)

    assert response.status_code == 302
    thanks = site_client.get(response["Location"])
    assert "Thank you for signing up" in thanks.content.decode()
    registration = Registration.objects.get()
    assert (registration.name, registration.status, registration.support_needs) == (
        "Sam Rivera",
        "confirmed",
        "Step-free access please",
    )
    [consent] = registration.consents.all()
    assert (consent.channel, consent.wording_version) == ("email", "2026-12")
    assert consent.is_given
    [message] = mail.outbox
    assert message.to == ["sam@example.org"]
    assert manage_token(registration) in message.body
    html_part, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and manage_token(registration) in html_part
    [(filename, content, content_type)] = message.attachments
    assert filename.endswith(".ics") and content_type.startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(content)
    assert len(calendar.events) == 1


def test_repeat_sign_up_gets_the_same_answer(site_client, event_index):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event, "Someone", email="sam@example.org")
    first = site_client.post(_sign_up_url(event), VALID)
    second = site_client.post(_sign_up_url(event), VALID | {"email": "new@example.org"})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Registration.objects.filter(email__iexact="sam@example.org").count() == 1


def test_errors_are_shown_next_to_fields_and_input_is_kept(site_client, event_index):
    event = make_registration_event(event_index)
    response = site_client.post(
        _sign_up_url(event),
        VALID | {"email": "", "phone": "12", "support_needs": "Quiet room"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a phone number we can call or text" in html
    assert "Quiet room" in html and "Sam Rivera" in html
    assert not Registration.objects.exists()


def test_needs_email_or_phone(site_client, event_index):
    event = make_registration_event(event_index)
    response = site_client.post(_sign_up_url(event), VALID | {"email": ""})
    assert "Please give an email address or a phone number" in response.content.decode()
    assert not Registration.objects.exists()


def test_honeypot_looks_like_success_but_keeps_nothing(site_client, event_index):
    event = make_registration_event(event_index)
    response = site_client.post(_sign_up_url(event), VALID | {"website": "http://spam"})
    assert response.status_code == 302
    assert not Registration.objects.exists()
    assert mail.outbox == []


def test_rate_limit_answers_429_and_keeps_what_was_typed(
    site_client, event_index, settings
):
    settings.GATHER_SIGNUP_RATE_LIMIT = 2
    event = make_registration_event(event_index, capacity=10)
    for i in range(2):
        site_client.post(_sign_up_url(event), VALID | {"email": f"p{i}@example.org"})
    response = site_client.post(
        _sign_up_url(event), VALID | {"email": "late@example.org"}
    )
    assert response.status_code == 429
    html = response.content.decode()
    assert "too many sign-ups" in html and "late@example.org" in html
    assert Registration.objects.count() == 2


def test_each_post_counts_once_whatever_its_answer(site_client, event_index, settings):
    settings.GATHER_SIGNUP_RATE_LIMIT = 3
    event = make_registration_event(event_index, capacity=10)
    shown = site_client.post(_sign_up_url(event), VALID | {"name": ""})
    assert shown.status_code == 200
    assert 'value="sam@example.org"' in shown.content.decode()
    for i in range(2):
        answer = site_client.post(
            _sign_up_url(event), VALID | {"email": f"p{i}@example.org"}
        )
        assert answer.status_code == 302
    refused = site_client.post(_sign_up_url(event), VALID | {"email": "x@example.org"})
    assert refused.status_code == 429
    assert Registration.objects.count() == 2


def test_a_refused_sign_up_writes_nothing_and_shows_the_reason(
    site_client, event_index
):
    event = make_registration_event(event_index, capacity=1, waitlist=False)
    sign_up(event)
    response = site_client.post(_sign_up_url(event), VALID)
    assert response.status_code == 409
    assert "Sorry, this event is full." in response.content.decode()
    assert Registration.objects.count() == 1
    assert not Registration.objects.filter(email="sam@example.org").exists()


def test_full_with_waitlist_offers_the_waitlist(site_client, event_index):
    event = make_registration_event(event_index, capacity=1)
    sign_up(event)
    html = site_client.get(_sign_up_url(event)).content.decode()
    assert "Join the waitlist" in html
    site_client.post(_sign_up_url(event), VALID)
    assert Registration.objects.get(email="sam@example.org").waitlist_position == 1


@pytest.mark.parametrize("waitlist", [False])
def test_full_without_waitlist_is_refused_with_409(site_client, event_index, waitlist):
    event = make_registration_event(event_index, capacity=1, waitlist=waitlist)
    sign_up(event)
    get = site_client.get(_sign_up_url(event))
    assert "Sorry, this event is full." in get.content.decode()
    assert '<form method="post"' not in get.content.decode()
    post = site_client.post(_sign_up_url(event), VALID)
    assert post.status_code == 409
    assert Registration.objects.count() == 1


def test_no_registration_event_has_no_form(site_client, event_index):
    event = make_registration_event(event_index, registration_mode="none")
    response = site_client.post(_sign_up_url(event), VALID)
    assert response.status_code == 409
    assert "Just come along" in response.content.decode()


def test_manage_page_shows_status_and_calendar_and_hides_token_from_referrers(
    site_client, event_index
):
    online = make_venue(
        setting="online", online_joining_link="https://meet.example/room"
    )
    event = make_registration_event(event_index, capacity=1, venue=online)
    confirmed, waiting = sign_up(event, "Ana"), sign_up(event, "Ben")

    page = site_client.get(f"/manage/{manage_token(confirmed)}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "You have a place." in html and "https://meet.example/room" in html
    assert page["Referrer-Policy"] == "same-origin"
    assert "no-store" in page["Cache-Control"]

    waiting_html = site_client.get(f"/manage/{manage_token(waiting)}/").content.decode()
    assert "number 1 in line" in waiting_html
    assert "https://meet.example/room" not in waiting_html

    ics = site_client.get(f"/manage/{manage_token(confirmed)}/calendar.ics")
    assert ics["Content-Type"] == "text/calendar; charset=utf-8"
    vevent = icalendar.Calendar.from_ical(ics.content).events[0]
    assert str(vevent["SUMMARY"]) == event.title
    assert str(vevent["STATUS"]) == "CONFIRMED"


def _own_calendar_statuses(client, registration):
    ics = client.get(f"/manage/{manage_token(registration)}/calendar.ics")
    return {str(e["STATUS"]) for e in icalendar.Calendar.from_ical(ics.content).events}


def test_own_calendar_shows_waiting_as_tentative_and_a_cancelled_place_as_cancelled(
    site_client, event_index
):
    event = make_registration_event(event_index, capacity=1)
    make_session(event, start=timezone.now() + dt.timedelta(days=8))
    ana, ben = sign_up(event, "Ana"), sign_up(event, "Ben")
    assert _own_calendar_statuses(site_client, ana) == {"CONFIRMED"}
    assert _own_calendar_statuses(site_client, ben) == {"TENTATIVE"}

    cancel(registration=ana)  # Ben gets the place

    assert _own_calendar_statuses(site_client, ana) == {"CANCELLED"}
    assert _own_calendar_statuses(site_client, ben) == {"CONFIRMED"}


def test_cancel_asks_first_then_cancels_and_promotes(
    site_client, event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=1)
    ana, ben = sign_up(event, "Ana"), sign_up(event, "Ben")
    url = f"/manage/{manage_token(ana)}/cancel/"

    confirm = site_client.get(url)
    assert "Yes, cancel my place" in confirm.content.decode()
    ana.refresh_from_db()
    assert ana.status == "confirmed"

    with django_capture_on_commit_callbacks(execute=True):
        response = site_client.post(url, follow=True)
    assert "Your place is cancelled" in response.content.decode()
    ben.refresh_from_db()
    assert ben.status == "confirmed"


def test_unknown_token_is_404(site_client, home_page):
    assert site_client.get("/manage/" + "0" * 64 + "/").status_code == 404
    assert site_client.post("/manage/nope/cancel/").status_code == 404
    assert site_client.get("/manage/nope/calendar.ics").status_code == 404


def test_error_messages_are_linked_to_their_inputs(site_client, event_index):
    event = make_registration_event(event_index)
    html = site_client.post(
        _sign_up_url(event), VALID | {"phone": "12"}
    ).content.decode()
    phone_input = re.search(r"<input[^>]*name=\"phone\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in phone_input
    assert 'aria-describedby="id_phone_helptext id_phone_error"' in phone_input
    assert 'id="id_phone_error"' in html and 'id="id_phone_helptext"' in html


def test_sign_up_for_a_draft_or_private_event_is_404(site_client, event_index):
    from wagtail.models import PageViewRestriction

    draft = make_registration_event(event_index, publish=False)
    private = make_registration_event(event_index)
    PageViewRestriction.objects.create(
        page=private, restriction_type=PageViewRestriction.LOGIN
    )
    for event in (draft, private):
        assert site_client.get(_sign_up_url(event)).status_code == 404
        assert site_client.post(_sign_up_url(event), VALID).status_code == 404
    assert site_client.get("/sign-up/999999/").status_code == 404
    assert not Registration.objects.exists()
