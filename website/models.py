"""The site's own pages: the home page and free-text pages.

The organisation's details (``SiteSettings``) live in ``core.models``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from .blocks import BodyBlock

#: How many upcoming sessions the home page highlights.
HOME_HIGHLIGHT_COUNT = 6


class HomePage(Page):
    """The site's root page: a welcome and the next few sessions.

    There is one per site; events and workshops live below it.
    """

    intro = RichTextField(
        features=["bold", "italic", "link"],
        blank=True,
        help_text=_("A short welcome: who the program is for and what it offers."),
    )
    body = StreamField(
        BodyBlock(),
        blank=True,
        help_text=_("Anything else visitors should read on the home page."),
    )

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "events.EventIndexPage",
        "workshops.WorkshopIndexPage",
        "website.StandardPage",
    ]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("home page")

    def upcoming_highlights(self):
        """The next sessions of published events below this page, soonest first."""
        from events.models import EventSession

        return (
            EventSession.objects.upcoming()
            .published()
            .descendant_of(self)
            .for_listing()[:HOME_HIGHLIGHT_COUNT]
        )

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["highlights"] = self.upcoming_highlights()
        return context


class StandardPage(Page):
    """A free-text page: about us, privacy notice, contact."""

    intro = models.TextField(
        blank=True,
        help_text=_("One or two sentences shown under the title."),
    )
    body = StreamField(BodyBlock(), blank=True)

    search_fields = [
        *Page.search_fields,
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]

    parent_page_types = ["website.HomePage", "website.StandardPage"]

    class Meta:
        verbose_name = _("standard page")
