"""Health and readiness endpoints for a load balancer.

``/health/`` (liveness) says the process answers, touching nothing else: a
load balancer restarts a process that stops answering it. ``/ready/``
(readiness) says whether this process can serve now: the database answers
a trivial query, the shared cache keeps what is set in it, and the task
queue is not backed up past ``GATHER_READY_MAX_QUEUE``; a load balancer
sends no traffic to a process that answers 503.

Both answer plain JSON with no personal data (names of checks, their
results and a count), are never cached, need no sign-in or CSRF token, have
no rate limit, and cost a constant two queries at most (the trivial query
and, with the database task backend, the queue count; with RQ the count is
one LLEN per queue in Redis).
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


#: Seconds the readiness check waits for Redis before calling it failed.
REDIS_TIMEOUT = 2


def _rq_backend_class():
    """django-tasks-rq's backend class, imported only when asked for: a site
    without Redis never loads RQ."""
    from django_tasks_rq import RQBackend

    return RQBackend


def _rq_queue_depth(backend) -> int:
    """Jobs waiting in the RQ backend's queues (Redis list lengths), asked
    over a connection of its own that gives up after ``REDIS_TIMEOUT``
    seconds: the workers' connections wait minutes for a job on purpose."""
    import django_rq
    from redis import ConnectionPool, Redis
    from rq import Queue

    depth = 0
    for name in sorted(backend.queues):
        pool = django_rq.get_connection(name).connection_pool
        client = Redis(
            connection_pool=ConnectionPool(
                connection_class=pool.connection_class,
                **pool.connection_kwargs
                | {
                    "socket_timeout": REDIS_TIMEOUT,
                    "socket_connect_timeout": REDIS_TIMEOUT,
                },
            )
        )
        try:
            depth += client.llen(Queue(name, connection=client).key)
        finally:
            client.close()
    return depth


def task_queue_depth() -> int | None:
    """Tasks waiting for a worker: ready rows with the database backend
    (``django_tasks_db``), the queues' lengths with RQ (``django_tasks_rq``);
    None for other backends (the immediate one has no queue)."""
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if isinstance(backend, DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        # Counted through the partial index on waiting tasks (status READY).
        return DBTaskResult.objects.filter(status=TaskResultStatus.READY).count()
    if type(backend).__module__.startswith("django_tasks_rq") and isinstance(
        backend, _rq_backend_class()
    ):
        return _rq_queue_depth(backend)
    return None


def check_task_queue(database_ok: bool) -> tuple[str, int | None]:
    """The task queue's state and depth. The database backend's queue is a
    table, not counted when the database is down; RQ's is in Redis."""
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if not database_ok and isinstance(backend, DatabaseBackend):
        return NOT_CHECKED, None
    try:
        depth = task_queue_depth()
    # A database error, or Redis's (redis.RedisError) and its socket's.
    except Exception:
        logger.warning("Readiness: the task queue was not counted", exc_info=True)
        return FAILED, None
    if depth is None:
        return NOT_CHECKED, None
    return (BACKLOG if depth > settings.GATHER_READY_MAX_QUEUE else OK), depth


@csrf_exempt
@require_safe
def ready(request):
    """Readiness: 200 when the database, the cache and the task queue are
    fine, else 503 with the checks that failed in ``reason``; each check's
    result in the body, and the queue's depth as a number (null when the
    task backend has no queue to count)."""
    database = OK if database_answers() else FAILED
    queue, depth = check_task_queue(database == OK)
    checks = {
        "database": database,
        "cache": OK if cache_answers() else FAILED,
        "task_queue": queue,
    }
    failing = [
        f"{name} {result}"
        for name, result in checks.items()
        if result not in (OK, NOT_CHECKED)
    ]
    body = {
        "status": "unavailable" if failing else OK,
        **checks,
        "task_queue_depth": depth,
    }
    if failing:
        body["reason"] = ", ".join(failing)
    return _answer(body, status=503 if failing else 200)
