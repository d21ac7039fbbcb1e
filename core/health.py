"""Health and readiness endpoints for a load balancer.

``/health/`` (liveness) says the process answers, touching nothing else: a
load balancer restarts a process that stops answering it. ``/ready/``
(readiness) says whether this process can serve now: the database answers
a trivial query, the shared cache keeps what is set in it, and the task
queue is not backed up past ``GATHER_READY_MAX_QUEUE``; a load balancer
sends no traffic to a process that answers 503.

Both answer plain JSON with no personal data, are never cached, need no
sign-in or CSRF token, have no rate limit, and cost a constant two queries
at most (the trivial query and the queue count).
"""

import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import Error as DatabaseError
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus, task_backends
from django_tasks_db.backend import DatabaseBackend

logger = logging.getLogger(__name__)

OK = "ok"
FAILED = "failed"
BACKLOG = "backlog"
NOT_CHECKED = "not checked"


def _answer(body: dict, *, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_safe
def health(request):
    """Liveness: the process answers. No database, no cache."""
    return _answer({"status": OK})


def database_answers() -> bool:
    """Whether the default database answers a trivial query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Readiness: the database did not answer", exc_info=True)
        return False
    return True


def cache_answers() -> bool:
    """Whether the default cache gives back a value just set in it, under a
    random key so that processes checking at once do not see each other's."""
    key = f"gather:ready:{secrets.token_hex(8)}"
    value = secrets.token_hex(8)
    try:
        cache.set(key, value, timeout=10)
        return cache.get(key) == value
    # Each cache backend raises its own errors (Redis, memcached, files).
    except Exception:
        logger.warning("Readiness: the cache failed", exc_info=True)
        return False


def task_queue_depth() -> int | None:
    """Tasks waiting for a worker, when the task backend is the database's
    (``django_tasks_db``); None for other backends, which it cannot see."""
    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return None
    from django_tasks_db.models import DBTaskResult

    # Counted through the partial index on waiting tasks (status READY).
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY).count()


@csrf_exempt
@require_safe
def ready(request):
    """Readiness: 200 when the database, the cache and the task queue are
    fine, else 503; each check's result in the body, and the queue's depth
    as a number (null when the task backend is not the database)."""
    database = OK if database_answers() else FAILED
    depth, queue = None, NOT_CHECKED
    if database == OK:
        try:
            depth = task_queue_depth()
        except DatabaseError:
            logger.warning("Readiness: the task queue was not counted", exc_info=True)
            queue = FAILED
        else:
            if depth is not None:
                queue = BACKLOG if depth > settings.GATHER_READY_MAX_QUEUE else OK
    checks = {
        "database": database,
        "cache": OK if cache_answers() else FAILED,
        "task_queue": queue,
    }
    fine = all(result in (OK, NOT_CHECKED) for result in checks.values())
    return _answer(
        {"status": OK if fine else "unavailable", **checks, "task_queue_depth": depth},
        status=200 if fine else 503,
    )
