"""Audit-log actions and admin screens (reports) of the attendance app."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.widgets import Button
from wagtail.log_actions import LogFormatter

from events.models import EventPage
from events.permissions import is_coordinator

from . import follow_ups, group_messages, viewing
from .admin_follow_ups import (
    follow_up_action_view,
    follow_up_preferences_view,
    follow_ups_view,
)
from .admin_messages import choose_event_view, compose_view, sent_view
from .admin_reports import SummaryPdfExport, download_view, pdf_view, reports_view
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
    actions.register_action(group_messages.GROUP_MESSAGE_SENT)(GroupMessageSent)
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


class GroupMessageSent(LogFormatter):
    """A message to the group, on the event's page: who it went to, in
    numbers; the words are on the sent messages screen, not in the log."""

    label = _("Send a message to the group")

    def format_message(self, log_entry):
        count = log_entry.data.get("recipients", 0)
        return ngettext(
            "Message %(id)s sent to %(count)s person",
            "Message %(id)s sent to %(count)s people",
            count,
        ) % {"id": log_entry.data.get("group_message"), "count": count}


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


@hooks.register("register_background_exports")
def register_background_exports():
    return [SummaryPdfExport()]


@hooks.register("register_event_chooser_scopes")
def register_event_chooser_scopes():
    """ "Message a group" offers in the event chooser the events it accepts."""
    return {"message": lambda user, params: group_messages.events_messageable_by(user)}


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
        path(
            "attendance/messages/",
            choose_event_view,
            name="attendance_group_message_choose",
        ),
        path(
            "attendance/messages/<id:event_id>/new/",
            compose_view,
            name="attendance_group_message_compose",
        ),
        path(
            "attendance/messages/<id:event_id>/",
            sent_view,
            name="attendance_group_messages",
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


class GroupMessageMenuItem(MenuItem):
    """Shown to whoever may message some event (coordinators, facilitators
    of an event)."""

    def is_shown(self, request):
        return group_messages.may_message_any(request.user)


@hooks.register("register_admin_menu_item")
def register_group_message_menu_item():
    return GroupMessageMenuItem(
        _("Message a group"),
        reverse("attendance_group_message_choose"),
        name="message-a-group",
        icon_name="mail",
        order=214,
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


def _group_message_button(page, user, priority):
    """ "Message the group" for an event the user may message, else None."""
    if not issubclass(page.specific_class or object, EventPage):
        return None
    if not group_messages.may_message(user, page.pk):
        return None
    return Button(
        _("Message the group"),
        reverse("attendance_group_message_compose", args=[page.pk]),
        icon_name="mail",
        priority=priority,
    )


@hooks.register("register_page_listing_more_buttons")
def event_listing_group_message_button(page, user, next_url=None):
    button = _group_message_button(page, user, priority=45)
    if button is not None:
        yield button


@hooks.register("register_page_header_buttons")
def event_header_group_message_button(page, user, view_name, next_url=None):
    button = _group_message_button(page, user, priority=55)
    if button is not None:
        yield button


@hooks.register("register_spreadsheet_resources")
def register_attendance_spreadsheets():
    return [AttendanceResource]
