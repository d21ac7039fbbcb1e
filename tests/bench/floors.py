"""Floor views: the same templates, rendered with the fewest queries we can write.

Each floor is a bare Django function view that fetches exactly the rows its
page shows, with hand-written queries, and renders the page's own template
with ``render_to_string`` (so the context processors run, as for the real
page). It skips Wagtail's routing, hooks and privacy checks, so its time is
roughly the least the page could cost. The bench data has no private pages,
so skipping the privacy checks does not change which rows are shown.

Queries the templates themselves make (site settings, navigation, a page's
parent and topics) happen in both the page and its floor.

``sign_up_floor`` is the floor of a sign-up POST: it only validates the form.
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from taggit.models import Tag

from events.forms import SignUpForm
from events.listing import EventFilterForm
from events.models import (
    EventIndexPage,
    EventPage,
    EventSession,
    RegistrationStatus,
)
from events.registration import registration_refusal


def listing_floor(request, pk):
    """The events listing: first page of upcoming sessions, unfiltered."""
    page = get_object_or_404(EventIndexPage, pk=pk)
    topics = Tag.objects.filter(
        events_eventtopic_items__content_object__live=True,
        events_eventtopic_items__content_object__path__startswith=page.path,
        events_eventtopic_items__content_object__depth__gt=page.depth,
    )
    form = EventFilterForm(None, topics=topics.distinct().order_by("name"))
    sessions = (
        EventSession.objects.filter(
            end__gte=timezone.now(),
            event__live=True,
            event__path__startswith=page.path,
            event__depth__gt=page.depth,
        )
        .select_related("event", "venue", "event__venue")
        .order_by("start", "pk")
    )
    paginator = Paginator(sessions, settings.GATHER_LISTING_PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    context = {
        "page": page,
        "self": page,
        "filter_form": form,
        "page_obj": page_obj,
        "sessions": page_obj.object_list,
        "query_string": "",
    }
    html = render_to_string("events/event_index_page.html", context, request=request)
    return HttpResponse(html)


def event_floor(request, pk):
    """One event: the page with its venue and workshop, sessions, facilitators."""
    confirmed = Q(registrations__status=RegistrationStatus.CONFIRMED)
    page = get_object_or_404(
        EventPage.objects.select_related("venue", "workshop").annotate(
            # Read by the template through ``places_left``; saves a query.
            confirmed_count=Count("registrations", filter=confirmed)
        ),
        pk=pk,
    )
    sessions = list(page.sessions.select_related("venue").order_by("start"))
    venues = [page.venue] if page.venue else []
    for session in sessions:
        if session.venue and session.venue not in venues:
            venues.append(session.venue)
    context = {
        "page": page,
        "self": page,
        "sessions": sessions,
        "signup_refusal": refusal(page, sessions) if page.registration_on else None,
        "facilitators": list(page.facilitators.order_by("first_name", "last_name")),
        "session_venues": venues,
    }
    html = render_to_string("events/event_page.html", context, request=request)
    return HttpResponse(html)


def refusal(page, sessions):
    """``registration_refusal`` for ``page``, using sessions already loaded."""
    return registration_refusal(page, sessions=sessions)


@never_cache
def sign_up_floor(request):
    """A sign-up POST that only validates the form, then redirects.

    It goes through the same middleware as the real sign-up (CSRF included,
    so it is not exempt) and is ``never_cache`` like it, but skips Wagtail's
    routing, the sign-up checks, the rate limit and every database write.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = SignUpForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Invalid sign-up.", status=400)
    return redirect(request.path + "thanks/")
