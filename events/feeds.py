"""Calendar feeds and files: the whole site, one event, one session, and a
facilitator's private feed. No participant data appears in any of them."""

from django.http import Http404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.public_cache import cache_public_view, content_version, known_params

from .calendars import calendar_response, site_feed_horizon, user_for_feed_token
from .listing import FEED_FILTERS, EventFilterForm, filtered_sessions, topics_in_use
from .models import EventSession
from .permissions import sessions_facilitated_by
from .views import published_event_or_404


@require_safe
@cache_public_view(params=FEED_FILTERS, vary=lambda request: site_feed_horizon())
def site_feed(request):
    """Published sessions starting within the site feed's horizon (30 days
    back to a year ahead by default, ``site_feed_horizon``); ``kind``,
    ``setting`` and ``topic`` filter it like the events listing. Unknown
    filter values are ignored.

    The horizon keeps a feed that calendar apps poll from growing with years
    of history; an event's own feed stays complete. Cached per horizon (it
    moves at midnight) and per filters. Its ETag is the stored public
    content version with the filters and the horizon."""
    typed = known_params(request.GET, FEED_FILTERS)
    form = EventFilterForm(typed or None, topics=topics_in_use())
    filters = {
        name: value
        for name, value in form.valid_filters().items()
        if name in FEED_FILTERS
    }
    horizon = site_feed_horizon()
    sessions = filtered_sessions(
        filters=filters, starting_between=(horizon.earliest, horizon.latest)
    )
    number, changed_at = content_version()
    return calendar_response(
        request,
        sessions,
        name=_("Groups and events"),
        filename="events.ics",
        horizon=horizon,
        # Every session, event page, venue, topic or privacy setting saved
        # or deleted puts the version up (``content_changed``): the 304 reads
        # one row instead of every session of the window.
        version=(number, sorted(filters.items()), changed_at),
    )


@require_safe
@cache_public_view()
def event_feed(request, event_id):
    """Every session of one event's series."""
    event = published_event_or_404(event_id)
    return calendar_response(
        request,
        EventSession.objects.filter(event=event),
        name=event.title,
        filename=f"{event.slug}.ics",
    )


@require_safe
@cache_public_view()
def session_feed(request, session_id):
    """One session of a published event, as its own file."""
    session = EventSession.objects.published().filter(pk=session_id).first()
    if session is None:
        raise Http404(_("There is no such session."))
    event = session.event
    return calendar_response(
        request,
        EventSession.objects.filter(pk=session_id),
        name=event.title,
        filename=f"{event.slug}-{session_id}.ics",
    )


@require_safe
def facilitator_feed(request, token):
    """A facilitator's own sessions, at their secret address.

    Private: it carries online joining links, so it is never cached by
    shared caches (nor by Gather's public cache) and never sent on as a
    referrer.
    """
    user = user_for_feed_token(token)
    if user is None:
        raise Http404(_("This calendar address is not valid any more."))
    # Only while they may facilitate: leaving the Facilitators group empties
    # the feed at once, as it closes their rosters.
    sessions = sessions_facilitated_by(user).published()
    return calendar_response(
        request,
        sessions,
        name=_("My sessions"),
        filename="my-sessions.ics",
        private=True,
        include_joining_link=True,
        max_age=300,
    )
