"""``manage.py purge_import_jobs``: delete old import jobs and expire
abandoned previews (see ``spreadsheets.jobs.purge_old_jobs``). Run it daily
from cron, or let ``make run`` do it."""

from django.core.management.base import BaseCommand

from spreadsheets.jobs import purge_old_jobs


class Command(BaseCommand):
    help = "Delete import jobs past retention and clear unimported previews."

    def handle(self, *args, **options):
        deleted, expired = purge_old_jobs()
        self.stdout.write(
            f"Deleted {deleted} old import jobs; cleared {expired} unimported previews."
        )
