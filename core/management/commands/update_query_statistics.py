"""``manage.py update_query_statistics``: refresh the statistics the
database plans queries with (``ANALYZE``). Run daily by
``manage.py run_scheduled_jobs``, and after a bulk load."""

import time

from django.core.management.base import BaseCommand

from core.statistics import update_query_statistics


class Command(BaseCommand):
    help = "Refresh the database's query planner statistics (ANALYZE)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database, **options):
        began = time.perf_counter()
        statement = update_query_statistics(database)
        self.stdout.write(f"{statement}: {time.perf_counter() - began:.1f}s.")
