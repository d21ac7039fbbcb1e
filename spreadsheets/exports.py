"""Exports built in the background (``ExportJob``), for exports too large to
build inside a request.

An export of more rows than ``GATHER_BACKGROUND_EXPORT_ROWS`` is not built
in the request: ``start_export`` records what was asked (the listing's
filters, the format) and queues ``build_export``, and the person is sent to
the job's page, which shows progress (updated in place by
``static/js/job-progress.js``; without JavaScript, a "Check again" link)
and then a download link. The task writes the file a chunk of
rows at a time (``GatherResource.export_rows``, ``formats.ExportWriter``)
into the private ``exports`` storage. Only the person who asked may
download it, while they still may export it, and every download of
participant data is written to the audit log as an export made in the
request is. Files are deleted ``GATHER_EXPORT_RETENTION_HOURS`` after they
were asked for (``purge_old_exports``, run by ``manage.py
purge_export_jobs``).

What can be exported this way: every spreadsheet resource's export, and
the documents apps register from a ``register_background_exports`` Wagtail
hook that returns ``BackgroundExport`` objects (the attendance summary
PDF), so the engine names no app's exports itself.
"""

import datetime as dt
import logging
import tempfile
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DatabaseError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task
from wagtail import hooks
from wagtail.log_actions import log

from core.background import enqueue_on_commit

from .errors import SpreadsheetError
from .formats import FORMATS, ExportWriter
from .models import ExportJob
from .registry import resources
from .resources import EXPORT_CHUNK_ROWS

logger = logging.getLogger(__name__)

#: Exports of more rows than this are built in the background.
BACKGROUND_EXPORT_ROWS = 2000
#: Files of background exports are deleted this long after they were asked for.
EXPORT_RETENTION_HOURS = 24
HOOK_NAME = "register_background_exports"


def background_export_rows() -> int:
    """Exports of more rows than this are built in the background."""
    return getattr(settings, "GATHER_BACKGROUND_EXPORT_ROWS", BACKGROUND_EXPORT_ROWS)


def export_retention() -> dt.timedelta:
    """How long a background export (and its file) is kept."""
    return dt.timedelta(
        hours=getattr(settings, "GATHER_EXPORT_RETENTION_HOURS", EXPORT_RETENTION_HOURS)
    )


class BackgroundExport:
    """Something an ``ExportJob`` can build. Subclasses say who may have it
    and write it; ``key`` is its name in the job, ``label`` its name on the
    job's page."""

    key = ""
    label = ""
    #: Whether it holds personal data (then every download is logged).
    personal_data = False
    #: Whether progress is counted in rows (else only "being built").
    counts_rows = True

    def can_export(self, user) -> bool:
        raise NotImplementedError

    def content_type(self, file_format: str) -> str:
        return FORMATS[file_format]["content_type"]

    def build(self, job: ExportJob, stream, progress) -> int:
        """Write the file into the binary ``stream``; call ``progress(done)``
        as rows are written; return the number of rows."""
        raise NotImplementedError

    def log_download(self, job: ExportJob, user) -> None:
        """Write the download to the audit log, when it should be."""


def export_query(params) -> dict:
    """The query parameters of an export request, as JSON for the job."""
    return dict(params.lists())


def export_request(user, query: dict):
    """What an export reads of a request (``GET`` and ``user``), rebuilt from
    a job's ``query`` for the task, which has no request."""
    params = QueryDict(mutable=True)
    for name, values in query.items():
        params.setlist(name, [str(value) for value in values])
    params._mutable = False
    return SimpleNamespace(GET=params, user=user)


class SpreadsheetExport(BackgroundExport):
    """A spreadsheet resource's export (``GatherResource.export_queryset``
    with the listing's filters), as the request would have written it."""

    def __init__(self, resource_cls):
        self.resource_cls = resource_cls
        self.key = resource_cls.key
        self.label = resource_cls.label
        self.personal_data = resource_cls.personal_data

    def can_export(self, user) -> bool:
        return self.resource_cls.can_export(user)

    def build(self, job, stream, progress) -> int:
        request = export_request(job.user, job.query)
        queryset, _filters = self.resource_cls.export_queryset(request)
        resource = self.resource_cls(user=job.user)
        headers, chunks = resource.export_rows(queryset, chunk_size=EXPORT_CHUNK_ROWS)
        writer = ExportWriter(stream, job.file_format, title=str(self.label))
        writer.write_headers(headers)
        for rows in chunks:
            writer.write_rows(rows)
            progress(writer.rows_written)
        writer.close()
        return writer.rows_written

    def log_download(self, job, user) -> None:
        log_export(
            self.resource_cls,
            user=user,
            file_format=job.file_format,
            filters=job.filters,
            rows=job.processed_rows,
            job=job.pk,
        )


def log_export(resource_cls, *, user, file_format, filters, rows, job=None) -> None:
    """Write an export of ``resource_cls`` to the audit log: who, what (the
    resource and filters) and how many rows."""
    data = {
        "resource": resource_cls.key,
        "format": file_format,
        "filters": filters,
        "rows": rows,
        "personal_data": resource_cls.personal_data,
    }
    if job is not None:
        data["job"] = job
    log(
        ContentType.objects.get_for_model(resource_cls._meta.model),
        "spreadsheets.export",
        user=user,
        title=_("%(what)s export: %(rows)s rows")
        % {"what": resource_cls.label, "rows": rows},
        data=data,
    )


def exporters() -> dict:
    """Everything that can be exported in the background, by key."""
    found = {key: SpreadsheetExport(cls) for key, cls in resources().items()}
    for hook in hooks.get_hooks(HOOK_NAME):
        for exporter in hook():
            if exporter.key in found:
                raise ValueError(f"Two background exports use the key {exporter.key!r}")
            found[exporter.key] = exporter
    return found


def start_export(
    *,
    user,
    export: str,
    file_format: str,
    query: dict,
    filters: dict,
    total_rows: int,
    file_name: str,
) -> ExportJob:
    """Record an export to build and queue the task that builds it (once the
    current transaction, if any, commits); or, when the same user already
    has the same export (same ``export``, format and ``query``) queued or
    being built, return that job and queue nothing, so a second click on
    Export does not build the file twice. Finished and failed jobs do not
    count.

    Two requests at once cannot both miss the running job: the look and the
    new row happen in one transaction that first locks the user's row
    (``select_for_update``; on SQLite the IMMEDIATE transaction takes the
    database's write lock at its start), so the second waits for the first
    to commit and then finds its job.
    """
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        running = ExportJob.objects.filter(
            user=user,
            export=export,
            file_format=file_format,
            status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING],
        )
        # Compared here, not in SQL: JSON equality differs between databases,
        # and a user has a handful of running exports at most.
        for job in running:
            if job.query == query:
                return job
        job = ExportJob.objects.create(
            user=user,
            export=export,
            file_format=file_format,
            query=query,
            filters=filters,
            total_rows=total_rows,
            file_name=file_name[:255],
        )
        enqueue_on_commit(build_export, job.pk)
    return job


@task()
def build_export(job_id: int) -> None:
    """Background task: build one export job's file (takes ids only)."""
    run_export(job_id)


def run_export(job_id: int) -> None:
    """Claim the job (once, whatever the number of workers), build its file
    and record the outcome on the job."""
    queued = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED)
    claimed = queued.update(
        status=ExportJob.Status.RUNNING, processed_rows=0, updated_at=timezone.now()
    )
    if not claimed:
        return
    job = ExportJob.objects.select_related("user").get(pk=job_id)

    def progress(done):
        # Outside any transaction: the job's page sees it at once. Progress
        # is worth less than the file: SQLite refuses a write from a
        # connection still reading rows once another has written since, so
        # a refused update is skipped and the next chunk tries again.
        try:
            ExportJob.objects.filter(pk=job_id).update(
                processed_rows=done, updated_at=timezone.now()
            )
        except DatabaseError:
            logger.warning("Could not record progress of export %s", job_id)

    try:
        exporter = exporters().get(job.export)
        user = job.user
        if (
            exporter is None
            or user is None
            or not user.is_active
            or not exporter.can_export(user)
        ):
            raise SpreadsheetError(_("You are not allowed to export this any more."))
        with tempfile.TemporaryFile() as stream:
            rows = exporter.build(job, stream, progress)
            stream.seek(0)
            job.file.save(job.file_name, File(stream), save=False)
    except SpreadsheetError as error:
        job.status, job.message = ExportJob.Status.FAILED, error.message
    except ValidationError:
        job.status = ExportJob.Status.FAILED
        job.message = _("The filters are no longer valid, so nothing was exported.")
    except Exception:
        # The job id only: the filters may hold a person's name.
        logger.exception("Background export %s failed", job_id)
        job.status = ExportJob.Status.FAILED
        job.message = _(
            "Something went wrong, and the file was not made. Please try again, "
            "and ask for help if it happens again."
        )
    else:
        job.status = ExportJob.Status.DONE
        job.processed_rows = job.total_rows = rows
    job.finished_at = timezone.now()
    job.save()


def purge_old_exports(*, now=None) -> int:
    """Delete background exports asked for more than ``export_retention()``
    ago, with their files (personal data). Returns how many were deleted.

    Run by ``manage.py purge_export_jobs`` (cron, or ``make run``'s loop).
    """
    now = now or timezone.now()
    old = ExportJob.objects.filter(created_at__lt=now - export_retention())
    deleted = 0
    for job in old.only("pk", "file").iterator():
        if job.file:
            job.file.delete(save=False)
        job.delete()
        deleted += 1
    return deleted
