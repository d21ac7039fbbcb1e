"""Keeps texts in memory, in ``core.sms.outbox``, as Django's locmem email
backend keeps mail in ``django.core.mail.outbox``: the test settings use it.

Tests make it fail on purpose:

- ``fail_next(n, retryable=True, error="simulated failure")``: the next
  ``n`` messages sent (any number) fail with that result;
- ``fail_for(*numbers, retryable=False, error="simulated failure")``: every
  message to one of ``numbers`` fails until ``reset()``;
- ``reset()`` forgets both (the tests' autouse ``sms_outbox`` fixture calls
  it before each test).

A failed message is not put in the outbox.
"""

import dataclasses
import uuid

from core import sms

from ..message import TextMessage, TextResult
from .base import BaseTextBackend

# Test-only state, in this process: the locmem backend is never used across
# processes.
_failures: list[tuple[bool, str]] = []
_failing_numbers: dict[str, tuple[bool, str]] = {}


def fail_next(
    n: int = 1, *, retryable: bool = True, error: str = "simulated failure"
) -> None:
    """Make the next ``n`` messages fail, whatever their number."""
    _failures.extend([(retryable, error)] * n)


def fail_for(
    *numbers: str, retryable: bool = False, error: str = "simulated failure"
) -> None:
    """Make every message to one of ``numbers`` fail until ``reset()``."""
    for number in numbers:
        _failing_numbers[number] = (retryable, error)


def reset() -> None:
    """Forget the failures ``fail_next`` and ``fail_for`` asked for."""
    _failures.clear()
    _failing_numbers.clear()


class TextBackend(BaseTextBackend):
    """Appends each text to ``core.sms.outbox``, with the sender it went with."""

    def send_message(self, message: TextMessage) -> TextResult:
        failure = _failing_numbers.get(message.to)
        if failure is None and _failures:
            failure = _failures.pop(0)
        if failure is not None:
            retryable, error = failure
            return TextResult(
                message=message, ok=False, error=error, retryable=retryable
            )
        sent = dataclasses.replace(message, sender=self.sender_for(message))
        sms.outbox.append(sent)
        return TextResult(message=message, ok=True, provider_id=f"LM{uuid.uuid4().hex}")
