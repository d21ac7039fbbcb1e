"""Site-wide pages and settings: the home page, free-text pages, and the
organisation's details shown on every page."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from .blocks import BodyBlock


def absolute_url(path: str) -> str:
    """A full URL on the public site (``BASE_URL``) for a site-relative path."""
    return settings.BASE_URL + path


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


@register_setting(icon="site")
class SiteSettings(BaseSiteSetting):
    """The organisation's details, shown in every page's header and footer."""

    organisation_name = models.CharField(
        max_length=120,
        default="Gather",
        help_text=_("Shown in the page header and in emails."),
    )
    logo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Optional. Shown next to the organisation name."),
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    crisis_line_text = RichTextField(
        features=["bold", "link"],
        blank=True,
        help_text=_(
            "Shown at the foot of every page, e.g. 'In crisis? Call 988 at any "
            "time, or go to your nearest emergency department.'"
        ),
    )
    privacy_notice_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Linked from every page footer and from sign-up forms."),
    )

    paper_size = models.CharField(
        max_length=10,
        choices=[("A4", "A4"), ("letter", _("US Letter"))],
        default="letter",
        help_text=_("Paper size of printed sign-in sheets, guides and handouts."),
    )
    spare_handouts = models.PositiveIntegerField(
        default=2,
        help_text=_(
            "Session packs print one handout per confirmed participant plus "
            "this many spares for walk-ins."
        ),
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("organisation_name"), FieldPanel("logo")],
            heading=_("Organisation"),
        ),
        MultiFieldPanel(
            [FieldPanel("phone"), FieldPanel("email"), FieldPanel("address")],
            heading=_("Contact details"),
        ),
        FieldPanel("crisis_line_text"),
        FieldPanel("privacy_notice_page"),
        MultiFieldPanel(
            [FieldPanel("paper_size"), FieldPanel("spare_handouts")],
            heading=_("Printing"),
        ),
    ]

    class Meta:
        verbose_name = _("site settings")


class ImportJob(models.Model):
    """One spreadsheet import: the uploaded file, its preview and its outcome.

    The file waits here (not in the coordinator's session) so a background
    worker on any machine can check and import it; ``status`` moves from
    checking to ready to importing to done. The file and the preview hold
    personal data, so the file is cleared once imported and old jobs are
    deleted (see ``website.spreadsheets.JOB_RETENTION``).
    """

    class Status(models.TextChoices):
        PREVIEW_QUEUED = "preview_queued", _("Waiting to be checked")
        PREVIEWING = "previewing", _("Checking")
        PREVIEWED = "previewed", _("Checked")
        IMPORT_QUEUED = "import_queued", _("Waiting to be imported")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Not imported")

    resource = models.CharField(max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file_name = models.CharField(max_length=255)
    data = models.BinaryField(blank=True, editable=False)
    options = models.JSONField(default=dict, blank=True)
    skip_invalid = models.BooleanField(
        default=False, help_text=_("Import the valid rows and leave out the others.")
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PREVIEW_QUEUED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    preview = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("spreadsheet import")

    def __str__(self):
        return f"Import {self.pk} ({self.resource})"

    @property
    def is_running(self):
        return self.status in {
            self.Status.PREVIEW_QUEUED,
            self.Status.PREVIEWING,
            self.Status.IMPORT_QUEUED,
            self.Status.IMPORTING,
        }
