"""Events, their sessions and venues, and registrations."""

from django.apps import AppConfig


class EventsConfig(AppConfig):
    """EventIndexPage, EventPage, EventSession, Venue and Registration."""

    name = "events"
    verbose_name = "Events"
