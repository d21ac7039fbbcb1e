"""``manage.py apply_retention``: anonymise the people of events that ended
more than ``GATHER_RETENTION_DAYS`` ago and clear abandoned import previews
(see ``attendance.retention``). Run it daily from cron, or let ``make run``
do it."""

from django.core.management.base import BaseCommand

from attendance.retention import apply_retention


class Command(BaseCommand):
    help = "Anonymise personal details past the retention period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Retention period in days (default: GATHER_RETENTION_DAYS).",
        )

    def handle(self, *args, days=None, **options):
        result = apply_retention(days=days)
        self.stdout.write(
            f"Anonymised {result.registrations} registrations and "
            f"{result.walk_ins} walk-in names at {result.events} events; "
            f"deleted {result.import_jobs_deleted} old import jobs; cleared "
            f"{result.previews_cleared} unimported previews and "
            f"{result.sign_in_failures_deleted} old failed sign-in records."
        )
