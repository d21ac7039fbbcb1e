"""Who may see which sessions' people and paperwork: one question, one answer.

Every facilitator view, PDF, feed and export asks ``sessions_visible_to``
(or, for "my own sessions", ``sessions_facilitated_by``); every admin
screen, export and import that shows registrations asks
``registrations_visible_to``; the call list asks
``call_requests_visible_to`` (the same people). Nothing else decides it.

A facilitator's access comes from three things together: being listed on
the event (``EventPage.facilitators``), being in the Facilitators group,
and being active. Taking someone out of the group, off the event, or
deactivating them ends it at once, on every screen, sheet and feed.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from .groups import COORDINATORS_GROUP, FACILITATORS_GROUP
from .models import (
    CallRequest,
    EventPage,
    EventSession,
    Registration,
    RegistrationMode,
)


def _signed_in(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def _role_groups(user) -> frozenset:
    """Which of the Coordinators and Facilitators groups ``user`` is in.

    Read once per user object, as Django caches a user's permissions on
    it: a request loads its user afresh, so a change of groups counts from
    the next request, and one screen asking several questions costs one
    query.
    """
    cached = getattr(user, "_gather_role_groups", None)
    if cached is None:
        cached = frozenset(
            user.groups.filter(
                name__in=(COORDINATORS_GROUP, FACILITATORS_GROUP)
            ).values_list("name", flat=True)
        )
        user._gather_role_groups = cached
    return cached


def is_coordinator(user) -> bool:
    """Coordinators (and superusers) see every session."""
    if not _signed_in(user):
        return False
    return user.is_superuser or COORDINATORS_GROUP in _role_groups(user)


def is_facilitator(user) -> bool:
    """Whether ``user`` is an active member of the Facilitators group, the
    condition for any access through being listed on an event."""
    if not _signed_in(user):
        return False
    return FACILITATORS_GROUP in _role_groups(user)


def facilitated_events_filter(user, prefix: str = "") -> Q:
    """The condition "an event ``user`` facilitates and still may", on
    a queryset whose event is reached through ``prefix`` (``"event__"`` for
    sessions and registrations). Matches nothing for someone who is not an
    active member of the Facilitators group."""
    if not is_facilitator(user):
        return Q(pk__in=[])
    return Q(**{f"{prefix}facilitators": user})


def sessions_facilitated_by(user):
    """Sessions of the events ``user`` facilitates (listed, in the group,
    active): their own calendar feed, whatever else they may see."""
    return EventSession.objects.filter(facilitated_events_filter(user, "event__"))


def sessions_visible_to(user):
    """Sessions whose roster, attendance and paperwork ``user`` may see:
    all for coordinators, those of the events they facilitate otherwise."""
    if not _signed_in(user):
        return EventSession.objects.none()
    if is_coordinator(user):
        return EventSession.objects.all()
    return sessions_facilitated_by(user)


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
    if not _signed_in(user):
        return Registration.objects.none()
    if is_coordinator(user):
        return Registration.objects.all()
    return Registration.objects.filter(facilitated_events_filter(user, "event__"))


def events_visible_to(user):
    """Events whose registrations ``user`` may see (``registrations_visible_to``),
    and so may add people to, import people into, move people into or change
    the capacity of. Any other event is refused without a word about who is
    on it."""
    if not _signed_in(user):
        return EventPage.objects.none()
    if is_coordinator(user):
        return EventPage.objects.all()
    return EventPage.objects.filter(facilitated_events_filter(user))


def events_to_add_people_to(user):
    """Events ``user`` may add someone to by hand (the admin's add form):
    those of ``events_visible_to`` that take sign-ups, drafts included (a
    coordinator's own sign-up rules skip the window, not the sign-up mode)."""
    return events_visible_to(user).exclude(registration_mode=RegistrationMode.NONE)


def events_to_move_people_to(user, *, from_event_id):
    """Events ``user`` may move someone on ``from_event_id`` to (Move to):
    the published ones of ``events_to_add_people_to``, other than that one."""
    return events_to_add_people_to(user).live().exclude(pk=from_event_id)


# The call list ------------------------------------------------------------------


def may_use_call_list(user) -> bool:
    """Whether ``user`` may open the call list at all: coordinators, and
    facilitators (who see their own events' calls there). Editors and
    anyone else are refused."""
    return is_coordinator(user) or is_facilitator(user)


def call_requests_visible_to(user):
    """Call requests whose person (name, number) ``user`` may see, and so
    may mark: the same people as ``registrations_visible_to``, so all for
    coordinators, those of the events they facilitate otherwise."""
    if not _signed_in(user):
        return CallRequest.objects.none()
    if is_coordinator(user):
        return CallRequest.objects.all()
    return CallRequest.objects.filter(
        facilitated_events_filter(user, "registration__event__")
    )


def coordinators():
    """Active users ``is_coordinator`` says yes to: members of the
    Coordinators group and superusers (who is assigned follow-ups, who
    may be emailed about them)."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=COORDINATORS_GROUP))
        .distinct()
    )
