"""Events, their sessions and venues, and registrations."""

from django.apps import AppConfig


class EventsConfig(AppConfig):
    """EventIndexPage, EventPage, EventSession, Venue and Registration."""

    name = "events"
    verbose_name = "Events"

    def ready(self):
        from core import sms

        from . import messaging

        # A provider's delivery report marks a text delivered or failed.
        sms.text_status_changed.connect(
            messaging.record_text_status, dispatch_uid="events.record_text_status"
        )
