"""``manage.py top_up_series``: make the sessions of every series that keeps
going up to ``GATHER_ROLLING_WEEKS_AHEAD`` weeks ahead.

Run once a day (``run_scheduled_jobs`` does); running it again, or twice at
once, makes nothing twice (``events.open_series.top_up_series``).
"""

from django.core.management.base import BaseCommand

from events.open_series import top_up_series


class Command(BaseCommand):
    help = "Make the sessions of open-ended series up to the rolling horizon."

    def handle(self, *args, **options):
        done = top_up_series()
        created = sum(each.created for each in done)
        self.stdout.write(f"Topped up {len(done)} series: {created} session(s) made.")
