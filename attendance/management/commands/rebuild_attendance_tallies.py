"""``manage.py rebuild_attendance_tallies [--check | --repair]``: the
reports' stored attendance counts, rebuilt from the attendance records.

``--repair`` is the daily scheduled job (website/scheduler.py): a write that
bypasses the records' signals (a ``QuerySet.update``) would otherwise leave
the reports wrong until someone ran the rebuild by hand.
"""

import logging

from django.core.management.base import BaseCommand, CommandError

from attendance import tallies

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Rebuild the session tallies and participant spans the attendance "
        "reports sum (attendance.tallies) from the attendance records. With "
        "--check, only say whether they differ (exit 1 if they do); with "
        "--repair, rebuild only if they differ, with a warning in the log."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit 1 when stored rows differ from the records.",
        )
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Rebuild only when stored rows differ, and log a warning then.",
        )

    def handle(self, *args, check=False, repair=False, **options):
        if check or repair:
            found = tallies.differences()
            summary = ", ".join(f"{n} {name}" for name, n in found.items())
            if any(found.values()) and repair:
                # Counts of rows only: no person, session or event is named.
                logger.warning(
                    "Stored attendance counts differed from the records (%s "
                    "rows); rebuilt them.",
                    summary,
                )
                tallies.rebuild()
                self.stdout.write(f"Rebuilt the stored attendance counts ({summary}).")
                return
            if any(found.values()):
                raise CommandError(
                    f"Stored attendance counts differ from the records: {summary} "
                    "rows. Run `manage.py rebuild_attendance_tallies`."
                )
            self.stdout.write("The stored attendance counts match the records.")
            return
        tallies.rebuild()
        self.stdout.write(self.style.SUCCESS("Rebuilt the stored attendance counts."))
