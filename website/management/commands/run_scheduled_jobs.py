"""``manage.py run_scheduled_jobs``: run reminders, retention and the other
scheduled jobs when they are due (website/scheduler.py), as cron would.

``make run`` and ``make serve`` run it beside the task worker. ``--once`` runs
every job once and exits.
"""

import io
import logging
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone

from website.scheduler import Schedule

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the scheduled jobs (reminders, retention, digest) when due."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run every job once, then exit.",
        )

    def handle(self, *args, once=False, **options):
        schedule = Schedule()
        while True:
            failures = self.run_due(schedule)
            if once:
                if failures:
                    raise SystemExit(1)
                return
            pause = (schedule.next_due() - timezone.now()).total_seconds()
            time.sleep(max(pause, 1))

    def run_due(self, schedule: Schedule) -> int:
        """Run the jobs due now; return how many failed."""
        failures = 0
        for job in schedule.due():
            out = io.StringIO() if job.quiet else self.stdout
            try:
                call_command(job.command, *job.args, stdout=out)
            except Exception:
                # The traceback names the job, never a person: the jobs take
                # no arguments and log only ids.
                logger.exception("Scheduled job %s failed", job.command)
                schedule.record(job, ok=False)
                failures += 1
            else:
                schedule.record(job, ok=True)
            finally:
                # A long-running process drops connections the database
                # closed or that outlived CONN_MAX_AGE between jobs; never
                # inside a transaction (a caller's, or a test's).
                if not connection.in_atomic_block:
                    close_old_connections()
        return failures
