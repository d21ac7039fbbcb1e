"""The domain error raised by the attendance app's workflow functions."""

from core.errors import GatherError


class AttendanceError(GatherError):
    """An attendance workflow (taking attendance, check-in, walk-ins, notes,
    printed packs) refused an action."""
