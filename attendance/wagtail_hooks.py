"""Audit-log actions and admin screens (reports) of the attendance app."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.log_actions import LogFormatter

from events.permissions import is_coordinator

from . import follow_ups, viewing
from .admin_follow_ups import (
    follow_up_action_view,
    follow_up_preferences_view,
    follow_ups_view,
)
from .admin_reports import download_view, pdf_view, reports_view
from .records import SESSION_RECORDED
from .resources import AttendanceResource


@hooks.register("register_log_actions")
def register_attendance_log_actions(actions):
    actions.register_action(
        "attendance.record.changed",
        _("Change attendance"),
        _("Attendance changed"),
    )
    actions.register_action(
        SESSION_RECORDED, _("Take attendance"), _("Attendance taken")
    )
    actions.register_action(
        viewing.ROSTER_VIEWED, _("View a roster"), _("Roster viewed")
    )
    actions.register_action(
        viewing.PRINTED, _("Print a list of people"), _("List of people printed")
    )
    actions.register_action("attendance.retention.applied")(RetentionApplied)
    for action, label, message in [
        (follow_ups.ASSIGNED, _("Assign a follow-up"), _("Follow-up assigned")),
        (follow_ups.ACKNOWLEDGED, _("Acknowledge a follow-up"), _("Follow-up seen")),
        (follow_ups.RESOLVED, _("Resolve a follow-up"), _("Follow-up resolved")),
        (follow_ups.REOPENED, _("Reopen a follow-up"), _("Follow-up reopened")),
        (
            follow_ups.RETRIED,
            _("Try a message again"),
            _("Undelivered message tried again"),
        ),
    ]:
        actions.register_action(action, label, message)


class RetentionApplied(LogFormatter):
    """An event's people anonymised at the end of the retention period:
    counts only."""

    label = _("Anonymise after the retention period")

    def format_message(self, log_entry):
        data = log_entry.data
        return _(
            "%(registrations)s registrations and %(walk_ins)s walk-in names anonymised"
        ) % {
            "registrations": data.get("registrations", 0),
            "walk_ins": data.get("walk_ins", 0),
        }


@hooks.register("register_admin_urls")
def register_report_urls():
    return [
        path("attendance/reports/", reports_view, name="attendance_reports"),
        path("attendance/reports/summary.pdf", pdf_view, name="attendance_reports_pdf"),
        path(
            "attendance/reports/<slug:slug>.<slug:fmt>",
            download_view,
            name="attendance_report_download",
        ),
        path("follow-ups/", follow_ups_view, name="follow_ups"),
        path(
            "follow-ups/<id:follow_up_id>/",
            follow_up_action_view,
            name="follow_up_action",
        ),
        path(
            "follow-ups/email-me/",
            follow_up_preferences_view,
            name="follow_up_preferences",
        ),
    ]


class ReportsMenuItem(MenuItem):
    """Shown to coordinators (and superusers) only."""

    def is_shown(self, request):
        return is_coordinator(request.user)


@hooks.register("register_admin_menu_item")
def register_reports_menu_item():
    return ReportsMenuItem(
        _("Attendance reports"),
        reverse("attendance_reports"),
        name="attendance-reports",
        icon_name="table",
        order=220,
    )


class FollowUpsMenuItem(ReportsMenuItem):
    """Shown to coordinators (and superusers) only, as the inbox is."""


@hooks.register("register_admin_menu_item")
def register_follow_ups_menu_item():
    return FollowUpsMenuItem(
        _("Follow-ups"),
        reverse("follow_ups"),
        name="follow-ups",
        icon_name="tasks",
        order=215,
    )


@hooks.register("register_spreadsheet_resources")
def register_attendance_spreadsheets():
    return [AttendanceResource]
