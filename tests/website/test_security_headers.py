"""Content Security Policy, Permissions-Policy and the other security headers.

Public pages run no inline script (nor inline event handlers or
``javascript:`` links) and no inline style, and their policy says so; the
Wagtail admin has its own, looser policy.
"""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from events.registration import manage_token
from tests.conftest import make_registration_event, sign_up

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style[\s>]|<[^>]*\sstyle\s*=", re.IGNORECASE)


def directives(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy, directive by directive."""
    policy = response.headers["Content-Security-Policy"]
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.fixture
def public_pages(site_client, home_page, event_index, django_user_model):
    """Every kind of public page, in the states a person meets, as
    (description, response)."""
    cache.clear()
    event = make_registration_event(event_index, capacity=3)
    person = sign_up(event, "Ana")
    pages = [
        ("home page", site_client.get(home_page.url)),
        ("events listing", site_client.get(event_index.url)),
        ("event page", site_client.get(event.url)),
        ("sign-up form", site_client.get(event.sign_up_url)),
        (
            "sign-up form with mistakes",
            site_client.post(event.sign_up_url, {"name": "", "phone": "12"}),
        ),
        ("thank-you page", site_client.get(f"/sign-up/{event.pk}/thanks/")),
        ("manage page", site_client.get(f"/manage/{manage_token(person)}/")),
        ("not found", site_client.get("/no-such-page/")),
        ("sign-in", site_client.get(reverse("login"))),
        ("password reset", site_client.get(reverse("password_reset"))),
        ("check-in", site_client.get(reverse("check_in_start"))),
    ]
    facilitator = django_user_model.objects.create_user("fac", password="pw")
    site_client.force_login(facilitator)
    pages.append(("facilitator's sessions", site_client.get(reverse("facilitate"))))
    for description, response in pages:
        assert response.status_code in (200, 404), description
    return pages


def test_public_pages_allow_no_inline_script_and_carry_none(public_pages):
    for description, response in public_pages:
        policy = directives(response)
        assert policy["script-src"] == ["'self'"], description
        assert policy["style-src"] == ["'self'"], description
        assert policy["object-src"] == ["'none'"], description
        assert policy["frame-ancestors"] == ["'none'"], description
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), description
        assert not EVENT_HANDLER.search(html), description
        assert "javascript:" not in html.lower(), description
        assert not INLINE_STYLE.search(html), description


def test_the_pages_scripts_come_from_the_sites_own_file(public_pages):
    _, form_with_mistakes = public_pages[4]
    html = form_with_mistakes.content.decode()
    assert 'id="error-summary"' in html
    assert re.search(r'<script src="/static/js/gather\.js" defer></script>', html)


def test_public_pages_keep_the_other_security_headers(public_pages):
    for description, response in public_pages:
        headers = response.headers
        assert headers["X-Frame-Options"] == "DENY", description
        assert headers["Referrer-Policy"] == "same-origin", description
        assert headers["X-Content-Type-Options"] == "nosniff", description
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", description
        permissions = headers["Permissions-Policy"]
        for feature in ("camera", "microphone", "geolocation", "payment"):
            assert f"{feature}=()" in permissions, description


def test_the_admin_has_its_own_policy(client, django_user_model):
    """Wagtail's admin writes inline scripts and styles of its own, so its
    pages allow them, and may frame their own previews; nothing else."""
    admin = django_user_model.objects.create_superuser("boss", password="pw")
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "gravatar" not in response.content.decode()
