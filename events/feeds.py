"""Calendar feeds and files: the whole site, one event, one session, and a
facilitator's private feed. No participant data appears in any of them."""

from django.http import Http404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from .calendars import calendar_response, user_for_feed_token
from .listing import EventFilterForm, filtered_sessions, topics_in_use
from .models import EventSession


@require_safe
def site_feed(request):
    """Every upcoming published session; ``kind``, ``setting`` and ``topic``
    filter it like the events listing. Unknown filter values are ignored."""
    form = EventFilterForm(request.GET or None, topics=topics_in_use())
    filters = {
        name: value
        for name, value in form.valid_filters().items()
        if name in ("kind", "setting", "topic")
    }
    sessions = filtered_sessions(filters=filters)
    return calendar_response(
        request,
        sessions,
        name=_("Groups and events"),
        filename="events.ics",
    )


def event_feed(request, event):
    """Every session of one event's series (a route of the EventPage)."""
    return calendar_response(
        request,
        EventSession.objects.filter(event=event),
        name=event.title,
        filename=f"{event.slug}.ics",
    )


def session_feed(request, event, session_id):
    """One session of an event, as its own file."""
    sessions = EventSession.objects.filter(event=event, pk=session_id)
    if not sessions.exists():
        raise Http404(_("There is no such session."))
    return calendar_response(
        request,
        sessions,
        name=event.title,
        filename=f"{event.slug}-{session_id}.ics",
    )


@require_safe
def facilitator_feed(request, token):
    """A facilitator's own sessions, at their secret address.

    Private: it carries online joining links, so it is never cached by
    shared caches and never sent on as a referrer.
    """
    user = user_for_feed_token(token)
    if user is None:
        raise Http404(_("This calendar address is not valid any more."))
    sessions = EventSession.objects.published().filter(event__facilitators=user)
    return calendar_response(
        request,
        sessions,
        name=_("My sessions"),
        filename="my-sessions.ics",
        private=True,
        include_joining_link=True,
        max_age=300,
    )
