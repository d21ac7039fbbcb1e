"""Shared set-up for the public-site browser journeys."""

import datetime as dt
import re

from django.core import mail
from django.utils import timezone
from wagtail.models import Site

from core.models import SiteSettings
from tests.conftest import make_event_index, make_registration_event, make_session

CRISIS = (
    "<p>In crisis? Call or text <b>988</b> at any time, or go to your nearest "
    "emergency department.</p><p>Youth: text CONNECT to 686868.</p>"
)
PHONE = "416-555-0100"
#: Long enough to widen a 320 px page unless it wraps.
EMAIL = "peer-support-program-coordinators@riverside-community-health.example.org"


def configure_site():
    """Contact details and crisis text as an organisation would set them."""
    site_settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    site_settings.organisation_name = "Riverside Peer Support"
    site_settings.phone = PHONE
    site_settings.email = EMAIL
    site_settings.address = "12 River Street\nToronto"
    site_settings.crisis_line_text = CRISIS
    site_settings.save()
    return site_settings


def listing(home_page):
    """The events listing at /groups/."""
    return make_event_index(home_page, title="Groups and events", slug="groups")


def local_start(days, hour=18):
    """A start time ``days`` from today at ``hour`` o'clock, local time."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def registration_event(index, *, title, days=1, **fields):
    """A published event with sign-up required, meeting ``days`` from now."""
    event = make_registration_event(index, title=title, **fields)
    event.sessions.all().delete()
    make_session(event, start=local_start(days))
    return event


MANAGE_LINK = re.compile(r"https?://\S+/manage/[^/\s]+/")


def manage_link(to, subject_start=""):
    """The manage link in the latest email to ``to`` (and with that subject)."""
    for message in reversed(mail.outbox):
        if to in message.to and message.subject.startswith(subject_start):
            return MANAGE_LINK.search(message.body).group()
    raise AssertionError(f"no email to {to} starting {subject_start!r}")


def active_element(page):
    """The id, tag and text of the element that has focus, and whether its
    focus shows: an outline of 2 px or more (the browser's own 1 px ring is
    too faint to count) or a box-shadow."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                id: el.id, tag: el.tagName.toLowerCase(), text: el.innerText,
                outline: style.outlineStyle !== "none"
                    && parseFloat(style.outlineWidth) >= 2,
                shadow: style.boxShadow !== "none",
            };
        }"""
    )


def has_no_sideways_scroll(page):
    """Whether the page fits its viewport's width (no horizontal scrolling)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth"
    )
