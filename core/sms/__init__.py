"""Text messages (SMS), sent through interchangeable backends.

Built like ``django.core.mail``: ``settings.SMS_BACKEND`` names the backend
(``core.sms.backends.console``, ``locmem``, ``twilio``, ``disabled``),
``get_connection()`` opens it, and ``send_messages()`` returns one
``TextResult`` per ``TextMessage``, never raising for one bad message. The
Twilio backend asks for delivery reports, which ``core.sms.views`` turns into
the ``text_status_changed`` signal.

Nothing here knows who a number belongs to: callers pass an id of their own
as ``reference``, and no number or body is ever logged.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from .backends.base import BaseTextBackend
from .encoding import encoding, is_gsm7, segments
from .message import TextMessage, TextResult
from .signals import text_status_changed

__all__ = [
    "BaseTextBackend",
    "TextMessage",
    "TextResult",
    "encoding",
    "get_connection",
    "is_gsm7",
    "outbox",
    "segments",
    "send_text",
    "text_status_changed",
]

#: Texts the in-memory backend (``core.sms.backends.locmem``) has "sent",
#: as ``django.core.mail.outbox`` holds mail; the tests empty it before each
#: test (``tests/conftest.py``).
outbox: list[TextMessage] = []


def get_connection(backend: str | None = None, **kwargs) -> BaseTextBackend:
    """An instance of the backend at dotted path ``backend`` (default
    ``settings.SMS_BACKEND``), given ``kwargs``."""
    return import_string(backend or settings.SMS_BACKEND)(**kwargs)


def send_text(
    to: str,
    body: str,
    *,
    sender: str = "",
    reference: str = "",
    connection: BaseTextBackend | None = None,
) -> TextResult:
    """Send one text; its ``TextResult`` says whether it went."""
    message = TextMessage(to=to, body=body, sender=sender, reference=reference)
    connection = connection or get_connection()
    return connection.send_messages([message])[0]
