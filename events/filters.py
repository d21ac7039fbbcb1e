"""Filters of the events admin listings (sessions, registrations, venues).

The listings and their spreadsheet exports use the same FilterSet, so an
export holds the rows the listing shows.
"""

import django_filters
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from core.forms import PageChoiceFilter

from .models import EventPage, EventSession, Registration, Venue


class SessionFilterSet(WagtailFilterSet):
    """Filters for the sessions listing: event, status and dates."""

    event = PageChoiceFilter(
        queryset=EventPage.objects.order_by("title"), label=gettext_lazy("Event")
    )
    start = django_filters.DateFromToRangeFilter(
        label=gettext_lazy("Date"), widget=DateRangePickerWidget
    )

    class Meta:
        model = EventSession
        fields = ["event", "status", "start"]


class RegistrationFilterSet(WagtailFilterSet):
    """Filters for the registrations listing: event and status."""

    event = PageChoiceFilter(
        queryset=EventPage.objects.order_by("title"), label=gettext_lazy("Event")
    )

    class Meta:
        model = Registration
        fields = ["event", "status"]


class VenueFilterSet(WagtailFilterSet):
    """Filters for the venue listing: setting and access."""

    class Meta:
        model = Venue
        fields = ["setting", "step_free", "hearing_loop", "quiet_room"]
