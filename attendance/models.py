"""Attendance models: added with the facilitator toolkit."""
