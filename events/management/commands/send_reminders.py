"""``manage.py send_reminders``: queue reminders for sessions starting soon.

Run it every few minutes from cron or beside the worker; it never sends the
same reminder twice, even when two runs overlap.
"""

from django.core.management.base import BaseCommand

from events.reminders import send_due_reminders


class Command(BaseCommand):
    help = "Queue reminder emails for sessions that start soon."

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours",
            type=int,
            default=None,
            help="How far ahead to look (default: GATHER_REMINDER_HOURS, 24).",
        )

    def handle(self, *args, hours, **options):
        queued = send_due_reminders(hours=hours)
        self.stdout.write(f"Queued {queued} reminder(s).")
