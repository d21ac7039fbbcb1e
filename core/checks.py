"""System checks for production set-ups (``manage.py check --deploy``)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def trusted_proxy_count_set_behind_a_proxy(app_configs, **kwargs):
    """Warn when the site trusts a proxy's headers but counts no proxy for
    ``X-Forwarded-For``: every visitor would then share the proxy's address,
    and so one allowance of each rate limit (``core.ratelimit``)."""
    behind_a_proxy = bool(
        getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        or getattr(settings, "USE_X_FORWARDED_HOST", False)
        or getattr(settings, "USE_X_FORWARDED_PORT", False)
    )
    if not behind_a_proxy or settings.GATHER_TRUSTED_PROXY_COUNT:
        return []
    return [
        checks.Warning(
            "The site runs behind a proxy (SECURE_PROXY_SSL_HEADER or "
            "USE_X_FORWARDED_HOST is set) but GATHER_TRUSTED_PROXY_COUNT is 0, "
            "so every visitor shares the proxy's address and one allowance of "
            "each rate limit.",
            hint=(
                "Set GATHER_TRUSTED_PROXY_COUNT to the number of proxies that "
                "append to X-Forwarded-For (1 for one reverse proxy)."
            ),
            id="core.W001",
        )
    ]


#: Backends that never send a text: fine in development and tests only.
NON_SENDING_SMS_BACKENDS = {
    "core.sms.backends.console.TextBackend": "prints every text to the console",
    "core.sms.backends.locmem.TextBackend": "keeps every text in memory",
}
TWILIO_SMS_BACKEND = "core.sms.backends.twilio.TextBackend"


@checks.register("sms", deploy=True)
def text_messages_can_be_sent(app_configs, **kwargs):
    """Warn when production's texts would go nowhere: a development backend
    (which would also write numbers and bodies to a log), or the Twilio
    backend without its settings. The disabled backend, production's
    default, is a choice and passes."""
    from .sms.backends.twilio import missing_settings

    backend = settings.SMS_BACKEND
    if backend in NON_SENDING_SMS_BACKENDS:
        return [
            checks.Warning(
                f"SMS_BACKEND is {backend}, which "
                f"{NON_SENDING_SMS_BACKENDS[backend]} instead of sending it.",
                hint=(
                    "Set SMS_BACKEND to core.sms.backends.twilio.TextBackend "
                    "(with the TWILIO_* settings), or to "
                    "core.sms.backends.disabled.TextBackend to send no texts."
                ),
                id="core.W002",
            )
        ]
    if backend != TWILIO_SMS_BACKEND:
        return []
    missing = missing_settings(
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        from_number=settings.TWILIO_FROM_NUMBER,
        messaging_service_sid=settings.TWILIO_MESSAGING_SERVICE_SID,
    )
    if not missing:
        return []
    return [
        checks.Warning(
            "SMS_BACKEND is the Twilio backend but these settings are not set: "
            f"{', '.join(missing)}. Every text would fail.",
            hint="Set them in the environment (README, Configuration).",
            id="core.W003",
        )
    ]
