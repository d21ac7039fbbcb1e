"""Events, their sessions and venues, and registrations."""

from django.apps import AppConfig


class EventsConfig(AppConfig):
    """EventIndexPage, EventPage, EventSession, Venue and Registration."""

    name = "events"
    verbose_name = "Events"

    def ready(self):
        from taggit.models import Tag

        from core import public_cache, sms

        from . import checks, messaging  # noqa: F401  (checks registers them)
        from .models import EventSession, EventTopic, PlaceOffer, Registration, Venue

        # What the listing, event pages and feeds show besides the pages
        # themselves; places left (the listing and event pages only) come
        # from Registration rows, less the places open waitlist offers hold.
        public_cache.invalidate_on(EventSession, Venue, EventTopic, Tag)
        public_cache.invalidate_on(Registration, PlaceOffer, places=True)

        # A provider's delivery report marks a text delivered or failed.
        sms.text_status_changed.connect(
            messaging.record_text_status, dispatch_uid="events.record_text_status"
        )
