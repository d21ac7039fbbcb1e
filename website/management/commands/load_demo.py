"""``manage.py load_demo``: fill an empty site with a believable peer support program.

The content lives in ``website/demo/content/`` and is built by
``website.demo.builder`` (see there for what the demo holds). The command is
safe to repeat: once the events listing exists below the home page it says
so and changes nothing. Everything is built inside one transaction, so a
failure part-way leaves the database as it was.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from wagtail.models import Site

from events.models import EventSession, SessionStatus
from website.demo.builder import build_demo, demo_loaded, demo_today
from website.demo.content import ContentError, load_content
from website.models import HomePage


def find_home_page():
    """The default site's HomePage, which the website data migration created."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        raise CommandError("There is no default site. Run manage.py migrate first.")
    home = site.root_page.specific
    if not isinstance(home, HomePage):
        raise CommandError(
            "The default site's root page is not a home page. Run "
            "manage.py migrate first."
        )
    return site, home


class Command(BaseCommand):
    """Load the Riverside Peer Support demo program into an empty site."""

    help = (
        "Load a demo peer support program: pages, venues, workshops, "
        "facilitators and eight weeks of groups and events. Safe to repeat."
    )

    def handle(self, *args, **options):
        site, home = find_home_page()
        try:
            content = load_content()
            if demo_loaded(home, content):
                self.stdout.write("Demo content already loaded.")
                return
            with transaction.atomic():
                demo = build_demo(site, home, today=demo_today(), content=content)
        except ContentError as error:
            # A mistake in a data file: say which file and key, not a traceback.
            raise CommandError(f"The demo content is malformed: {error}") from error
        sessions = EventSession.objects.filter(event__in=demo.events)
        cancelled = sessions.filter(status=SessionStatus.CANCELLED).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded the {demo.organisation_name} demo: {len(demo.venues)} "
                f"venues, {len(demo.workshops)} workshops, {len(demo.events)} events "
                f"with {sessions.count()} sessions ({cancelled} cancelled), and "
                f"{len(demo.facilitators)} facilitator accounts; "
                f"{len(demo.registrations)} registrations, and a past term of "
                f"{len(demo.past_events)} events with attendance for the reports."
            )
        )
        self.stdout.write(
            "Facilitator accounts have random passwords; set one with "
            "manage.py changepassword <username>."
        )
