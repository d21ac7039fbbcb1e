"""Who may see which sessions' people and paperwork: one question, one answer.

Every facilitator view, PDF and export asks ``sessions_visible_to``; nothing
else decides it.
"""

# Both group names are asked for here; events.groups says why they live there.
from events.models import EventPage, EventSession

from .groups import COORDINATORS_GROUP


def is_coordinator(user) -> bool:
    """Coordinators (and superusers) see every session."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=COORDINATORS_GROUP).exists()


def events_visible_to(user):
    """Events whose registrations ``user`` may see and import into: all for
    coordinators, otherwise the events of the sessions they may see."""
    if is_coordinator(user):
        return EventPage.objects.all()
    return EventPage.objects.filter(pk__in=sessions_visible_to(user).values("event_id"))


def sessions_visible_to(user):
    """Sessions whose roster, attendance and paperwork ``user`` may see:
    all for coordinators, those of the events they facilitate otherwise."""
    if not user.is_authenticated or not user.is_active:
        return EventSession.objects.none()
    if is_coordinator(user):
        return EventSession.objects.all()
    return EventSession.objects.filter(event__facilitators=user)
