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
