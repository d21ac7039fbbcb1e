"""``manage.py send_due_messages``: send the messages whose time has come.

That is messages quiet hours held until morning, and the next tries of
messages that failed for a passing reason. Run it every few minutes from
cron or beside the worker (``make serve`` does); two runs at once never send
the same message twice (each batch is leased first).
"""

from django.core.management.base import BaseCommand

from events.messaging import send_due_messages


class Command(BaseCommand):
    help = "Send held messages and the next tries of failed ones."

    def handle(self, *args, **options):
        tried = send_due_messages()
        if tried or options["verbosity"] > 1:
            self.stdout.write(f"Tried {tried} message(s).")
