"""Attendance, session notes and the facilitator area."""

from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    """Attendance records and session notes (built on the events app)."""

    name = "attendance"
    verbose_name = "Attendance"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from events import signals
        from events.models import EventSession

        from . import follow_ups, tallies
        from .models import AttendanceRecord

        # The reports' stored counts follow every record (attendance.tallies).
        for signal, name in ((post_save, "saved"), (post_delete, "deleted")):
            signal.connect(
                tallies.record_written,
                sender=AttendanceRecord,
                dispatch_uid=f"attendance.tallies.record_{name}",
            )
        post_save.connect(
            tallies.session_saved,
            sender=EventSession,
            dispatch_uid="attendance.tallies.session_saved",
        )

        # Calls waiting and messages that failed land in the follow-up inbox.
        signals.call_requested.connect(
            follow_ups.calls_requested, dispatch_uid="attendance.calls_requested"
        )
        signals.delivery_failed.connect(
            follow_ups.deliveries_failed, dispatch_uid="attendance.deliveries_failed"
        )
