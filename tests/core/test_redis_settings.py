"""REDIS_URL switches the cache, the sessions' cache and the task queue to
Redis; without it nothing changes. Each case reads the settings in a fresh
interpreter, as a deploy would, with only the variables it names."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

REDIS = "redis://127.0.0.1:6379/9"
#: Variables of the machine's environment that would change the answer.
SWITCHES = ("REDIS_URL", "CACHE_URL", "TASKS_BACKEND", "DJANGO_SETTINGS_MODULE")
PRODUCTION_SECRETS = {"SECRET_KEY": "x" * 50, "GATHER_FIELD_ENCRYPTION_KEYS": "k"}

READ = """
import json, sys
from importlib import import_module
s = import_module(sys.argv[1])
print(json.dumps({
    "cache": s.CACHES["default"]["BACKEND"],
    "cache_location": s.CACHES["default"].get("LOCATION"),
    "tasks": s.TASKS["default"]["BACKEND"],
    "rq": {k: s.RQ_QUEUES["default"].get(k) for k in ("HOST", "PORT", "DB", "URL")},
    "sessions": getattr(s, "SESSION_ENGINE", "django.contrib.sessions.backends.db"),
    "rq_apps": [a for a in s.INSTALLED_APPS if a in ("django_rq", "django_tasks_rq")],
}))
"""


def read_settings(module, **environ):
    env = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    result = subprocess.run(
        [sys.executable, "-c", READ, module],
        env=env | PRODUCTION_SECRETS | environ,
        capture_output=True,
        text=True,
        cwd=django_settings.BASE_DIR,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "module", ["website.settings.production", "website.settings.dev"]
)
def test_redis_url_makes_redis_the_cache_and_the_task_queue(module):
    found = read_settings(module, REDIS_URL=REDIS)
    assert found == {
        "cache": "django.core.cache.backends.redis.RedisCache",
        "cache_location": REDIS,
        "tasks": "django_tasks_rq.RQBackend",
        "rq": {"HOST": "127.0.0.1", "PORT": 6379, "DB": 9, "URL": None},
        "sessions": "django.contrib.sessions.backends.cached_db",
        "rq_apps": ["django_rq", "django_tasks_rq"],
    }


def test_without_redis_url_nothing_changes():
    production = read_settings("website.settings.production")
    assert production["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert production["tasks"] == "django_tasks_db.DatabaseBackend"
    assert production["sessions"] == "django.contrib.sessions.backends.db"
    assert production["rq_apps"] == []
    dev = read_settings("website.settings.dev")
    assert dev["cache"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert dev["tasks"] == "django_tasks_db.DatabaseBackend"
    assert dev["sessions"] == "django.contrib.sessions.backends.db"


def test_cache_url_and_tasks_backend_still_win():
    found = read_settings(
        "website.settings.production",
        REDIS_URL=REDIS,
        CACHE_URL="locmemcache://elsewhere",
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
    )
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["tasks"] == "django_tasks_db.DatabaseBackend"
    # A cache of each process's own must not hold sessions.
    assert found["sessions"] == "django.contrib.sessions.backends.db"
    assert found["rq_apps"] == []


def test_the_test_settings_ignore_redis_url():
    found = read_settings("website.settings.test", REDIS_URL=REDIS)
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["tasks"] == "django_tasks.backends.immediate.ImmediateBackend"
    assert found["sessions"] == "django.contrib.sessions.backends.db"
    assert found["rq_apps"] == []


def test_system_checks_pass_with_redis(test_redis):
    """django-tasks-rq's own checks: django_rq installed, the queue known."""
    env = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        env=env
        | {"DJANGO_SETTINGS_MODULE": "website.settings.dev"}
        | {"REDIS_URL": test_redis},
        capture_output=True,
        text=True,
        cwd=django_settings.BASE_DIR,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_rate_limits_count_in_redis_for_every_process(client, settings, test_redis):
    """The password reset limit, kept in a real Redis: a second connection
    (another process's) sees the count; the address is not in the key."""
    import redis
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": test_redis,
            "KEY_PREFIX": "gather",
        }
    }
    settings.GATHER_PASSWORD_RESET_RATE_LIMIT = 2
    statuses = [
        client.post("/accounts/password-reset/", {"email": "x@example.org"}).status_code
        for _ in range(3)
    ]
    assert statuses == [302, 302, 429]

    other = redis.Redis.from_url(test_redis)
    keys = other.keys("gather:*ratelimit*")
    assert len(keys) == 1
    assert b"127.0.0.1" not in keys[0]
    assert int(other.get(keys[0])) >= 2
    caches["default"].close()


def test_a_redis_rate_count_is_one_round_trip_that_expires_with_its_window(
    rf, settings, test_redis
):
    """``allow`` counts in Redis with SET NX + INCR (pipelined): the key
    expires with its window, ``limit_reached`` reads the same count, and the
    limit refuses the request after the last one allowed."""
    import redis
    from django.core.cache import caches

    from core.ratelimit import allow, limit_reached

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": test_redis,
            "KEY_PREFIX": "gather",
        }
    }
    request = rf.post("/sign-up/1/")
    answers = [allow(request, scope="test", limit=2, window=600) for _ in range(3)]
    assert answers == [True, True, False]
    assert limit_reached(request, scope="test", limit=3, window=600)
    assert not limit_reached(request, scope="test", limit=4, window=600)
    other = redis.Redis.from_url(test_redis)
    (key,) = other.keys("gather:*ratelimit:test*")
    assert int(other.get(key)) == 3
    assert 0 < other.ttl(key) <= 600
    caches["default"].close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "redis://:secret@redis.internal:6380/3",
            {"HOST": "redis.internal", "PORT": 6380, "DB": 3, "PASSWORD": "secret"},
        ),
        (
            "rediss://queue:secret@redis.internal/2",
            {"HOST": "redis.internal", "DB": 2, "USERNAME": "queue", "SSL": True},
        ),
    ],
)
def test_rq_settings_keep_what_the_url_says(url, expected):
    from website.settings.base import rq_queue_settings

    queue = rq_queue_settings(url, timeout=60)
    assert {key: queue[key] for key in expected} == expected
    assert queue["DEFAULT_TIMEOUT"] == 60
    assert "URL" not in queue


def test_a_unix_socket_url_is_left_to_django_rq():
    from website.settings.base import rq_queue_settings

    queue = rq_queue_settings("unix:///run/redis.sock?db=1", timeout=60)
    assert queue == {"URL": "unix:///run/redis.sock?db=1", "DEFAULT_TIMEOUT": 60}


def test_tasks_queued_on_rq_share_one_connection(settings, test_redis):
    """Every task queued in a process takes its Redis connection from one
    pool: django-rq used to build a client with a pool of its own for each
    task, so each task opened a new connection to Redis."""
    import django_rq

    from events.tasks import expire_place_offers, send_due_messages

    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    pool = django_rq.get_connection("default").connection_pool
    before = pool._created_connections

    send_due_messages.enqueue()
    expire_place_offers.enqueue()
    send_due_messages.enqueue()

    assert django_rq.get_queue("default").connection.connection_pool is pool
    assert django_rq.get_queue("default").count == 3
    assert pool._created_connections - before <= 1
