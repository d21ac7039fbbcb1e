"""Background tasks of the attendance app. They take ids only: task
arguments are stored by the task backend."""

from django_tasks import task

from . import notifications


@task()
def email_flagged_note(follow_up_id: int) -> None:
    """Email the coordinators who asked that a session note was flagged."""
    notifications.email_flagged_note(follow_up_id)
