"""Text messages (placeholder until the backends land): the interface
``events.messaging`` uses, with an in-memory outbox."""

import dataclasses

from django.dispatch import Signal

GSM7 = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "^{}\\[~]|€\f"

outbox = []
text_status_changed = Signal()


@dataclasses.dataclass
class TextMessage:
    to: str
    body: str
    sender: str = ""
    reference: str = ""


@dataclasses.dataclass
class TextResult:
    message: TextMessage
    ok: bool
    provider_id: str = ""
    error: str = ""
    retryable: bool = False


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7 or ch in EXTENSION for ch in text)


def segments(text: str) -> int:
    if is_gsm7(text):
        units = sum(2 if ch in EXTENSION else 1 for ch in text)
        return 1 if units <= 160 else -(-units // 153)
    units = len(text)
    return 1 if units <= 70 else -(-units // 67)


class _Backend:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_messages(self, messages):
        outbox.extend(messages)
        return [
            TextResult(message=m, ok=True, provider_id=f"local-{len(outbox)}")
            for m in messages
        ]


def get_connection(backend=None, **kwargs):
    return _Backend()
