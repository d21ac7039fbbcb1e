"""Settings for the sign-up benchmark: its gunicorn server and its set-up.

Extends ``website.settings.dev`` only for its static files (served from the
app folders, so no ``collectstatic`` is needed); everything that costs time
on a sign-up is as in production:

* ``DEBUG`` off, PostgreSQL with persistent, health-checked connections
  (``CONN_MAX_AGE`` and ``CONN_HEALTH_CHECKS`` as in ``base``).
* The real middleware stack, CSRF included.
* The rate limiter stays on (it counts every sign-up in the cache), with a
  limit no run can reach, so it never refuses.
* The cache is Redis at ``BENCH_SIGNUP_REDIS_URL`` when set, configured as
  ``base`` configures ``REDIS_URL`` (production's cache); else each
  process's memory (``base``'s default without Redis), never the
  development file cache, whose writes cost a file rename each.
* Tasks go to ``django_tasks_db.DatabaseBackend``, the production default:
  each sign-up's confirmation email is enqueued on commit as one more
  INSERT. No worker runs, so sending the emails is not measured.
* ``ROOT_URLCONF`` is the bench URLconf: the site plus the floor views.

``BENCH_SIGNUP_DATABASE_URL`` names the database (``tests.bench.signup``
sets it and refuses the ``postgres``, ``test`` and template databases).
"""

from website.settings.dev import *  # noqa: F403
from website.settings.dev import env

#: The dedicated bench database, unless ``BENCH_SIGNUP_DATABASE_URL`` says otherwise.
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/gather_bench"

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.bench.urls"

DATABASES = {
    "default": env.db("BENCH_SIGNUP_DATABASE_URL", default=DEFAULT_DATABASE_URL)
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", 60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

BENCH_REDIS_URL = env.str("BENCH_SIGNUP_REDIS_URL", default="")
if BENCH_REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": BENCH_REDIS_URL,
            "KEY_PREFIX": "gather",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

GATHER_SIGNUP_RATE_LIMIT = 1_000_000_000
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
