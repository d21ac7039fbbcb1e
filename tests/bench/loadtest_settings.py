"""Settings for ``make loadtest``: the sign-up bench settings, with Redis.

Everything ``tests.bench.settings`` sets holds (``DEBUG`` off, PostgreSQL
with persistent connections, the real middleware, CSRF on, emails kept in
memory), with two changes:

* With ``REDIS_URL`` set (the load test sets it), Redis is the cache
  (``base.py``: rate limits, cached public pages, sessions) and tasks go to
  RQ's queue in Redis, as in a production set-up with Redis. No RQ worker
  runs during the test, so every message task stays queued and the checks
  can read its arguments.
* The sign-up rate limit is raised out of reach (it already is in the bench
  settings: ``GATHER_SIGNUP_RATE_LIMIT``): every client of the load test
  comes from 127.0.0.1, which the production limit of 10 sign-ups per
  address in 10 minutes would refuse after the tenth. The limiter still
  runs, so its cost is measured.

``LOADTEST_DATABASE_URL`` names the database (default ``gather_loadtest``).
"""

from tests.bench.settings import *  # noqa: F403
from tests.bench.settings import REDIS_URL, env

DATABASES = {
    "default": env.db(
        "LOADTEST_DATABASE_URL",
        default="postgres://postgres@127.0.0.1:5432/gather_loadtest",
    )
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", 60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

if REDIS_URL:
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    RQ_QUEUES = {"default": rq_queue_settings(REDIS_URL, timeout=1800)}  # noqa: F405
    if "django_rq" not in INSTALLED_APPS:  # noqa: F405
        INSTALLED_APPS += ["django_rq", "django_tasks_rq"]  # noqa: F405
