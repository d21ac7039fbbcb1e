"""Attendance, session notes and the facilitator area."""

from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    """Attendance records and session notes (built on the events app)."""

    name = "attendance"
    verbose_name = "Attendance"

    def ready(self):
        from events import signals

        from . import follow_ups

        # Calls waiting and messages that failed land in the follow-up inbox.
        signals.call_requested.connect(
            follow_ups.calls_requested, dispatch_uid="attendance.calls_requested"
        )
        signals.delivery_failed.connect(
            follow_ups.deliveries_failed, dispatch_uid="attendance.deliveries_failed"
        )
