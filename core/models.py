"""The organisation's details, shown on every page, in emails and on print."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField


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

    short_name = models.CharField(
        max_length=11,
        blank=True,
        help_text=_(
            "Up to 11 letters, digits or spaces. Text messages come from this "
            "name and begin with it, e.g. 'Peer Hub'. Choose one that says "
            "nothing about health: phones are often shared. Empty: the first "
            "11 characters of the organisation name."
        ),
    )
    messages_name_the_group = models.BooleanField(
        default=False,
        help_text=_(
            "Name the group or event in text messages and email subjects. Off: "
            "they say only 'your place' and the date, so a shared phone or inbox "
            "does not show which group someone goes to."
        ),
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("organisation_name"), FieldPanel("logo")],
            heading=_("Organisation"),
        ),
        MultiFieldPanel(
            [FieldPanel("short_name"), FieldPanel("messages_name_the_group")],
            heading=_("Messages to participants"),
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

    @property
    def sender_name(self) -> str:
        """The name texts come from and begin with."""
        return (self.short_name or self.organisation_name[:11]).strip()

    class Meta:
        # The table was made when this model lived in the website app.
        db_table = "website_sitesettings"
        verbose_name = _("site settings")


class PublicContentVersion(models.Model):
    """One row whose ``number`` goes up after every change to what public
    pages and feeds show (``core.public_cache.content_changed``).

    The site calendar feed's ETag and Last-Modified come from it, so a
    calendar app's poll is answered with one single-row read however many
    sessions the feed holds. Unlike the public cache's generation, it is in
    the database: every process and server reads the same number, and it
    survives a cache restart. It is written after the change commits, in a
    statement of its own, so no transaction holds its row locked.
    """

    number = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("public content version")

    def __str__(self):
        return f"Public content version {self.number}"
