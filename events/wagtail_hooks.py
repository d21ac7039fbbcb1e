"""Registers the events admin screens and their audit-log actions."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.log_actions import LogFormatter

from .admin_calls import (
    CallsMenuItem,
    CallsWaitingPanel,
    call_list_view,
    mark_call_view,
)
from .admin_import import import_view
from .admin_privacy import erase_person_view
from .admin_views import EventsAdminGroup
from .choosers import event_chooser_viewset
from .permissions import is_coordinator
from .resources.registrations import RegistrationResource
from .resources.schedule import ScheduleResource
from .resources.venues import VenueResource


@hooks.register("register_admin_viewset")
def register_events_viewsets():
    return EventsAdminGroup()


@hooks.register("register_admin_viewset")
def register_event_chooser():
    return event_chooser_viewset


@hooks.register("register_log_actions")
def register_events_log_actions(actions):
    """The actions ``events.registration`` and ``events.sessions`` log.

    Entries written before the workflows logged themselves used
    ``wagtail.create`` for a new session or registration; those keep
    Wagtail's own label.
    """
    for action, label, message in [
        ("created", _("Add session"), _("Session added")),
        ("changed", _("Change session"), _("Session changed")),
        ("cancelled", _("Cancel session"), _("Session cancelled")),
        ("reinstated", _("Reinstate session"), _("Session reinstated")),
    ]:
        actions.register_action(f"events.session.{action}", label, message)
    for action, label, message in [
        ("created", _("Add registration"), _("Registration added")),
        ("cancelled", _("Cancel registration"), _("Registration cancelled")),
        ("left_waitlist", _("Leave the waitlist"), _("Left the waitlist")),
        ("promoted", _("Promote from waitlist"), _("Promoted from the waitlist")),
        ("moved", _("Move registration"), _("Registration moved")),
        ("viewed", _("View a registration"), _("Registration viewed")),
        ("offered", _("Offer a place"), _("Offered a place from the waitlist")),
        ("offer_accepted", _("Accept an offer"), _("Offer of a place accepted")),
        ("offer_declined", _("Decline an offer"), _("Offer of a place declined")),
        ("offer_expired", _("Let an offer expire"), _("Offer of a place expired")),
        (
            "consent_withdrawn",
            _("Withdraw consent"),
            _("Consent to be contacted withdrawn"),
        ),
    ]:
        actions.register_action(f"events.registration.{action}", label, message)
    for action, label, message in [
        ("started", _("Start a series that keeps going"), _("Series started")),
        ("stopped", _("Stop a series"), _("Series stopped")),
    ]:
        actions.register_action(f"events.series_rule.{action}", label, message)
    actions.register_action("events.registration.created_in_bulk")(AddedInBulk)
    actions.register_action("events.registration.erased")(Erased)
    actions.register_action(
        "events.registrations.viewed",
        _("View the registrations listing"),
        _("Registrations listing viewed"),
    )
    actions.register_action(
        "events.calls.viewed",
        _("View the call list"),
        _("Call list viewed"),
    )
    actions.register_action("events.call.attempted", _("Try a call"), _("Call tried"))
    actions.register_action(
        "events.person.searched",
        _("Search for a person to erase"),
        _("Searched for a person to erase"),
    )
    actions.register_action(
        "events.registration.deleted",
        _("Delete registration"),
        _("A registration added by mistake was deleted"),
    )


class AddedInBulk(LogFormatter):
    """People a batch (an import) added to an event, on the event's page:
    "120 registrations added (100 with a place, 20 waiting)"."""

    label = _("Add registrations in bulk")

    def format_message(self, log_entry):
        data = log_entry.data
        count = data.get("count", 0)
        return ngettext(
            "%(count)s registration added (%(confirmed)s with a place, "
            "%(waitlisted)s waiting)",
            "%(count)s registrations added (%(confirmed)s with a place, "
            "%(waitlisted)s waiting)",
            count,
        ) % {
            "count": count,
            "confirmed": data.get("confirmed", 0),
            "waitlisted": data.get("waitlisted", 0),
        }


class Erased(LogFormatter):
    """A person's details erased on request, on the event's page: counts
    only ("1 registration erased; 4 attendance records kept")."""

    label = _("Erase a person's details")

    def format_message(self, log_entry):
        data = log_entry.data
        count = data.get("count", 0)
        return ngettext(
            "%(count)s registration erased; %(records)s attendance records kept",
            "%(count)s registrations erased; %(records)s attendance records kept",
            count,
        ) % {"count": count, "records": data.get("attendance_records", 0)}


@hooks.register("register_admin_urls")
def register_import_url():
    return [
        path("events/import-calendar/", import_view, name="events_ics_import"),
        path("privacy/erase/", erase_person_view, name="erase_person"),
        path("calls/", call_list_view, name="event_calls"),
        path("calls/<int:pk>/mark/", mark_call_view, name="event_calls_mark"),
    ]


class ErasureMenuItem(MenuItem):
    """Shown to coordinators (and superusers) only, as the screen is."""

    def is_shown(self, request):
        return is_coordinator(request.user)


@hooks.register("register_settings_menu_item")
def register_erasure_menu_item():
    return ErasureMenuItem(
        _("Erase a person's details"),
        reverse("erase_person"),
        name="erase-person",
        icon_name="bin",
        order=900,
    )


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("events.add_eventsession")


@hooks.register("register_admin_menu_item")
def register_import_menu_item():
    return ImportMenuItem(
        _("Import a calendar"),
        reverse("events_ics_import"),
        icon_name="download",
        order=210,
    )


@hooks.register("register_spreadsheet_resources")
def register_events_spreadsheets():
    return [VenueResource, ScheduleResource, RegistrationResource]


@hooks.register("register_admin_menu_item")
def register_calls_menu_item():
    return CallsMenuItem(
        _("Calls to make"),
        reverse("event_calls"),
        name="calls-to-make",
        icon_name="mobile-alt",
        order=205,
    )


@hooks.register("construct_homepage_panels")
def add_calls_waiting_panel(request, panels):
    panels.append(CallsWaitingPanel())
