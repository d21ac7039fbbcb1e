"""The base class of every text message backend."""

import logging
import re

from django.conf import settings

from ..message import TextMessage, TextResult

logger = logging.getLogger("core.sms")

#: "+" and 7 to 15 digits, the first not 0: the shape of an E.164 number.
E164 = re.compile(r"\+[1-9]\d{6,14}")


class BaseTextBackend:
    """Sends ``TextMessage`` objects, one ``TextResult`` each.

    Subclasses implement ``send_message`` (one message, already checked);
    ``open`` and ``close`` when they hold a connection. A backend used as a
    context manager keeps one connection for every ``send_messages`` inside
    it, as Django's email backends do.
    """

    def __init__(self, **kwargs):
        pass

    def open(self) -> bool:
        """Open a connection; True only when this call opened a new one."""
        return False

    def close(self) -> None:
        """Close the connection ``open`` made, if any."""

    def __enter__(self):
        try:
            self.open()
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()

    def sender_for(self, message: TextMessage) -> str:
        """The sender a message goes out with: its own, else the site's."""
        return message.sender or settings.GATHER_SMS_SENDER

    def send_messages(self, messages: list[TextMessage]) -> list[TextResult]:
        """Send each message; one result per message, in order.

        A message that cannot be sent (a malformed number, an empty body, a
        provider's refusal, an error of the backend) gets a failed result;
        the others are sent all the same.
        """
        opened = self.open()
        try:
            return [self._send_one(message) for message in messages]
        finally:
            if opened:
                self.close()

    def _send_one(self, message: TextMessage) -> TextResult:
        problem = invalid(message)
        if problem:
            return TextResult(message=message, ok=False, error=problem)
        try:
            return self.send_message(message)
        except Exception as exc:  # noqa: BLE001 - one message never loses the rest
            # The exception's text may quote the number: only its class is kept.
            error = f"unexpected error ({type(exc).__name__})"
            logger.error("Text %s not sent: %s", message.reference or "-", error)
            return TextResult(message=message, ok=False, error=error)

    def send_message(self, message: TextMessage) -> TextResult:
        """Send one checked message (subclasses implement this)."""
        raise NotImplementedError("Text backends implement send_message()")


def invalid(message: TextMessage) -> str:
    """Why ``message`` cannot be sent by any backend, or ""."""
    if not E164.fullmatch(message.to or ""):
        return "not an E.164 number"
    if not message.body:
        return "empty body"
    return ""
