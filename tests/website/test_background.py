"""enqueue_on_commit: tasks run only for changes that commit, whatever the
task backend."""

import pytest
from django.core import mail
from django.db import transaction
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from events.registration import register
from events.tasks import send_messages
from tests.conftest import make_registration_event, queued_work

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _emails():
    """The registration-email tasks in the task table (page saves queue
    Wagtail's own tasks too)."""
    return list(DBTaskResult.objects.filter(task_path=send_messages.module_path))


def test_database_backend_writes_the_task_in_the_same_transaction(
    settings, event_index, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_TASKS
    event = make_registration_event(event_index)
    with django_capture_on_commit_callbacks() as callbacks:
        result = register(event=event, name="Ana", email="ana@example.org")
    # Nothing left for after the commit (but forgetting cached pages).
    assert queued_work(callbacks) == []
    [queued] = _emails()
    assert queued.args_kwargs["args"] == [[result.registration.pk], "confirmed"]


def test_database_backend_task_rolls_back_with_the_change(settings, event_index):
    settings.TASKS = DATABASE_TASKS
    event = make_registration_event(event_index)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        register(event=event, name="Ana", email="ana@example.org")
        assert len(_emails()) == 1
        1 / 0  # noqa: B018
    assert _emails() == []


def test_other_backends_queue_after_the_commit(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index)  # tests use the immediate backend
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        register(event=event, name="Ana", email="ana@example.org")
        assert mail.outbox == []  # not sent before the commit
    [send] = queued_work(callbacks)
    send()
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]


@task()
def always_fails() -> None:
    """A task for the test below (importable by path, as workers need)."""
    raise ValueError("this task fails")


@pytest.mark.tasks
def test_a_failing_task_fails_the_test_on_every_backend(task_backend, run_tasks):
    result = always_fails.enqueue()
    if task_backend == "immediate":
        assert result.status == TaskResultStatus.FAILED
        assert run_tasks() == 0
        return
    with pytest.raises(pytest.fail.Exception, match="always_fails failed"):
        run_tasks()
