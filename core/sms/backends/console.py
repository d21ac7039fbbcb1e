"""Writes each text to standard output, as Django's console email backend
writes mail: ``make run``'s web server and task worker print texts in the
terminal beside the emails."""

import sys
import threading
import uuid

from ..encoding import encoding, segments
from ..message import TextMessage, TextResult
from .base import BaseTextBackend


class TextBackend(BaseTextBackend):
    """Prints each text with its recipient, sender and segment count.

    For development only: ``check --deploy`` warns when production uses it.
    """

    def __init__(self, *, stream=None, **kwargs):
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send_message(self, message: TextMessage) -> TextResult:
        parts = segments(message.body)
        lines = [
            "Text message",
            f"To: {message.to}",
            f"From: {self.sender_for(message) or '(the provider default)'}",
            f"Reference: {message.reference or '-'}",
            f"Segments: {parts} ({encoding(message.body)})",
            "",
            message.body,
            "-" * 79,
        ]
        with self._lock:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()
        return TextResult(message=message, ok=True, provider_id=f"CO{uuid.uuid4().hex}")
