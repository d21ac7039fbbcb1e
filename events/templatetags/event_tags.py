"""Template tags through which pages of lower layers show events.

A workshop page lists the events that deliver it; the workshops app knows
nothing of events (it sits below them), so its template asks here.
"""

from django import template

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
