"""``manage.py rebuild_attendance_tallies [--check]``: the reports' stored
attendance counts, rebuilt from the attendance records."""

from django.core.management.base import BaseCommand, CommandError

from attendance import tallies


class Command(BaseCommand):
    help = (
        "Rebuild the session tallies and participant spans the attendance "
        "reports sum (attendance.tallies) from the attendance records. With "
        "--check, only say whether they differ (exit 1 if they do)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit 1 when stored rows differ from the records.",
        )

    def handle(self, *args, check=False, **options):
        if check:
            found = tallies.differences()
            summary = ", ".join(f"{n} {name}" for name, n in found.items())
            if any(found.values()):
                raise CommandError(
                    f"Stored attendance counts differ from the records: {summary} "
                    "rows. Run `manage.py rebuild_attendance_tallies`."
                )
            self.stdout.write("The stored attendance counts match the records.")
            return
        tallies.rebuild()
        self.stdout.write(self.style.SUCCESS("Rebuilt the stored attendance counts."))
