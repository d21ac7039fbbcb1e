"""Sends texts through Twilio's Programmable Messaging, with its official SDK.

Configured from settings read from the environment: ``TWILIO_ACCOUNT_SID``,
``TWILIO_AUTH_TOKEN``, and ``TWILIO_FROM_NUMBER`` or
``TWILIO_MESSAGING_SERVICE_SID``. Each message asks for delivery reports at
``/sms/status/twilio/`` (``core.sms.views.twilio_status``), on the public
site's address (``BASE_URL``).
"""

import logging

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ...http import absolute_url
from ..message import TextMessage, TextResult
from .base import BaseTextBackend

logger = logging.getLogger("core.sms")

#: Seconds to wait for Twilio before a message counts as a network failure
#: (and so retryable).
TIMEOUT = 10


def missing_settings(
    *, account_sid: str, auth_token: str, from_number: str, messaging_service_sid: str
) -> list[str]:
    """The names of the Twilio settings still needed (used by the deploy check)."""
    missing = [
        name
        for name, value in (
            ("TWILIO_ACCOUNT_SID", account_sid),
            ("TWILIO_AUTH_TOKEN", auth_token),
        )
        if not value
    ]
    if not from_number and not messaging_service_sid:
        missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
    return missing


def _rest_error(exc: TwilioRestException) -> dict:
    # Twilio's message text may quote the number: keep its code and status.
    retryable = exc.status >= 500 or exc.status == 429
    code = f" {exc.code}" if exc.code and exc.code != exc.status else ""
    return {"error": f"Twilio error{code} (HTTP {exc.status})", "retryable": retryable}


class TextBackend(BaseTextBackend):
    """Sends each text with one Twilio API request.

    Failures become results: a 5xx or 429 answer and network errors are
    retryable; 4xx answers (an invalid number, 21211; an unsubscribed
    recipient, 21610) are not. Missing settings fail every message, not to
    be retried, and ``check --deploy`` warns about them.

    ``http_client`` replaces the SDK's HTTP layer (the tests pass a fake).
    """

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        http_client=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.account_sid = account_sid or settings.TWILIO_ACCOUNT_SID
        self.auth_token = auth_token or settings.TWILIO_AUTH_TOKEN
        self.from_number = from_number or settings.TWILIO_FROM_NUMBER
        self.messaging_service_sid = (
            messaging_service_sid or settings.TWILIO_MESSAGING_SERVICE_SID
        )
        self.http_client = http_client
        self.client = None

    def missing_settings(self) -> list[str]:
        return missing_settings(
            account_sid=self.account_sid,
            auth_token=self.auth_token,
            from_number=self.from_number,
            messaging_service_sid=self.messaging_service_sid,
        )

    def open(self) -> bool:
        if self.client is not None or self.missing_settings():
            return False
        http_client = self.http_client or TwilioHttpClient(timeout=TIMEOUT)
        self.client = Client(self.account_sid, self.auth_token, http_client=http_client)
        return True

    def close(self) -> None:
        if self.client is None:
            return
        session = getattr(self.client.http_client, "session", None)
        if session is not None and self.http_client is None:
            session.close()
        self.client = None

    def request_parameters(self, message: TextMessage) -> dict:
        """The arguments of ``client.messages.create`` for ``message``."""
        parameters = {
            "to": message.to,
            "body": message.body,
            "status_callback": absolute_url(reverse("sms_status_twilio")),
        }
        sender = self.sender_for(message)
        if self.messaging_service_sid:
            # Twilio picks a sender from the service's pool unless told one.
            parameters["messaging_service_sid"] = self.messaging_service_sid
            if sender:
                parameters["from_"] = sender
        else:
            parameters["from_"] = sender or self.from_number
        return parameters

    def send_message(self, message: TextMessage) -> TextResult:
        if self.client is None:
            missing = ", ".join(self.missing_settings())
            return TextResult(
                message=message, ok=False, error=f"Twilio is not set up ({missing})"
            )
        try:
            sent = self.client.messages.create(**self.request_parameters(message))
        except TwilioRestException as exc:
            failure = _rest_error(exc)
        except requests.RequestException as exc:
            failure = {
                "error": f"network error ({type(exc).__name__})",
                "retryable": True,
            }
        except TwilioException as exc:
            failure = {
                "error": f"Twilio error ({type(exc).__name__})",
                "retryable": False,
            }
        else:
            return TextResult(message=message, ok=True, provider_id=sent.sid)
        logger.warning(
            "Text %s not sent: %s", message.reference or "-", failure["error"]
        )
        return TextResult(message=message, ok=False, **failure)
