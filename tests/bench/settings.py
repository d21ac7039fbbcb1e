"""Settings for the sign-up benchmark: its gunicorn server and its set-up.

Extends ``website.settings.dev`` only for its static files (served from the
app folders, so no ``collectstatic`` is needed); everything that costs time
on a sign-up is as in production:

* ``DEBUG`` off, PostgreSQL with persistent, health-checked connections
  (``CONN_MAX_AGE`` and ``CONN_HEALTH_CHECKS`` as in ``base``).
* The real middleware stack, CSRF included.
* The rate limiter stays on (a cache add and increment per sign-up), with a
  limit no run can reach, so it never refuses.
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

GATHER_SIGNUP_RATE_LIMIT = 1_000_000_000
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
