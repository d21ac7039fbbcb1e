"""Form posts carry the headers a browser sends, and Django's CSRF check
accepts them.

Django's test client sends no ``Origin``, ``Referer`` or ``Sec-Fetch-Site``,
so a referrer policy that makes browsers send ``Origin: null`` (as
``no-referrer`` does) passes every ordinary test and refuses every form in a
real browser. ``browser_post`` sends what a browser would send for a form on
the page that was just loaded, following that page's ``Referrer-Policy``.
"""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from events.models import RegistrationStatus
from events.registration import manage_token
from tests.conftest import make_registration_event, sign_up

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost"


def browser_headers(page_url: str, referrer_policy: str) -> dict[str, str]:
    """The headers Chromium sends on a same-origin form POST from ``page_url``.

    Only the policies this site could send are modelled; an unknown policy
    fails the test rather than guessing.
    """
    headers = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"}
    policy = referrer_policy.split(",")[-1].strip()
    if policy == "no-referrer":
        headers["Origin"] = "null"
    elif policy in {
        "same-origin",
        "origin",
        "strict-origin",
        "origin-when-cross-origin",
        "strict-origin-when-cross-origin",
        "no-referrer-when-downgrade",
        "unsafe-url",
    }:
        headers["Origin"] = ORIGIN
        headers["Referer"] = (
            ORIGIN + "/" if policy in {"origin", "strict-origin"} else page_url
        )
    else:
        raise AssertionError(f"unmodelled Referrer-Policy {referrer_policy!r}")
    return headers


def browser_post(client: Client, path: str, data=None, *, form_page: str = ""):
    """GET the page holding the form, then POST it as Chromium would."""
    form_page = form_page or path
    page = client.get(form_page)
    assert page.status_code == 200, form_page
    token = re.search(
        rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content
    ).group(1)
    headers = browser_headers(ORIGIN + form_page, page["Referrer-Policy"])
    return client.post(
        path,
        {"csrfmiddlewaretoken": token.decode(), **(data or {})},
        headers=headers,
    )


@pytest.fixture
def browser(client):
    """A client that enforces CSRF checks, as the real middleware does."""
    strict = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    return strict


@pytest.fixture
def facilitator_session(event_index, django_user_model, facilitators_group):
    """A facilitator and their event's session, with Ana signed up."""
    user = django_user_model.objects.create_user("fay", password="pw")
    user.groups.add(facilitators_group)
    event = make_registration_event(event_index, capacity=5)
    event.facilitators.add(user)
    event.save_revision().publish()
    session = event.sessions.get()
    return user, session, sign_up(event, "Ana")


def test_secret_link_pages_keep_their_address_on_the_site(browser, event_index):
    registration = sign_up(make_registration_event(event_index), "Ana")
    page = browser.get(f"/manage/{manage_token(registration)}/")
    assert page.status_code == 200
    assert registration.event.title in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"
    assert b'name="referrer"' not in page.content


def test_a_browser_can_cancel_a_place_from_the_manage_link(browser, event_index):
    registration = sign_up(make_registration_event(event_index), "Ana")
    token = manage_token(registration)
    response = browser_post(browser, f"/manage/{token}/cancel/")
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CANCELLED


def test_a_browser_can_sign_up(browser, event_index):
    event = make_registration_event(event_index)
    url = reverse("event_sign_up", args=[event.pk])
    response = browser_post(
        browser, url, {"name": "Ana", "email": "ana@example.org", "consent_email": "on"}
    )
    assert response.status_code == 302
    assert event.registrations.get().name == "Ana"


def test_a_browser_can_use_every_facilitator_form(
    browser, facilitator_session, time_machine
):
    user, session, registration = facilitator_session
    time_machine.move_to(session.start + dt.timedelta(minutes=5))
    browser.force_login(user)
    page = reverse("facilitate_session", args=[session.pk])

    posts = [
        (
            reverse("facilitate_attendance", args=[session.pk]),
            {f"status-{registration.pk}": "present"},
        ),
        (reverse("facilitate_walk_in", args=[session.pk]), {"name": "Walk In"}),
        (
            reverse("facilitate_note", args=[session.pk]),
            {"covered": "Check-in and goals."},
        ),
    ]
    for path, data in posts:
        response = browser_post(browser, path, data, form_page=page)
        assert response.status_code == 302, (path, response.status_code)
    assert session.attendance.count() == 2

    calendar = reverse("facilitator_calendar")
    assert browser_post(browser, calendar).status_code == 302

    response = browser_post(browser, reverse("logout"), form_page=calendar)
    assert response.status_code == 302
    assert "_auth_user_id" not in browser.session


def test_a_page_under_no_referrer_would_be_refused(browser, event_index):
    """The model of the browser is faithful: ``no-referrer`` is refused."""
    registration = sign_up(make_registration_event(event_index), "Ana")
    path = f"/manage/{manage_token(registration)}/cancel/"
    page = browser.get(path)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    response = browser.post(
        path,
        {"csrfmiddlewaretoken": token.group(1).decode()},
        headers=browser_headers(ORIGIN + path, "no-referrer"),
    )
    assert response.status_code == 403
