"""The domain error raised by the events app's workflow functions."""

from core.errors import GatherError


class EventsError(GatherError):
    """An events workflow (registration, sessions, imports) refused an action."""
