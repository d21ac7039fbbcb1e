"""The facilitator area (``/facilitate/``): for now, the private calendar feed.

Everything here needs a login.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from events.calendars import feed_token, regenerate_feed_token
from website.models import absolute_url


@login_required
@require_http_methods(["GET", "POST"])
def calendar_feed(request):
    """Show the facilitator's private feed address; POST makes a new one."""
    if request.method == "POST":
        regenerate_feed_token(request.user)
        messages.success(
            request,
            _("Your calendar has a new address. The old one no longer works."),
        )
        return redirect("facilitator_calendar")
    token = feed_token(request.user)
    url = absolute_url(reverse("facilitator_calendar_feed", args=[token]))
    response = TemplateResponse(
        request,
        "attendance/calendar_feed.html",
        {"https_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]},
    )
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    return response
