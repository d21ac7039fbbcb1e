"""Addresses of the events admin screens, for links from other screens and
from the page editor's panels. Builders of URLs only: no views here, so
anything may link to a screen without importing it."""

from django.urls import reverse
from django.utils.http import urlencode


def sessions_list_url(event) -> str:
    """The sessions listing, filtered to one event."""
    return reverse("event_sessions:index") + "?" + urlencode({"event": event.pk})


def session_action_url(name: str, session, next_url: str) -> str:
    """The URL of a session screen (``edit``, ``cancel``, ``reinstate``,
    ``rest_of_series``) that
    returns to ``next_url`` when done."""
    return (
        reverse(f"event_sessions:{name}", args=[session.pk])
        + "?"
        + urlencode({"next": next_url})
    )


def registrations_list_url(event_id) -> str:
    """The registrations listing, filtered to one event."""
    return reverse("event_registrations:index") + "?" + urlencode({"event": event_id})


def registration_admin_links(event):
    """Admin URLs for one event's registrations."""
    return {
        "registrations": registrations_list_url(event.pk),
        "capacity": reverse("event_registrations:capacity", args=[event.pk]),
    }


def session_admin_links(event):
    """Admin URLs for working on one event's sessions, from its page editor:
    each screen they open comes back to the page editor when done."""
    back = {"next": reverse("wagtailadmin_pages:edit", args=[event.pk])}
    return {
        "list": sessions_list_url(event),
        "add": reverse("event_sessions:add")
        + "?"
        + urlencode({"event": event.pk, **back}),
        "series": reverse("event_sessions:series", args=[event.pk]),
        **registration_admin_links(event),
    }
