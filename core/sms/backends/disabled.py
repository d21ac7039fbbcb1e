"""Texts switched off: every message fails, not to be retried.

Production's default until a provider is set up, so a site that sends no
texts never prints them to a log by mistake. Callers see the failure and
use another of the person's ways to be contacted.
"""

from ..message import TextMessage, TextResult
from .base import BaseTextBackend


class TextBackend(BaseTextBackend):
    """Sends nothing; each result says text messages are not set up."""

    def send_message(self, message: TextMessage) -> TextResult:
        return TextResult(message=message, ok=False, error="texts are switched off")
