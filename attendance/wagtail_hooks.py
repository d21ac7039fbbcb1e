"""Audit-log actions of the attendance app."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks


@hooks.register("register_log_actions")
def register_attendance_log_actions(actions):
    actions.register_action(
        "attendance.record.changed",
        _("Change attendance"),
        _("Attendance changed"),
    )
