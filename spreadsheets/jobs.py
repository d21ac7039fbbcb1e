"""Import jobs (``ImportJob``): a dry-run preview, then the import.

Files of more than ``BACKGROUND_ROWS`` rows are checked and imported by a
background task (``spreadsheets.tasks.run_import_stage``) while the
coordinator watches a progress bar, or leaves and comes back. Every import
is written to Wagtail's audit log with who, what and how many rows.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task
from import_export.results import RowResult
from wagtail.log_actions import log

from core import audit

from .cells import display_value
from .errors import SpreadsheetError
from .formats import line_numbers, read_dataset
from .models import ImportJob
from .registry import resource_class

logger = logging.getLogger(__name__)

#: Files with more rows than this are checked and imported in the background.
BACKGROUND_ROWS = 2000
#: Import jobs (and the personal data in them) are deleted after this long.
JOB_RETENTION = dt.timedelta(days=7)
#: A checked file nobody imported is cleared after this long: its file and
#: preview hold personal data.
PREVIEW_RETENTION = dt.timedelta(days=1)


def background_rows() -> int:
    """Files with more rows than this are checked and imported in the background."""
    return getattr(settings, "GATHER_IMPORT_BACKGROUND_ROWS", BACKGROUND_ROWS)


def progress_key(job_id) -> str:
    return f"gather:import-job:{job_id}:progress"


class Progress:
    """Reports how many rows an import has done, while its transaction is open.

    The import's own transaction cannot show progress to other requests, so
    progress goes to the cache (shared by every process when the cache is,
    e.g. Redis), and on PostgreSQL also to the job row through a second
    connection of its own. SQLite allows one writer at a time, so there the
    cache is the only channel.
    """

    def __init__(self, job):
        self.job_id, self.total = job.pk, job.total_rows
        self.step = max(1, min(250, self.total // 100))
        self.key = progress_key(job.pk)
        self.side = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        self.table = job._meta.db_table

    def __call__(self, done):
        if done % self.step and done != self.total:
            return
        cache.set(self.key, done, timeout=24 * 3600)
        if self.side is not None:
            from django.db import DatabaseError

            try:
                with self.side.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {self.table} SET processed_rows = %s WHERE id = %s",
                        [done, self.job_id],
                    )
            except DatabaseError:
                logger.warning("Could not record progress of import %s", self.job_id)
                self.close_side()

    def close_side(self):
        if self.side is not None:
            self.side.close()
            self.side = None

    def close(self):
        cache.delete(self.key)
        self.close_side()


def job_progress(job) -> int:
    """Rows done so far, from whichever channel knows most."""
    cached = cache.get(progress_key(job.pk)) or 0
    return min(max(job.processed_rows, cached), job.total_rows)


STAGES = {
    "preview": ("preview_queued", "previewing"),
    "import": ("import_queued", "importing"),
}


def start_stage(job, stage):
    """Check (``preview``) or import (``import``) a job: in this request for
    small files, in the background for large ones."""
    if job.total_rows > background_rows():
        run_import_stage.enqueue(job.pk, stage)
    else:
        run_stage(job.pk, stage)


@task()
def run_import_stage(job_id: int, stage: str) -> None:
    """Background task: check or import one job (takes ids only)."""
    run_stage(job_id, stage)


def run_stage(job_id, stage):
    """Claim the job for ``stage`` (once, whatever the number of workers),
    run it, and record the outcome on the job."""
    queued, running = STAGES[stage]
    claimed = ImportJob.objects.filter(pk=job_id, status=queued).update(
        status=running, processed_rows=0, updated_at=timezone.now()
    )
    if not claimed:
        return
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    progress = Progress(job)
    try:
        _execute(job, dry_run=stage == "preview", progress=progress)
    except SpreadsheetError as error:
        job.status, job.message = ImportJob.Status.FAILED, error.message
    except Exception:
        logger.exception("Spreadsheet import %s failed", job_id)
        job.status = ImportJob.Status.FAILED
        job.message = _(
            "Something went wrong, and nothing was imported. Please try again, "
            "and ask for help if it happens again."
        )
    finally:
        progress.close()
    job.processed_rows = job.total_rows
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        job.data = b""
    job.save()


def _execute(job, *, dry_run, progress):
    resource_cls = resource_class(job.resource)
    user = job.user
    if user is None or not user.is_active or not resource_cls.can_import(user):
        raise SpreadsheetError(_("You are not allowed to import this any more."))
    resource_cls.check_options(job.options, user)
    dataset = read_dataset(bytes(job.data), job.file_name)
    resource_cls.check_columns(dataset.headers)
    resource = resource_cls(user=user, options=job.options, progress=progress)
    # Rows that cannot be read into columns never reach the resource, so nothing there
    # would roll the import back for them: unless they may be left out, the
    # rows are only checked, and the job fails below for those rows.
    held_back = bool(dataset.misshapen) and not job.skip_invalid
    # Workflows the rows call log their changes as this import's, by this user.
    with audit.acting(by=audit.IMPORT, user=user):
        result = resource.import_data(
            dataset,
            dry_run=dry_run or held_back,
            use_transactions=True,
            rollback_on_validation_errors=not job.skip_invalid,
            raise_errors=False,
        )
    job.preview = build_preview(resource, dataset, result)
    totals = job.preview["totals"]
    if dry_run:
        job.status = ImportJob.Status.PREVIEWED
        return
    problems = totals["problem"] or job.preview["errors"]
    if result.has_errors():
        job.status = ImportJob.Status.FAILED
        job.message = _(
            "Nothing was imported: something went wrong while importing the "
            "rows marked below. Please try again, and ask for help if it "
            "happens again."
        )
        return
    if held_back:
        job.status = ImportJob.Status.FAILED
        job.message = _(
            "Nothing was imported: some rows cannot be read into their "
            "columns. They are listed below."
        )
        return
    if problems and not job.skip_invalid:
        job.status = ImportJob.Status.FAILED
        job.message = _(
            "Nothing was imported: the file has problems now that it did not "
            "have when it was checked. They are listed below."
        )
        return
    job.status = ImportJob.Status.DONE
    job.message = import_summary(totals, job.preview.get("events"))
    log(
        ContentType.objects.get_for_model(resource_cls._meta.model),
        "spreadsheets.import",
        user=user,
        title=_("%(what)s import: %(file)s")
        % {"what": resource_cls.label, "file": job.file_name},
        data={
            "resource": job.resource,
            "file": job.file_name,
            "rows": job.total_rows,
            "new": totals["new"],
            "updated": totals["update"],
            "skipped": totals["skip"],
            "left_out": totals["problem"],
            "job": job.pk,
        },
    )


def import_summary(totals, events=None) -> str:
    """'Imported: 3 new, 1 updated, 10 unchanged.' and so on."""
    text = _("Imported: %(new)s new, %(update)s updated, %(skip)s unchanged.") % totals
    if totals["problem"]:
        text += (
            " "
            + ngettext(
                "%(problem)s row with problems was left out.",
                "%(problem)s rows with problems were left out.",
                totals["problem"],
            )
            % totals
        )
    if events and (events.get("created") or events.get("updated")):
        created = ngettext(
            "%(count)s new draft event", "%(count)s new draft events", events["created"]
        ) % {"count": events["created"]}
        updated = ngettext(
            "%(count)s event with draft changes",
            "%(count)s events with draft changes",
            events["updated"],
        ) % {"count": events["updated"]}
        text += " " + _(
            "%(created)s, %(updated)s: review and publish them in the page editor."
        ) % {"created": created, "updated": updated}
    return text


def build_preview(resource, dataset, result) -> dict:
    """What each row does (new, update, skip) or what is wrong with it, by
    column, as JSON for the job page."""
    headers = list(dataset.headers)
    known = set(resource.columns)
    totals = {"new": 0, "update": 0, "skip": 0, "problem": 0}
    rows = []
    row_results = list(result.rows)
    lines = line_numbers(dataset)
    for number, values in enumerate(dataset, start=1):
        row_result = row_results[number - 1] if number <= len(row_results) else None
        errors = {}
        action = row_result.import_type if row_result else RowResult.IMPORT_TYPE_SKIP
        if row_result is not None and row_result.validation_error is not None:
            error = row_result.validation_error
            error_dict = (
                error.message_dict
                if hasattr(error, "error_dict")
                else {NON_FIELD_ERRORS: error.messages}
            )
            for column, messages_ in error_dict.items():
                key = column if column in headers else ""
                if key == "" and column != NON_FIELD_ERRORS:
                    messages_ = [f"{column}: {m}" for m in messages_]
                errors.setdefault(key, []).extend(str(m) for m in messages_)
        if row_result is not None and row_result.errors:
            for error in row_result.errors:
                logger.warning("Import row %s failed: %r", number, error.error)
            errors.setdefault("", []).append(
                _("Something went wrong with this row, so it was not imported.")
            )
        if errors:
            action = "problem"
        totals[action if action in totals else "problem"] += 1
        rows.append(
            [
                lines[number - 1],
                action,
                [display_value(v) for v in values],
                errors,
                str(resource.row_notes.get(number, "")),
            ]
        )
    # Rows that could not be read into columns never reached the resource:
    # they are problems of their own, in their place in the file.
    for misshapen in getattr(dataset, "misshapen", ()):
        totals["problem"] += 1
        rows.append(
            [
                misshapen.line,
                "problem",
                [display_value(v) for v in misshapen.cells],
                {"": [misshapen.message]},
                "",
            ]
        )
    rows.sort(key=lambda row: row[0])
    base_errors = []
    for error in result.base_errors:
        logger.warning("Import failed: %r", error.error)
        message = getattr(error.error, "message", None)
        base_errors.append(
            str(message)
            if message
            else _("Something went wrong, and nothing was imported.")
        )
    return {
        "headers": headers,
        "ignored": [h for h in headers if h not in known],
        "rows": rows,
        "totals": totals,
        "errors": base_errors,
        "events": getattr(resource, "event_counts", None),
    }


def can_confirm(job) -> bool:
    """Whether a checked job may be imported: nothing wrong with the file, no
    row with a problem unless those may be left out, and something to do."""
    preview = job.preview or {}
    totals = preview.get("totals", {})
    return bool(
        job.status == job.Status.PREVIEWED
        and not preview.get("errors")
        and (job.skip_invalid or not totals.get("problem"))
        and (totals.get("new") or totals.get("update"))
    )


def purge_old_jobs(*, now=None) -> tuple[int, int]:
    """Delete import jobs (and the personal data in them) past
    ``JOB_RETENTION``, and clear the file and preview of checked files left
    unimported for ``PREVIEW_RETENTION``. Returns (deleted, expired).

    Run by ``manage.py purge_import_jobs`` (cron, or ``make run``'s loop).
    """
    now = now or timezone.now()
    deleted, _by_model = ImportJob.objects.filter(
        created_at__lt=now - JOB_RETENTION
    ).delete()
    expired = ImportJob.objects.filter(
        status=ImportJob.Status.PREVIEWED, updated_at__lt=now - PREVIEW_RETENTION
    ).update(
        status=ImportJob.Status.FAILED,
        data=b"",
        preview={},
        message=_(
            "This check expired before anything was imported. Upload the file "
            "again to import it."
        ),
        updated_at=now,
    )
    return deleted, expired


# Admin views ------------------------------------------------------------------
