"""Queueing background tasks that belong to a database change.

A task such as "email this person their confirmation" must run only if the
change it is about commits. ``enqueue_on_commit`` does that for every task
backend, as cheaply as each allows.
"""

from django.db import router, transaction
from django_tasks_db.backend import DatabaseBackend


def _stores_tasks_in(backend, connection) -> bool:
    """Whether ``backend`` writes its tasks through ``connection``."""
    if not isinstance(backend, DatabaseBackend):
        return False
    from django_tasks_db.models import DBTaskResult

    return router.db_for_write(DBTaskResult) == connection.alias


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue ``task(*args, **kwargs)`` to run if, and once, the current
    transaction commits; never if it rolls back.

    With the database task backend the task row is written in the same
    transaction: it commits or rolls back with the change, so no task is lost
    if the process stops between the two, and a sign-up costs one commit, not
    two. Other backends (immediate, Redis) are queued from
    ``transaction.on_commit``. Outside a transaction the task is queued now.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and _stores_tasks_in(task.get_backend(), connection):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
