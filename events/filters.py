"""Filters of the events admin listings (sessions, registrations, venues).

The listings and their spreadsheet exports use the same FilterSet, so an
export holds the rows the listing shows.
"""

import datetime as dt

import django_filters
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.widgets import AdminDateInput

from core.dates import site_zone

from .choosers import EventChoiceFilter
from .models import EventPage, EventSession, Registration, Venue
from .permissions import events_visible_to


class SessionFilterSet(WagtailFilterSet):
    """Filters for the sessions listing: event (picked in the event
    chooser, so the page lists no events), status and dates."""

    event = EventChoiceFilter(
        queryset=EventPage.objects.all(), label=gettext_lazy("Event")
    )
    start = django_filters.DateFromToRangeFilter(
        label=gettext_lazy("Date"), widget=DateRangePickerWidget
    )

    class Meta:
        model = EventSession
        fields = ["event", "status", "start"]


class RegistrationFilterSet(WagtailFilterSet):
    """Filters for the registrations listing: event, date, status, and the
    phone numbers kept as typed that staff should check.

    The event is chosen in the event chooser (``events.choosers``) among
    the events the user may see, and the date is typed or picked: the page
    holds no list of events or sessions, so it weighs the same whatever
    the program's history, and names no event the user may not see.
    """

    event = EventChoiceFilter(label=gettext_lazy("Event"))
    date = django_filters.DateFilter(
        label=gettext_lazy("Date (drop-in events)"),
        method="filter_date",
        widget=AdminDateInput,
    )
    phone_to_check = django_filters.BooleanFilter(
        label=gettext_lazy("Phone number to check"),
        method="filter_phone_to_check",
    )

    class Meta:
        model = Registration
        fields = ["event", "date", "status"]

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        user = getattr(request, "user", None)
        self.filters["event"].queryset = (
            events_visible_to(user) if user is not None else EventPage.objects.none()
        )

    def filter_date(self, queryset, name, value):
        """Places on the sessions of drop-in events that start on that day,
        in the site's time zone (as the Date column shows them)."""
        start = dt.datetime.combine(value, dt.time.min, tzinfo=site_zone())
        queryset = queryset.filter(session__start__gte=start)
        if value < dt.date.max:
            end = dt.datetime.combine(
                value + dt.timedelta(days=1), dt.time.min, tzinfo=site_zone()
            )
            queryset = queryset.filter(session__start__lt=end)
        return queryset

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
