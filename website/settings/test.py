"""Test settings: fast password hashing, tasks run immediately, mail and
texts in memory."""

import os
import tempfile

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
# The published development key; tests that rotate keys override this.
GATHER_FIELD_ENCRYPTION_KEYS = [GATHER_DEV_FIELD_ENCRYPTION_KEY]  # noqa: F405
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Texts go to core.sms.outbox; no Twilio account of the environment is used.
SMS_BACKEND = "core.sms.backends.locmem.TextBackend"
GATHER_SMS_SENDER = ""
TWILIO_ACCOUNT_SID = TWILIO_AUTH_TOKEN = ""
TWILIO_FROM_NUMBER = TWILIO_MESSAGING_SERVICE_SID = ""
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The same sessions and apps whether or not the environment sets REDIS_URL.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
INSTALLED_APPS = [
    app
    for app in INSTALLED_APPS  # noqa: F405
    if app not in ("django_rq", "django_tasks_rq")
]
#: The Redis database that task tests run against with GATHER_TEST_TASKS=rq
#: (tests/conftest.py); each pytest-xdist worker takes the next database.
#: It is emptied before each of those tests: give it no other use.
GATHER_TEST_REDIS_URL = os.environ.get(
    "GATHER_TEST_REDIS_URL", "redis://127.0.0.1:6379/9"
)
RQ_QUEUES = {"default": rq_queue_settings(GATHER_TEST_REDIS_URL, timeout=60)}  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = (  # noqa: F405
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)
TIME_ZONE = "America/Toronto"
BASE_URL = "http://testserver"
WAGTAILADMIN_BASE_URL = BASE_URL

# Static files come from the app and project folders (no collectstatic needed).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# The tests publish hundreds of pages, and indexing each one for search is a
# quarter of the time that takes. Tests of search turn indexing back on with
# the ``search_index`` fixture (tests/conftest.py).
WAGTAILSEARCH_BACKENDS = {
    "default": {**WAGTAILSEARCH_BACKENDS["default"], "AUTO_UPDATE": False}  # noqa: F405
}

# The in-memory SQLite test database is copied from a migrated template kept
# between runs (tests/sqlite_backend/base.py says when it is rebuilt).
# ":memory:" said outright: pytest-xdist would otherwise give each worker a
# database file, as it does for any engine but Django's own SQLite.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "tests.sqlite_backend"  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}  # noqa: F405

# Background exports are written to a folder of this test run's own.
STORAGES["exports"]["OPTIONS"] = {  # noqa: F405
    "location": tempfile.mkdtemp(prefix="gather-test-exports-")
}
