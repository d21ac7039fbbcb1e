"""``manage.py send_staff_digest``: the coordinators' daily summary of new
sign-ups, cancellations and open follow-ups, to those who chose it
(``attendance.notifications``). Safe to run more than once a day: each
coordinator gets one a day. ``make serve`` runs it once a day."""

from django.core.management.base import BaseCommand

from attendance.notifications import send_staff_digest


class Command(BaseCommand):
    help = "Email the daily summary to the coordinators who asked for it."

    def handle(self, *args, **options):
        sent = send_staff_digest()
        self.stdout.write(f"Sent the daily summary to {sent} coordinators.")
