"""Template tags through which pages of lower layers show events, and
that the session emails share.

A workshop page lists the events that deliver it; the workshops app knows
nothing of events (it sits below them), so its template asks here.
"""

from django import template
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from core.dates import site_zone
from events.models import EventPage, EventSession

register = template.Library()


@register.simple_tag
def upcoming_events_of(workshop):
    """Published, public events delivering ``workshop`` that still have sessions."""
    return (
        EventPage.objects.live()
        .public()
        .filter(
            workshop=workshop,
            pk__in=EventSession.objects.upcoming().values("event_id"),
        )
        .order_by("title")
    )


@register.simple_tag
def session_when(start, end, venue=None):
    """When a session meets, in the site's time zone, and where if
    ``venue``: "Tuesday 8 December, 6:00 p.m. to 7:30 p.m., at Library".
    Ends on a time or a name, never a full stop, so "p.m." never gets a
    second one."""
    zone = site_zone()
    start, end = start.astimezone(zone), end.astimezone(zone)
    when = _("%(day)s, %(start)s to %(end)s") % {
        "day": date_format(start, "l j F"),
        "start": time_format(start, "g:i a"),
        "end": time_format(end, "g:i a"),
    }
    if venue is None:
        return when
    return _("%(when)s, at %(place)s") % {"when": when, "place": venue.name}


@register.filter
def others_going_ahead(sessions, session):
    """Whether any of ``sessions`` other than ``session`` is still to come
    and not cancelled: then the email about ``session`` can say the rest of
    the series is unchanged."""
    now = timezone.now()
    return any(
        other.pk != session.pk and not other.is_cancelled and other.end >= now
        for other in sessions
    )
