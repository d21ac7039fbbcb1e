"""Delivery reports from the SMS provider.

Twilio posts a message's status to ``/sms/status/twilio/`` as it changes
(``status_callback`` in ``core.sms.backends.twilio``). The post is signed
with the account's auth token; a post without a valid signature is refused
and counted against the client's address, so nobody else can mark a text
delivered or failed. Twilio also posts the numbers and the body: they are
never read, logged or kept.
"""

import logging

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from ..http import absolute_url
from ..ratelimit import allow, limit_reached
from .backends.twilio import TextBackend as TwilioBackend
from .signals import text_status_changed

logger = logging.getLogger("core.sms")

#: Twilio's MessageStatus values, in ``text_status_changed``'s terms. The
#: others (receiving, received: inbound texts) change nothing.
TWILIO_STATUSES = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
}

#: A status report is a few hundred bytes; anything much larger is not one.
MAX_BODY_BYTES = 16 * 1024

BAD_SIGNATURE_SCOPE = "sms-status-bad-signature"


def _limits() -> dict:
    return {
        "scope": BAD_SIGNATURE_SCOPE,
        "limit": settings.GATHER_SMS_STATUS_RATE_LIMIT,
        "window": settings.GATHER_SMS_STATUS_RATE_WINDOW,
    }


def _signed_by_twilio(request) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.TWILIO_AUTH_TOKEN
    if not signature or not token:
        return False
    # Twilio signs the address it was given: the public one, not the
    # address this server sees behind its proxy.
    url = absolute_url(request.get_full_path())
    return RequestValidator(token).validate(url, request.POST, signature)


def _body_too_large(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES
    except ValueError:
        return True


@csrf_exempt
@require_POST
def twilio_status(request):
    """Turn one of Twilio's status reports into ``text_status_changed``.

    403 for a missing or wrong signature, 429 once an address has sent too
    many of those, 413 for an oversized body, 400 without MessageSid or
    MessageStatus, 204 otherwise.
    """
    # Only refused posts are counted, so signed reports never use up the limit.
    if limit_reached(request, **_limits()):
        return HttpResponse(status=429)
    if _body_too_large(request):
        return HttpResponse(status=413)
    if not _signed_by_twilio(request):
        allow(request, **_limits())
        logger.warning("Refused a text status report without a valid signature")
        return HttpResponse(status=403)
    provider_id = request.POST.get("MessageSid", "")
    reported = request.POST.get("MessageStatus", "")
    if not provider_id or not reported:
        return HttpResponse(status=400)
    status = TWILIO_STATUSES.get(reported)
    if status is not None:
        # A failure's reason is Twilio's error code ("30003"), else its
        # status ("undelivered").
        error = (
            (request.POST.get("ErrorCode") or reported) if status == "failed" else ""
        )
        text_status_changed.send(
            sender=TwilioBackend, provider_id=provider_id, status=status, error=error
        )
    return HttpResponse(status=204)
