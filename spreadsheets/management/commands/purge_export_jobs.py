"""``manage.py purge_export_jobs``: delete background exports, and their
files, past ``GATHER_EXPORT_RETENTION_HOURS`` (see
``spreadsheets.exports.purge_old_exports``). ``make run`` runs it every ten
minutes; run it at least hourly from cron in production."""

from django.core.management.base import BaseCommand

from spreadsheets.exports import purge_old_exports


class Command(BaseCommand):
    help = "Delete background exports and their files past retention."

    def handle(self, *args, **options):
        deleted = purge_old_exports()
        self.stdout.write(f"Deleted {deleted} old background exports.")
