"""The base of every domain error a Gather workflow raises."""


class GatherError(Exception):
    """A workflow refused an action; ``code`` says why, for code to branch on.

    ``message`` is plain language, fit to show to the person who asked. Each
    app derives its own error from this one (``events.errors.EventsError``,
    ``attendance.errors.AttendanceError``), so a view can catch either the
    app's error or any of them.
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
