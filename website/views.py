"""The site's error pages (404, 403, CSRF failure, 500) and its favicon.

Someone who lands on an error may be in a hurry or unwell: each page keeps
the site's header and footer, says what happened in plain words, and
offers a way back, the contact number and the crisis line.
"""

import logging
import re

from django.http import (
    Http404,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
)
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import Resolver404
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from wagtail.rich_text import expand_db_html

from core.models import SiteSettings
from events.models import EventIndexPage

logger = logging.getLogger(__name__)

#: Django's own 404 messages name models ("No EventPage matches the given
#: query."): not words for the public, so the page's general text is shown.
TECHNICAL_404 = re.compile(r"^No .+ (matches the given query|found matching the query)")


def _listing_url():
    """The address of the first public events listing, if there is one."""
    listing = EventIndexPage.objects.live().public().order_by("path").first()
    return listing.url if listing else None


def not_found_message(exception) -> str | None:
    """The kind message a view raised ``Http404`` with, if it has one."""
    if not isinstance(exception, Http404) or isinstance(exception, Resolver404):
        return None
    message = exception.args[0] if exception.args else None
    if not isinstance(message, str) or TECHNICAL_404.match(message):
        return None
    return message


def page_not_found(request, exception):
    """404: what the view said (e.g. "This link is not valid"), and ways on."""
    context = {
        "message": not_found_message(exception),
        "listing_url": _listing_url(),
    }
    return render(request, "404.html", context, status=404)


def permission_denied(request, exception):
    """403: this page is not for this person."""
    return render(request, "403.html", {"listing_url": _listing_url()}, status=403)


def csrf_failure(request, reason=""):
    """A form refused by the CSRF check (``CSRF_FAILURE_VIEW``).

    It usually means the page sat open a long time or cookies are blocked:
    the person goes back (what they typed is still in the form), reloads and
    sends again. The technical ``reason`` is logged by Django, not shown.
    """
    back_url = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        back_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back_url = ""
    context = {"back_url": back_url, "listing_url": _listing_url()}
    return render(request, "403_csrf.html", context, status=403)


#: Shown if even the plain 500 template cannot be rendered.
FALLBACK_500 = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p>"
    '<p><a href="/">{home}</a></p></main></body></html>'
)


def _footer_settings(request):
    """The site's contact details and crisis text as plain values, or None.

    The database may be what failed, so every look-up happens here, inside
    one guard, and the template gets no model (a related field would query).
    """
    try:
        site_settings = SiteSettings.for_request(request)
        return {
            "organisation_name": site_settings.organisation_name,
            "phone": site_settings.phone,
            "email": site_settings.email,
            "address": site_settings.address,
            "crisis_line_text": mark_safe(  # noqa: S308 - editor's rich text
                expand_db_html(site_settings.crisis_line_text)
            ),
        }
    except Exception:  # noqa: BLE001 - a broken database must not hide the page
        logger.warning("Site settings unavailable for the error page", exc_info=True)
        return None


def server_error(request):
    """500: rendered without the request's context processors (no session,
    user or menu queries), so it appears even when the database is down."""
    footer_settings = _footer_settings(request)
    context = {"settings": {"core": {"SiteSettings": footer_settings}}}
    try:
        body = loader.render_to_string("500.html", context)
    except Exception:  # noqa: BLE001 - the last resort must always answer
        logger.exception("The 500 page could not be rendered")
        body = FALLBACK_500.format(
            title=escape(_("Sorry, something went wrong")),
            text=escape(_("Please try again in a few minutes.")),
            home=escape(_("Go to the home page")),
        )
    return HttpResponseServerError(body)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send the icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
