"""Page-type rules keep the tree sane, and each page type can be created in
the admin with its real form."""

from django.urls import reverse
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import (
    inline_formset,
    nested_form_data,
    rich_text,
    streamfield,
)

from events.models import EventIndexPage, EventPage, Venue
from website.models import HomePage, StandardPage
from workshops.models import WorkshopIndexPage, WorkshopPage


class PageTypeRulesTests(WagtailPageTestCase):
    def test_home_page_children(self):
        self.assertAllowedSubpageTypes(
            HomePage, {EventIndexPage, WorkshopIndexPage, StandardPage}
        )

    def test_events_live_only_in_an_events_listing(self):
        self.assertAllowedParentPageTypes(EventPage, {EventIndexPage})
        self.assertAllowedSubpageTypes(EventPage, set())
        self.assertAllowedSubpageTypes(EventIndexPage, {EventPage})

    def test_workshops_live_only_in_the_library(self):
        self.assertAllowedParentPageTypes(WorkshopPage, {WorkshopIndexPage})
        self.assertAllowedSubpageTypes(WorkshopIndexPage, {WorkshopPage})

    def test_listings_sit_below_the_home_page(self):
        self.assertAllowedParentPageTypes(EventIndexPage, {HomePage})
        self.assertAllowedParentPageTypes(WorkshopIndexPage, {HomePage})
        self.assertCanNotCreateAt(Page, EventPage)
        self.assertCanNotCreateAt(HomePage, EventPage)


class AdminCreationTests(WagtailPageTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.home = HomePage.objects.get()
        cls.events = EventIndexPage(title="Events", slug="events")
        cls.home.add_child(instance=cls.events)
        cls.library = WorkshopIndexPage(title="Library", slug="library")
        cls.home.add_child(instance=cls.library)
        cls.venue = Venue.objects.create(name="Hall", setting="community")

    def setUp(self):
        # force_login: django-axes refuses client.login(), which passes no
        # request to count sign-in tries by.
        self.client.force_login(self.create_superuser(username="admin"))

    def test_create_standard_page(self):
        self.assertCanCreate(
            self.home,
            StandardPage,
            nested_form_data(
                {
                    "title": "About us",
                    "slug": "about",
                    "intro": "Who we are.",
                    "body": streamfield([("paragraph", rich_text("<p>Hello</p>"))]),
                }
            ),
        )

    def test_create_event_page(self):
        self.assertCanCreate(
            self.events,
            EventPage,
            nested_form_data(
                {
                    "title": "WRAP group",
                    "slug": "wrap",
                    "kind": "group",
                    "summary": "An eight-week group.",
                    "what_to_expect": rich_text("<p>Tea and talk.</p>"),
                    "venue": self.venue.pk,
                    "registration_mode": "required",
                    "sign_up_per": "series",
                    "capacity": 12,
                    "waitlist_enabled": "on",
                    "topics": "recovery, wellness",
                    "questions": inline_formset(
                        [
                            {
                                "label": "How did you hear about us?",
                                "kind": "choice",
                                "choices": "A friend\nA poster",
                                "demographic": "on",
                                "help_text": "",
                            }
                        ]
                    ),
                }
            ),
        )
        event = EventPage.objects.get(slug="wrap")
        [question] = event.questions.all()
        self.assertEqual(question.options, ["A friend", "A poster"])
        self.assertTrue(question.demographic)
        self.assertEqual(
            sorted(t.name for t in event.topics.all()), ["recovery", "wellness"]
        )

    def test_event_editor_lists_facilitators_by_name(self):
        from django.contrib.auth.models import Group, User

        group, _ = Group.objects.get_or_create(name="Facilitators")
        amara = User.objects.create_user(
            "amara.okafor", first_name="Amara", last_name="Okafor"
        )
        nameless = User.objects.create_user("t.nguyen")
        group.user_set.add(amara, nameless)

        response = self.client.get(
            f"/admin/pages/add/events/eventpage/{self.events.pk}/"
        )

        html = response.content.decode()
        self.assertInHTML(f'<option value="{amara.pk}">Amara Okafor</option>', html)
        self.assertInHTML(f'<option value="{nameless.pk}">t.nguyen</option>', html)

    def test_create_workshop_page_with_outline(self):
        segment = {
            "title": "Welcome",
            "minutes": 30,
            "kind": "welcome",
            "description": "",
            "facilitator_notes": "",
            "materials": streamfield([]),
        }
        self.assertCanCreate(
            self.library,
            WorkshopPage,
            nested_form_data(
                {
                    "title": "Peer support 101",
                    "slug": "peer-support-101",
                    "summary": "The basics.",
                    "duration_minutes": 30,
                    "outline": streamfield([("segment", segment)]),
                    "session_plans": inline_formset([]),
                }
            ),
        )

    def _segment(self, minutes):
        return {
            "title": f"Part of {minutes} minutes",
            "minutes": minutes,
            "kind": "activity",
            "description": "",
            "facilitator_notes": "",
            "materials": streamfield([]),
        }

    def _workshop_form(self, plans):
        return nested_form_data(
            {
                "title": "WRAP",
                "slug": "wrap",
                "summary": "A plan for staying well.",
                "duration_minutes": 60,
                "outline": streamfield([("segment", self._segment(60))]),
                "session_plans": inline_formset(
                    [
                        {
                            "number": number,
                            "title": f"Week {number}",
                            "outline": streamfield(
                                [("segment", self._segment(m)) for m in minutes]
                            ),
                            "handout": rich_text(""),
                            "materials": "",
                        }
                        for number, minutes in plans
                    ]
                ),
            }
        )

    def _post_workshop(self, plans):
        url = reverse(
            "wagtailadmin_pages:add",
            args=("workshops", "workshoppage", self.library.pk),
        )
        return self.client.post(url, self._workshop_form(plans))

    def test_create_workshop_page_with_a_plan_per_week(self):
        self.assertCanCreate(
            self.library, WorkshopPage, self._workshop_form([(1, [60]), (2, [20, 40])])
        )
        workshop = WorkshopPage.objects.get(slug="wrap")
        self.assertEqual(
            [(p.number, p.title) for p in workshop.plans()],
            [(1, "Week 1"), (2, "Week 2")],
        )
        self.assertEqual(workshop.plan_for(2).segments[1]["minutes"], 40)

    def test_two_plans_for_the_same_week_are_refused(self):
        response = self._post_workshop([(2, [60]), (2, [60])])

        self.assertEqual(response.status_code, 200)
        self.assertFalse(WorkshopPage.objects.filter(slug="wrap").exists())
        self.assertContains(response, "Another plan is for session 2 too.", count=2)

    def test_a_plan_outline_must_add_up_to_the_duration(self):
        response = self._post_workshop([(1, [60]), (2, [20, 30])])

        self.assertEqual(response.status_code, 200)
        self.assertFalse(WorkshopPage.objects.filter(slug="wrap").exists())
        self.assertContains(
            response, "The outline adds up to 50 minutes but the duration is 60"
        )

    def test_a_plan_for_week_zero_is_refused(self):
        response = self._post_workshop([(0, [60])])

        self.assertEqual(response.status_code, 200)
        self.assertFalse(WorkshopPage.objects.filter(slug="wrap").exists())
        self.assertContains(response, "greater than or equal to 1")

    def test_workshop_outline_must_add_up_to_duration(self):
        from django.core.exceptions import ValidationError

        page = WorkshopPage(
            title="Short",
            slug="short",
            summary="x",
            duration_minutes=90,
            outline=[("segment", {"title": "A", "minutes": 30, "kind": "welcome"})],
        )
        with self.assertRaises(ValidationError) as error:
            page.full_clean()
        self.assertIn("adds up to 30 minutes", str(error.exception))
