"""``manage.py expire_place_offers``: pass on waitlist offers nobody took.

Every open offer past its deadline is closed, its person moved to the end
of the waitlist and told, and the place offered to the next person
(``events.offers.expire_due_offers``). Run it every few minutes
(``run_scheduled_jobs`` does, every ten); two runs at once expire each
offer once (each event is done under its lock).
"""

from django.core.management.base import BaseCommand

from events.offers import expire_due_offers


class Command(BaseCommand):
    help = "Expire waitlist offers past their deadline and offer the places on."

    def handle(self, *args, **options):
        expired = expire_due_offers()
        if expired or options["verbosity"] > 1:
            self.stdout.write(f"Expired {expired} offer(s).")
