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
    """Filters for the registrations listing: event, status, and the phone
    numbers kept as typed that staff should check."""

    event = PageChoiceFilter(
        queryset=EventPage.objects.order_by("title"), label=gettext_lazy("Event")
    )
    session = django_filters.ModelChoiceFilter(
        queryset=EventSession.objects.filter(event__sign_up_per="session")
        .select_related("event")
        .order_by("-start"),
        label=gettext_lazy("Date (drop-in events)"),
    )
    phone_to_check = django_filters.BooleanFilter(
        label=gettext_lazy("Phone number to check"),
        method="filter_phone_to_check",
    )

    class Meta:
        model = Registration
        fields = ["event", "session", "status"]

    def filter_phone_to_check(self, queryset, name, value):
        """``Registration.objects.phone_needs_check()``, or everyone else."""
        if value:
            return queryset.phone_needs_check()
        return queryset.exclude(pk__in=Registration.objects.phone_needs_check())


class VenueFilterSet(WagtailFilterSet):
    """Filters for the venue listing: setting and access."""

    class Meta:
        model = Venue
        fields = ["setting", "step_free", "hearing_loop", "quiet_room"]
