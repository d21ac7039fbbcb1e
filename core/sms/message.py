"""A text message and what became of sending it."""

from dataclasses import dataclass


@dataclass
class TextMessage:
    """One text to one phone number.

    ``reference`` is the caller's id for the message (a delivery row's id,
    say): it may appear in logs, so it never carries personal data.
    """

    #: The recipient in E.164 form, e.g. "+14165550123".
    to: str
    body: str
    #: An alphanumeric sender id or a from-number; "" for
    #: ``settings.GATHER_SMS_SENDER`` (and, when that is empty too, the
    #: provider's own number).
    sender: str = ""
    reference: str = ""


@dataclass
class TextResult:
    """What a backend did with one ``TextMessage``.

    ``error`` is a short reason (a provider's error code, "network error")
    that never repeats the number or the body, so it can be stored and logged.
    """

    message: TextMessage
    ok: bool
    #: The provider's id for the message (Twilio's SID) when ``ok``: the
    #: delivery-status callback names the message by it.
    provider_id: str = ""
    error: str = ""
    #: True when sending again later may work (network, 5xx, rate limit).
    retryable: bool = False
