"""Site-wide pages, settings and the base template."""

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import timezone
from wagtail.models import Site

from core.models import SiteSettings
from tests.conftest import make_event, make_session

pytestmark = pytest.mark.django_db


def test_home_page_highlights_next_sessions_only(site_client, home_page, event_index):
    soon = make_event(event_index, title="Coffee morning")
    make_session(soon)
    draft = make_event(event_index, title="Unpublished plan", publish=False)
    make_session(draft)

    html = site_client.get("/").content.decode()

    assert "Coffee morning" in html
    assert "Unpublished plan" not in html


def test_every_page_has_skip_link_landmarks_and_crisis_line(site_client, home_page):
    site_settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    site_settings.organisation_name = "Riverside Peer Support"
    site_settings.crisis_line_text = "<p>In crisis? Call <b>988</b> at any time.</p>"
    site_settings.save()

    html = site_client.get("/").content.decode()

    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html and "<header" in html and "<footer" in html
    assert 'Call <b><a href="tel:988">988</a></b> at any time' in html
    assert '<a class="crisis-link" href="#crisis-line">Need help now?</a>' in html
    assert '<section class="crisis-line" id="crisis-line"' in html
    assert "Riverside Peer Support" in html
    assert '<html lang="en">' in html


def test_no_crisis_link_in_header_without_crisis_text(site_client, home_page):
    html = site_client.get("/").content.decode()

    assert "crisis-link" not in html and 'id="crisis-line"' not in html


def test_contact_number_is_tappable_on_thanks_and_empty_listing(site_client, home_page):
    from tests.conftest import make_event_index, make_registration_event

    site_settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    site_settings.phone = "(416) 555-0100"
    site_settings.save()
    index = make_event_index(home_page, slug="groups")
    link = '<a href="tel:4165550100">(416) 555-0100</a>'

    empty = site_client.get("/groups/").content.decode()
    event = make_registration_event(index)
    thanks = site_client.get(f"/sign-up/{event.pk}/thanks/").content.decode()

    assert f"You can also call us on {link} to ask" in empty
    assert f"Questions? Call us on {link}." in thanks


def test_numbers_in_page_text_are_tappable(site_client, home_page):
    """Editors write numbers in a page's paragraphs and callouts (the Contact
    page): they are links there too, not only in the footer."""
    from website.models import StandardPage

    page = StandardPage(
        title="Contact us",
        slug="contact",
        body=[
            ("paragraph", "<p>Phone: <b>(416) 555-0142</b>, 9 am to 5 pm.</p>"),
            ("callout", {"title": "In crisis?", "text": "<p>Call or text 988.</p>"}),
        ],
    )
    home_page.add_child(instance=page)

    html = site_client.get("/contact/").content.decode()

    assert '<b><a href="tel:4165550142">(416) 555-0142</a></b>' in html
    assert '<a href="tel:988">988</a>' in html
    assert "</b>, 9 am to 5 pm.</p>" in html  # hours are not a number to call


def test_home_page_cards_have_no_space_before_the_date_comma(
    site_client, home_page, event_index
):
    make_session(make_event(event_index, title="Coffee morning"))

    html = site_client.get("/").content.decode()

    assert "</time>, " in html and " , " not in html


def test_home_page_shows_empty_state_without_events(site_client, home_page):
    assert (
        "No groups or events are planned yet" in site_client.get("/").content.decode()
    )


def test_unknown_page_is_404(site_client, home_page):
    assert site_client.get("/no-such-page/").status_code == 404


def _run_with_settings(code, **env):
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DATABASE_URL", "GATHER_FIELD_ENCRYPTION_KEYS")
    } | env
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )


def test_sqlite_takes_write_lock_at_begin():
    """Concurrent writers queue (IMMEDIATE) instead of failing mid-transaction."""
    result = _run_with_settings(
        "from website.settings import base;"
        "print(base.DATABASES['default']['OPTIONS']['transaction_mode'])",
        DATABASE_URL="sqlite:////tmp/gather-settings-check.sqlite3",
    )
    assert result.stdout.strip() == "IMMEDIATE", result.stderr


def test_production_refuses_to_start_without_secret_key():
    result = _run_with_settings("import website.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_field_encryption_keys():
    result = _run_with_settings(
        "import website.settings.production", SECRET_KEY="x" * 50
    )
    assert result.returncode != 0
    assert "GATHER_FIELD_ENCRYPTION_KEYS is not set" in result.stderr


def test_production_starts_with_secret_key_and_field_encryption_keys():
    result = _run_with_settings(
        "from website.settings import production;"
        "print(production.GATHER_FIELD_ENCRYPTION_KEYS)",
        SECRET_KEY="x" * 50,
        GATHER_FIELD_ENCRYPTION_KEYS="new-key,old-key",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['new-key', 'old-key']"


def test_times_shown_in_site_time_zone():
    assert settings.TIME_ZONE == "America/Toronto"
    aware = timezone.make_aware(dt.datetime(2026, 7, 1, 18))
    assert aware.utcoffset() == dt.timedelta(hours=-4)


def test_menu_lists_live_menu_pages_but_not_private_ones(site_client, home_page):
    from wagtail.models import PageViewRestriction

    from website.models import StandardPage

    for title, in_menu in [("About us", True), ("Staff only", True), ("Hidden", False)]:
        home_page.add_child(
            instance=StandardPage(
                title=title, slug=title.lower().replace(" ", "-"), show_in_menus=in_menu
            )
        )
    PageViewRestriction.objects.create(
        page=StandardPage.objects.get(title="Staff only"),
        restriction_type=PageViewRestriction.LOGIN,
    )
    nav = site_client.get("/").content.decode().split("<nav", 1)[1].split("</nav>")[0]
    assert "About us" in nav
    assert "Staff only" not in nav and "Hidden" not in nav


def test_public_pages_deny_framing_but_admin_previews_can_frame(
    site_client, home_page, admin_user
):
    assert site_client.get("/")["X-Frame-Options"] == "DENY"
    site_client.force_login(admin_user)
    assert site_client.get("/admin/")["X-Frame-Options"] == "SAMEORIGIN"
