"""Who may see which sessions' people and paperwork: one question, one answer.

Every facilitator view, PDF and export asks ``sessions_visible_to``; every
admin screen, export and import that shows registrations asks
``registrations_visible_to``. Nothing else decides it.
"""

from .groups import COORDINATORS_GROUP
from .models import EventPage, EventSession, Registration


def is_coordinator(user) -> bool:
    """Coordinators (and superusers) see every session."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=COORDINATORS_GROUP).exists()


def sessions_visible_to(user):
    """Sessions whose roster, attendance and paperwork ``user`` may see:
    all for coordinators, those of the events they facilitate otherwise."""
    if not user.is_authenticated or not user.is_active:
        return EventSession.objects.none()
    if is_coordinator(user):
        return EventSession.objects.all()
    return EventSession.objects.filter(event__facilitators=user)


# Registrations ----------------------------------------------------------------


def registrations_visible_to(user):
    """Registrations whose names and contact details ``user`` may see: all
    for coordinators, those of the events they facilitate otherwise, none
    for anyone else (or a user who is not active).

    The same events as ``sessions_visible_to``: whoever may see a session
    may see its event's people, and nobody else. Admin screens look a
    registration up in this queryset, so an id of one the user may not see
    is a 404 and tells them nothing.
    """
    if not user.is_authenticated or not user.is_active:
        return Registration.objects.none()
    if is_coordinator(user):
        return Registration.objects.all()
    return Registration.objects.filter(event__facilitators=user)


def events_visible_to(user):
    """Events whose registrations ``user`` may see (``registrations_visible_to``),
    and so may add people to, import people into, move people into or change
    the capacity of. Any other event is refused without a word about who is
    on it."""
    if not user.is_authenticated or not user.is_active:
        return EventPage.objects.none()
    if is_coordinator(user):
        return EventPage.objects.all()
    return EventPage.objects.filter(facilitators=user)
