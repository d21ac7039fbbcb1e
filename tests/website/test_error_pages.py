"""The error pages: the site's look, a kind message, ways on, help to call.

Test settings run with DEBUG off, so these are the pages people get.
"""

import pytest
from django.db import DatabaseError, connection
from django.test import Client
from wagtail.models import Site

from core.models import SiteSettings
from events.registration import register
from tests.conftest import make_event_index, make_registration_event

pytestmark = pytest.mark.django_db

CRISIS = "<p>In crisis? Call <b>988</b> at any time.</p>"


@pytest.fixture
def contact(home_page):
    site_settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    site_settings.organisation_name = "Riverside Peer Support"
    site_settings.phone = "416-555-0100"
    site_settings.crisis_line_text = CRISIS
    site_settings.save()
    return site_settings


@pytest.fixture
def listing(home_page):
    return make_event_index(home_page, title="Groups and events", slug="groups")


def _assert_site_page_with_help(html):
    assert '<meta name="viewport"' in html
    assert '<nav aria-label="Main">' in html
    assert '<a href="/">Go to the home page</a>' in html
    assert '<a href="tel:4165550100">416-555-0100</a>' in html
    assert 'id="crisis-line"' in html
    assert '<a href="tel:988">988</a>' in html
    assert "| Riverside Peer Support</title>" in html


def test_unknown_address_is_a_site_page_with_ways_on(site_client, contact, listing):
    response = site_client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    _assert_site_page_with_help(html)
    assert "We cannot find that page" in html
    assert '<a href="/groups/">See all groups and events</a>' in html
    assert "Resolver404" not in html and "Http404" not in html


def test_mistyped_manage_link_says_so(site_client, contact, listing):
    response = site_client.get("/manage/not-a-real-token/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "This link is not valid. It may have been mistyped." in html
    _assert_site_page_with_help(html)


def test_unknown_event_sign_up_says_so(site_client, contact, listing):
    response = site_client.get("/sign-up/999999/")

    assert response.status_code == 404
    assert "There is no such event." in response.content.decode()


def test_django_technical_404_message_is_not_shown(rf):
    from django.http import Http404

    from website.views import not_found_message

    assert not_found_message(Http404("No EventPage matches the given query.")) is None
    assert not_found_message(Http404("This link is not valid.")) == (
        "This link is not valid."
    )
    assert not_found_message(Http404()) is None


def test_csrf_failure_says_what_to_do_next(contact, listing):
    event = make_registration_event(listing)
    client = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")
    form_url = f"http://localhost/sign-up/{event.pk}/"

    response = client.post(
        f"/sign-up/{event.pk}/",
        {"name": "Sam", "email": "sam@example.org"},
        HTTP_REFERER=form_url,
    )

    assert response.status_code == 403
    html = response.content.decode()
    _assert_site_page_with_help(html)
    assert "Your form was not sent" in html
    assert "Nothing has been saved yet." in html
    assert "send the form again" in html and "reload the page" in html
    assert f'<a href="{form_url}" data-history-back>' in html
    assert "CSRF" not in html
    assert not event.registrations.exists()


def test_csrf_failure_never_links_back_to_another_site(contact):
    client = Client(enforce_csrf_checks=True, HTTP_HOST="localhost")

    response = client.post("/", {}, HTTP_REFERER="https://evil.example.com/form/")

    assert response.status_code == 403
    assert "evil.example.com" not in response.content.decode()
    assert ">Go back to the form</a>" not in response.content.decode()


@pytest.fixture
def failing_client(settings, site_client):
    settings.ROOT_URLCONF = "tests.website.error_urls"
    site_client.raise_request_exception = False
    return site_client


def test_server_error_is_a_site_page_with_help(failing_client, contact):
    response = failing_client.get("/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "Sorry, something went wrong" in html
    assert "The problem is on our side" in html
    _assert_site_page_with_help(html)


def test_permission_denied_is_a_site_page(failing_client, contact, listing):
    response = failing_client.get("/staff-only/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot open this page" in html
    _assert_site_page_with_help(html)


def test_server_error_page_renders_when_the_database_is_down(failing_client, contact):
    """Every query fails while the 500 page is made, whatever asks for it."""

    def database_down(execute, sql, params, many, context):
        raise DatabaseError("the database is down")

    with connection.execute_wrapper(database_down):
        response = failing_client.get("/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "Sorry, something went wrong" in html
    assert '<meta name="viewport"' in html
    assert '<a href="/">Go to the home page</a>' in html
    assert "<title>Sorry, something went wrong</title>" in html


def test_server_error_falls_back_to_plain_html(failing_client, monkeypatch):
    from website import views

    def broken_template(*args, **kwargs):
        raise RuntimeError("template broken")

    monkeypatch.setattr(views.loader, "render_to_string", broken_template)

    response = failing_client.get("/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Sorry, something went wrong</h1>" in html
    assert '<meta name="viewport"' in html


def test_a_registration_is_never_named_on_a_404(site_client, contact, listing):
    """A wrong token answers the same whoever is registered."""
    event = make_registration_event(listing)
    register(event=event, name="Private Person", email="private@example.org")

    html = site_client.get("/manage/guess/").content.decode()

    assert "Private Person" not in html and "private@example.org" not in html


def test_favicon_is_served(site_client, home_page):
    response = site_client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"
    icon = site_client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)


def test_every_page_links_its_icon(site_client, home_page):
    assert '<link rel="icon" href="/static/favicon.svg"' in (
        site_client.get("/").content.decode()
    )
