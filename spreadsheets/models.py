"""The spreadsheet engine's one model: an import job."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One spreadsheet import: the uploaded file, its preview and its outcome.

    The file waits here (not in the coordinator's session) so a background
    worker on any machine can check and import it; ``status`` moves from
    checking to ready to importing to done. The file and the preview hold
    personal data, so the file is cleared once imported and old jobs are
    deleted (see ``spreadsheets.jobs.purge_old_jobs``).
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
        # The table was made when this model lived in the website app.
        db_table = "website_importjob"
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
