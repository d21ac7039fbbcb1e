"""Workshop programs: reusable curricula that events deliver."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from .blocks import OutlineBlock


class WorkshopIndexPage(Page):
    """The workshop library: lists every published workshop."""

    intro = RichTextField(features=["bold", "italic", "link"], blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["website.HomePage"]
    subpage_types = ["workshops.WorkshopPage"]

    class Meta:
        verbose_name = _("workshop library")

    def workshops(self):
        """Published workshops in this library, by title."""
        return (
            WorkshopPage.objects.child_of(self)
            .live()
            .public()
            .specific()
            .order_by("title")
        )

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["workshops"] = self.workshops()
        return context


class WorkshopPage(Page):
    """A reusable program that events deliver, with a timed outline.

    The outline's facilitator notes and materials are for facilitators only;
    the public page shows the summary, goals and segment titles.
    """

    summary = models.TextField(
        help_text=_("Two or three plain sentences: what this workshop is about."),
    )
    audience = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("Who it is for, e.g. 'Anyone who hears voices, and family'."),
    )
    learning_goals = RichTextField(
        features=["ul", "ol", "bold", "italic"],
        blank=True,
        help_text=_("What people will take away, as a short list."),
    )
    duration_minutes = models.PositiveIntegerField(
        help_text=_("Length of one session in minutes. The outline must add up to it."),
    )
    outline = StreamField(
        OutlineBlock(),
        blank=True,
        help_text=_("The session's parts in order, each with its minutes."),
    )
    handout = RichTextField(
        blank=True,
        help_text=_("Participant handout: plain language, for printing."),
    )
    resources = RichTextField(
        features=["bold", "italic", "link", "ul", "ol"],
        blank=True,
        help_text=_("Further reading, services and phone numbers."),
    )
    safety_notes = models.TextField(
        blank=True,
        help_text=_("For facilitators: risks to watch for and what to do. Not public."),
    )

    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("audience"),
        index.SearchField("learning_goals"),
    ]
    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("audience"),
        FieldPanel("learning_goals"),
        MultiFieldPanel(
            [FieldPanel("duration_minutes"), FieldPanel("outline")],
            heading=_("Outline"),
        ),
        FieldPanel("handout"),
        FieldPanel("resources"),
        FieldPanel("safety_notes"),
    ]
    parent_page_types = ["workshops.WorkshopIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("workshop")

    @property
    def segments(self):
        """The outline's segments, as their block values, in running order."""
        return [block.value for block in self.outline if block.block_type == "segment"]

    @property
    def outline_minutes(self):
        """Total minutes of the outline's segments."""
        return sum(segment["minutes"] or 0 for segment in self.segments)

    def clean(self):
        super().clean()
        segments = self.segments
        if segments and self.duration_minutes is not None:
            total = self.outline_minutes
            if total != self.duration_minutes:
                raise ValidationError(
                    {
                        "outline": _(
                            "The outline adds up to %(total)s minutes but the "
                            "duration is %(duration)s minutes. Change a segment "
                            "or the duration so they match."
                        )
                        % {"total": total, "duration": self.duration_minutes}
                    }
                )
