"""Attendance, session notes and the facilitator area."""

from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    """Attendance records and session notes (built on the events app)."""

    name = "attendance"
    verbose_name = "Attendance"
