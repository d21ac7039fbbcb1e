"""Registers the events admin screens and their audit-log actions."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from .admin_views import EventsAdminGroup


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
