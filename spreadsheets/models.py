"""The spreadsheet engine's models: import jobs and background export jobs."""

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


def export_storage():
    """Where built export files are kept: the ``exports`` storage
    (``STORAGES``), private, never under a served media path."""
    from django.core.files.storage import storages

    return storages["exports"]


def export_file_name(job, filename):
    """A random name in storage: nothing in it says what or whom the file holds."""
    import uuid

    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"exports/{uuid.uuid4().hex}.{extension}"


class ExportJob(models.Model):
    """One export built in the background: who asked, for what, its progress
    and the finished file.

    Exports too large to build inside a request (more rows than
    ``GATHER_BACKGROUND_EXPORT_ROWS``) are built by a task
    (``spreadsheets.exports.build_export``) into a file on the private
    ``exports`` storage. Only the person who asked may download it, while
    they still may export it; the file holds personal data, so it is deleted
    after ``GATHER_EXPORT_RETENTION_HOURS``
    (``spreadsheets.exports.purge_old_exports``).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready to download")
        FAILED = "failed", _("Not built")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    export = models.CharField(
        max_length=60,
        help_text=_("What is exported: a spreadsheet resource or a document."),
    )
    file_format = models.CharField(max_length=10)
    query = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("The listing's filters, as the export was asked for them."),
    )
    filters = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("The filters in words, for the audit log."),
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    file = models.FileField(
        storage=export_storage, upload_to=export_file_name, blank=True, max_length=255
    )
    file_name = models.CharField(
        max_length=255, blank=True, help_text=_("The name the download is given.")
    )
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("background export")

    def __str__(self):
        return f"Export {self.pk} ({self.export})"

    @property
    def is_running(self):
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, int(100 * self.processed_rows / self.total_rows))
