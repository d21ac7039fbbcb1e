"""The jobs cron would run, for ``make run`` and ``make serve``.

``manage.py run_scheduled_jobs`` (website/management/commands) runs each job
of :data:`JOBS` when it is due and sleeps until the next one is, in one
process: Django starts once, not every ten minutes. What is due is decided
here, from the clock and the last runs, so it is tested without sleeping.

Every ten minutes: queue session reminders, send the messages quiet hours held
or that are due a new try, pass on waitlist offers past their deadline
(``expire_place_offers``), clear old import jobs and background exports
(``purge_export_jobs``). Once a day, on the first
pass after the local date (``TIME_ZONE``) changes: make the sessions of
open-ended series up to their rolling horizon, anonymise what the retention
period says must go, email the coordinators' daily summary, and refresh the
database's query planner statistics (``ANALYZE``). A
job that fails is tried again ten minutes later. The last runs are kept in
memory only, so a restart runs every job at once, as the shell loop this
replaces did.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

#: How long after a failure a job is tried again.
RETRY_AFTER = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Job:
    """A management command and how often it runs.

    ``every`` is a fixed interval; ``daily`` jobs run once per local date.
    ``quiet`` jobs have their own output (counts) dropped; emails and texts
    printed by the console backends still appear. ``args`` are the
    command's options.
    """

    command: str
    args: tuple[str, ...] = ()
    every: dt.timedelta | None = None
    daily: bool = False
    quiet: bool = True

    def __post_init__(self):
        if (self.every is None) == (not self.daily):
            raise ValueError("A job runs either every interval or daily.")


JOBS = (
    Job("send_reminders", every=dt.timedelta(minutes=10)),
    Job("send_due_messages", every=dt.timedelta(minutes=10), quiet=False),
    Job("expire_place_offers", every=dt.timedelta(minutes=10)),
    Job("purge_import_jobs", every=dt.timedelta(minutes=10)),
    Job("purge_export_jobs", every=dt.timedelta(minutes=10)),
    Job("top_up_series", daily=True),
    Job("apply_retention", daily=True),
    Job("send_staff_digest", daily=True),
    Job("update_query_statistics", daily=True),
    # Mends the reports' stored counts if a write went behind their signals.
    Job("rebuild_attendance_tallies", args=("--repair",), daily=True),
)


@dataclass
class Schedule:
    """The jobs and when each last succeeded and was last tried."""

    jobs: tuple[Job, ...] = JOBS
    succeeded: dict[str, dt.datetime] = field(default_factory=dict)
    failed: dict[str, dt.datetime] = field(default_factory=dict)

    def due_at(self, job: Job) -> dt.datetime | None:
        """When ``job`` is next due (None: at once)."""
        last = self.succeeded.get(job.command)
        if last is None:
            due = None
        elif job.daily:
            # The next local midnight after the last success.
            day = timezone.localtime(last).date() + dt.timedelta(days=1)
            due = timezone.make_aware(dt.datetime.combine(day, dt.time()))
        else:
            due = last + job.every
        failed = self.failed.get(job.command)
        if failed is not None and (last is None or failed > last):
            retry = failed + RETRY_AFTER
            due = retry if due is None else max(due, retry)
        return due

    def due(self, now: dt.datetime | None = None) -> list[Job]:
        """The jobs due at ``now``, in the order of :data:`JOBS`."""
        now = now or timezone.now()
        return [
            job for job in self.jobs if (at := self.due_at(job)) is None or at <= now
        ]

    def next_due(self, now: dt.datetime | None = None) -> dt.datetime:
        """When the first job is next due (``now`` if one is due already)."""
        now = now or timezone.now()
        return max(now, min(self.due_at(job) or now for job in self.jobs))

    def record(self, job: Job, ok: bool, at: dt.datetime | None = None) -> None:
        """Note that ``job`` ran at ``at``, and whether it succeeded."""
        at = at or timezone.now()
        (self.succeeded if ok else self.failed)[job.command] = at
