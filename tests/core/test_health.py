"""The load balancer's health (liveness) and readiness endpoints."""

import json
import os
import subprocess
import sys
from unittest import mock

import django_rq
import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from events.tasks import send_messages
from tests.conftest import make_registration_event, sign_up

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def queue_a_task():
    """A task row waiting for a worker (nobody to tell: it is never run)."""
    send_messages.enqueue(registration_ids=[], kind="confirmed")


def test_health_answers_without_the_database(client):
    """No ``django_db`` mark: any query would raise."""
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies


@pytest.mark.django_db
def test_ready_reports_each_check(client, settings, django_assert_max_num_queries):
    settings.TASKS = DATABASE_TASKS
    with django_assert_max_num_queries(2):
        response = client.get("/ready/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "task_queue": "ok",
        "task_queue_depth": 0,
    }


@pytest.mark.django_db
def test_ready_counts_only_waiting_tasks(client, settings):
    settings.TASKS = DATABASE_TASKS
    for _ in range(3):
        queue_a_task()
    DBTaskResult.objects.filter(pk=DBTaskResult.objects.values("pk")[:1]).update(
        status=TaskResultStatus.SUCCESSFUL
    )

    response = client.get("/ready/")

    assert response.json()["task_queue_depth"] == 2
    assert response.status_code == 200


@pytest.mark.django_db
def test_ready_answers_503_when_the_queue_is_backed_up(client, settings):
    settings.TASKS = DATABASE_TASKS
    settings.GATHER_READY_MAX_QUEUE = 1
    queue_a_task()
    assert client.get("/ready/").status_code == 200

    queue_a_task()
    response = client.get("/ready/")

    assert response.status_code == 503
    assert response.json()["task_queue"] == "backlog"
    assert response.json()["task_queue_depth"] == 2
    assert response.json()["reason"] == "task_queue backlog"


@pytest.mark.django_db
def test_ready_does_not_count_other_task_backends(client):
    """The test settings run tasks at once: there is no queue to count."""
    response = client.get("/ready/")
    assert response.status_code == 200
    assert response.json()["task_queue"] == "not checked"
    assert response.json()["task_queue_depth"] is None


@pytest.mark.django_db
def test_ready_answers_503_when_the_database_fails(client, settings):
    settings.TASKS = DATABASE_TASKS
    with mock.patch.object(
        BaseDatabaseWrapper, "cursor", side_effect=OperationalError("down")
    ):
        response = client.get("/ready/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "failed",
        "cache": "ok",
        "task_queue": "not checked",
        "task_queue_depth": None,
        "reason": "database failed",
    }
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_ready_answers_503_when_the_cache_fails(client):
    with mock.patch.object(LocMemCache, "set", side_effect=ConnectionError("down")):
        response = client.get("/ready/")
    assert response.status_code == 503
    assert response.json()["cache"] == "failed"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_ready_answers_503_when_the_cache_keeps_nothing(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    }
    response = client.get("/ready/")
    assert response.status_code == 503
    assert response.json()["cache"] == "failed"


@pytest.mark.django_db
def test_checks_need_no_sign_in_or_csrf_token():
    csrf_checking = Client(enforce_csrf_checks=True)
    assert csrf_checking.head("/ready/").status_code == 200
    assert csrf_checking.get("/health/").status_code == 200
    assert csrf_checking.post("/ready/").status_code == 405


@pytest.mark.django_db
def test_production_answers_probes_over_plain_http(client, settings):
    """A load balancer probes an app server directly, without TLS: with
    production's settings the checks answer instead of redirecting to https."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from website.settings import production;"
            "print(json.dumps(production.SECURE_REDIRECT_EXEMPT))",
        ],
        env=os.environ | {"SECRET_KEY": "x" * 50, "GATHER_FIELD_ENCRYPTION_KEYS": "k"},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode == 0, result.stderr
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = json.loads(result.stdout)

    assert client.get("/health/").status_code == 200
    assert client.get("/ready/").status_code == 200
    assert client.get("/calendar/events.ics").status_code == 301


# With Redis (REDIS_URL): the Redis cache and RQ's queue ------------------------

RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
#: Nothing listens on port 1: connections are refused at once.
NO_REDIS = "redis://127.0.0.1:1/0"


def redis_cache(url):
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }


@pytest.mark.django_db
def test_ready_counts_the_rq_queue(client, settings, test_redis, event_index):
    settings.TASKS = RQ_TASKS
    settings.CACHES = redis_cache(test_redis)
    registration = sign_up(
        make_registration_event(event_index), "Sam Rivera", email="sam@example.org"
    )
    django_rq.get_queue("default").empty()  # Wagtail's tasks for the page
    for _ in range(3):
        send_messages.enqueue(registration_ids=[registration.pk], kind="confirmed")

    response = client.get("/ready/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "task_queue": "ok",
        "task_queue_depth": 3,
    }
    # Counts only: nothing of the person whose tasks wait.
    assert b"Sam" not in response.content and b"example.org" not in response.content


@pytest.mark.django_db
def test_ready_answers_503_when_the_rq_queue_is_backed_up(client, settings, test_redis):
    settings.TASKS = RQ_TASKS
    settings.GATHER_READY_MAX_QUEUE = 1
    queue_a_task()
    assert client.get("/ready/").status_code == 200

    queue_a_task()
    response = client.get("/ready/")

    assert response.status_code == 503
    assert response.json()["task_queue"] == "backlog"
    assert response.json()["task_queue_depth"] == 2
    assert response.json()["reason"] == "task_queue backlog"


@pytest.mark.django_db
def test_ready_answers_503_when_redis_is_down(client, settings, test_redis):
    settings.TASKS = RQ_TASKS
    settings.CACHES = redis_cache(NO_REDIS)
    settings.RQ_QUEUES = {"default": {"URL": NO_REDIS}}

    response = client.get("/ready/")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "cache": "failed",
        "task_queue": "failed",
        "task_queue_depth": None,
        "reason": "cache failed, task_queue failed",
    }


@pytest.mark.django_db
def test_ready_counts_rq_even_when_the_database_is_down(client, settings, test_redis):
    """RQ's queue is in Redis: a database outage does not hide a backlog."""
    settings.TASKS = RQ_TASKS
    queue_a_task()
    with mock.patch.object(
        BaseDatabaseWrapper, "cursor", side_effect=OperationalError("down")
    ):
        response = client.get("/ready/")
    assert response.status_code == 503
    assert response.json()["database"] == "failed"
    assert response.json()["task_queue"] == "ok"
    assert response.json()["task_queue_depth"] == 1
    assert response.json()["reason"] == "database failed"
