"""Workshop programs: reusable curricula that events deliver.

A workshop has one outline and handout for every session. A course whose
sessions differ (week 1 the wellness toolbox, week 3 triggers...) adds a
``WorkshopSessionPlan`` per session number; a session without its own plan,
or a plan that leaves its outline or handout empty, uses the workshop's.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from .blocks import OutlineBlock

#: The highest session number a plan may have: a year of weekly sessions.
MAX_SESSION_NUMBER = 52


def outline_segments(outline) -> list[dict]:
    """The segments of an outline, in running order: a StreamField value, or
    the ``(type, value)`` pairs a StreamField is given."""
    segments = []
    for item in outline or []:
        if hasattr(item, "block_type"):
            block_type, value = item.block_type, item.value
        else:
            block_type, value = item[0], item[1]
        if block_type == "segment":
            segments.append(value)
    return segments


def outline_total_error(outline, duration_minutes: int | None) -> str | None:
    """Why ``outline`` does not fit a session of ``duration_minutes``, or None.

    The one home of the rule that an outline adds up to the session's
    length, for the workshop's outline and each session plan's; an empty
    outline is always fine (there is nothing to time yet).
    """
    segments = outline_segments(outline)
    if not segments or duration_minutes is None:
        return None
    total = sum(segment["minutes"] or 0 for segment in segments)
    if total == duration_minutes:
        return None
    return _(
        "The outline adds up to %(total)s minutes but the "
        "duration is %(duration)s minutes. Change a segment "
        "or the duration so they match."
    ) % {"total": total, "duration": duration_minutes}


def materials_needed(segments: list[dict], extra: Iterable[str] = ()) -> list[str]:
    """Every segment's materials once, in the order they are first needed,
    then ``extra`` (a session plan's own), without repeats."""
    seen, items = set(), []
    wanted = [item for segment in segments for item in segment.get("materials") or []]
    for item in [*wanted, *extra]:
        item = (item or "").strip()
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            items.append(item)
    return items


@dataclass(frozen=True)
class SessionContent:
    """What one session of a workshop runs: its own plan's parts where it
    has them, the workshop's otherwise."""

    #: The session number asked for, or None for "any session".
    number: int | None
    #: The plan's title, e.g. "Week 3: Triggers", or "" without a plan.
    title: str
    segments: list[dict]
    #: Rich text (HTML) for the participant handout.
    handout: str
    #: Things to bring for this session only, besides the segments' own.
    extra_materials: list[str] = field(default_factory=list)
    #: Whether the session has a plan of its own (not the workshop's).
    has_plan: bool = False
    #: Whether the workshop has plans for other sessions.
    other_plans: bool = False

    @property
    def materials(self) -> list[str]:
        """The materials checklist for this session."""
        return materials_needed(self.segments, self.extra_materials)


def session_plan_errors(
    plans: list[tuple[int | None, object]], duration_minutes: int | None
) -> list[dict[str, str]]:
    """For each ``(number, outline)`` in ``plans``, what is wrong with it, by
    field: a number another plan has too, or an outline that does not add
    up to ``duration_minutes``. Empty dicts for plans that are fine."""
    numbers = [number for number, _outline in plans]
    errors = []
    for number, outline in plans:
        found = {}
        if number is not None and numbers.count(number) > 1:
            found["number"] = _(
                "Another plan is for session %(number)s too. Give each session "
                "one plan."
            ) % {"number": number}
        total_error = outline_total_error(outline, duration_minutes)
        if total_error:
            found["outline"] = total_error
        errors.append(found)
    return errors


class WorkshopPageForm(WagtailAdminPageForm):
    """The workshop editor's form: each session plan's outline must add up
    to the duration typed on the same form, and no two plans may share a
    number, so the checks run here, where all of it is known, and each
    error sits next to the plan's field."""

    def clean(self):
        cleaned_data = super().clean()
        duration = cleaned_data.get("duration_minutes")
        formset = self.formsets.get("session_plans")
        if formset is None:
            return cleaned_data
        kept = [
            form
            for form in formset.forms
            if form.is_valid() and not form.cleaned_data.get("DELETE")
        ]
        plans = [
            (f.cleaned_data.get("number"), f.cleaned_data.get("outline")) for f in kept
        ]
        for form, errors in zip(
            kept, session_plan_errors(plans, duration), strict=True
        ):
            # Next to the field, in plain words; a plan refused here is left
            # out of the formset's own (generic) check for repeated numbers.
            for field_name, message in errors.items():
                form.add_error(field_name, message)
        return cleaned_data


class WorkshopIndexPage(Page):
    """The workshop library: lists every published workshop."""

    #: Served from the shared cache to anonymous visitors (core/public_cache.py).
    public_cache = True

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
        InlinePanel(
            "session_plans",
            heading=_("A plan for each session"),
            label=_("Session plan"),
            help_text=_(
                "Optional. For a course whose sessions differ: what session 1, "
                "2, 3... runs. A session without a plan uses the outline and "
                "handout above. Cancelled sessions are not counted: the next "
                "session that goes ahead runs the plan the cancelled one would "
                "have."
            ),
        ),
    ]
    base_form_class = WorkshopPageForm
    #: Served from the shared cache to anonymous visitors (core/public_cache.py).
    public_cache = True
    parent_page_types = ["workshops.WorkshopIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("workshop")

    @property
    def segments(self):
        """The outline's segments, as their block values, in running order."""
        return outline_segments(self.outline)

    @property
    def outline_minutes(self):
        """Total minutes of the outline's segments."""
        return sum(segment["minutes"] or 0 for segment in self.segments)

    def plans(self) -> list["WorkshopSessionPlan"]:
        """The session plans by number (unsaved ones too, while editing)."""
        return sorted(self.session_plans.all(), key=lambda plan: plan.number or 0)

    def plan_for(self, number: int | None) -> "WorkshopSessionPlan | None":
        """The plan for session ``number`` (1 is the first), or None."""
        if number is None:
            return None
        return next((p for p in self.session_plans.all() if p.number == number), None)

    def session_content(self, number: int | None) -> SessionContent:
        """What session ``number`` runs: its plan's title, outline, handout and
        materials, each falling back to the workshop's when the plan leaves
        it empty or there is no plan for that number."""
        plans = list(self.session_plans.all())
        plan = next(
            (p for p in plans if number is not None and p.number == number), None
        )
        if plan is None:
            return SessionContent(
                number=number,
                title="",
                segments=self.segments,
                handout=self.handout,
                other_plans=bool(plans),
            )
        return SessionContent(
            number=number,
            title=plan.title,
            segments=plan.segments or self.segments,
            handout=plan.handout or self.handout,
            extra_materials=plan.materials_list,
            has_plan=True,
            other_plans=len(plans) > 1,
        )

    def clean(self):
        super().clean()
        error = outline_total_error(self.outline, self.duration_minutes)
        if error:
            raise ValidationError({"outline": error})


class WorkshopSessionPlan(Orderable):
    """What one session of a workshop runs, when sessions differ.

    Session numbers count the sessions of an event that go ahead, in start
    order (``EventSession.week_number``): a cancelled week is skipped, and
    the next session runs the plan the cancelled one would have. Empty
    parts fall back to the workshop's outline and handout.
    """

    workshop = ParentalKey(
        WorkshopPage, on_delete=models.CASCADE, related_name="session_plans"
    )
    number = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SESSION_NUMBER)],
        help_text=_(
            "Which session this plan is for: 1 for the first session that goes "
            "ahead, 2 for the next, and so on."
        ),
    )
    title = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("Shown on the guide and handout, e.g. 'Week 3: Triggers'."),
    )
    outline = StreamField(
        OutlineBlock(),
        blank=True,
        help_text=_(
            "This session's parts in order. Must add up to the workshop's "
            "duration. Leave empty to use the workshop's outline."
        ),
    )
    handout = RichTextField(
        blank=True,
        help_text=_(
            "This session's participant handout. Leave empty to use the "
            "workshop's handout."
        ),
    )
    materials = models.TextField(
        blank=True,
        help_text=_(
            "Anything else to bring to this session only, one item per line. "
            "Added to the materials checklist."
        ),
    )

    panels = [
        FieldPanel("number"),
        FieldPanel("title"),
        FieldPanel("outline"),
        FieldPanel("handout"),
        FieldPanel("materials"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("session plan")
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "number"],
                name="workshop_session_plan_number_unique",
                violation_error_message=_(
                    "This workshop already has a plan for this session number."
                ),
            )
        ]

    def __str__(self):
        return self.title or _("Session %(number)s") % {"number": self.number}

    @property
    def segments(self):
        """This plan's own segments (empty when it uses the workshop's)."""
        return outline_segments(self.outline)

    @property
    def materials_list(self) -> list[str]:
        """The extra materials, one per non-blank line."""
        return [line.strip() for line in self.materials.splitlines() if line.strip()]
