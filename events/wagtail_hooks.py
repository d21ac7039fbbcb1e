"""Registers the events admin screens and their audit-log actions."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .admin_import import import_view
from .admin_views import EventsAdminGroup
from .resources import RegistrationResource, ScheduleResource, VenueResource


@hooks.register("register_admin_viewset")
def register_events_viewsets():
    return EventsAdminGroup()


@hooks.register("register_log_actions")
def register_events_log_actions(actions):
    actions.register_action(
        "events.session.changed", _("Change session"), _("Session changed")
    )
    actions.register_action(
        "events.session.cancelled", _("Cancel session"), _("Session cancelled")
    )
    actions.register_action(
        "events.session.reinstated", _("Reinstate session"), _("Session reinstated")
    )
    for action, label, message in [
        ("cancelled", _("Cancel registration"), _("Registration cancelled")),
        ("promoted", _("Promote from waitlist"), _("Promoted from the waitlist")),
        ("moved", _("Move registration"), _("Registration moved")),
    ]:
        actions.register_action(f"events.registration.{action}", label, message)


@hooks.register("register_admin_urls")
def register_import_url():
    return [path("events/import-calendar/", import_view, name="events_ics_import")]


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
