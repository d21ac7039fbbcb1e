"""Production: secrets from the environment, HTTPS everywhere.

Refuses to start without SECRET_KEY or GATHER_FIELD_ENCRYPTION_KEYS. Passes
``manage.py check --deploy``.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, log_format

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Production needs a long random secret key "
        "in the SECRET_KEY environment variable."
    )
GATHER_FIELD_ENCRYPTION_KEYS = env.list("GATHER_FIELD_ENCRYPTION_KEYS", default=[])
if not GATHER_FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "GATHER_FIELD_ENCRYPTION_KEYS is not set. Production needs at least one "
        "key of its own (comma-separated, newest first) to encrypt support "
        "needs and session notes: see the README's Configuration section."
    )

# One JSON object per log line, for the log collector (core/logging.py).
LOG_FORMAT = log_format("json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405

# No texts until a provider is chosen (README, Text messages): a text never
# reaches a log through the console backend by mistake.
SMS_BACKEND = env.str("SMS_BACKEND", default="core.sms.backends.disabled.TextBackend")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# A load balancer probes the app servers directly, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
