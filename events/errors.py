"""The domain error raised by the events app's workflow functions."""


class EventsError(Exception):
    """A workflow refused an action; ``code`` says why, for code to branch on.

    ``message`` is plain language, fit to show to the person who asked.
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
