"""The admin views: upload, preview, confirm, recent imports, export; a
background export's progress page, its download and the recent exports;
and ``SpreadsheetButtonsMixin`` that puts Import and Export into a
listing's header, with the listing's current filters. Every export is
written to the audit log with who, what (resource and filters) and how many
rows: in the request, or when a background export's file is downloaded.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.admin.widgets.button import Button

from .errors import SpreadsheetError
from .exports import (
    background_export_rows,
    export_query,
    exporters,
    log_export,
    start_export,
)
from .formats import (
    FORMATS,
    MAX_UPLOAD_BYTES,
    format_for_filename,
    read_dataset,
    write_export,
)
from .jobs import background_rows, can_confirm, job_progress, start_stage
from .models import ExportJob, ImportJob
from .registry import resource_class, resources

#: Rows per page of the preview table.
PREVIEW_PAGE_SIZE = 100


class UploadForm(forms.Form):
    """The file, what to do with rows that have problems, and any options the
    resource needs."""

    file = forms.FileField(
        label=gettext_lazy("Spreadsheet file"),
        help_text=gettext_lazy(
            "CSV (UTF-8, separated by commas, semicolons or tabs), Excel (.xlsx) or "
            "JSON, up to 10 MB, 50,000 rows and 100 columns. The first row holds "
            "the column names."
        ),
    )
    skip_invalid = forms.BooleanField(
        required=False,
        label=gettext_lazy("Import the rows without problems, leave out the others"),
        help_text=gettext_lazy(
            "Leave this unticked to import nothing until every row is right."
        ),
    )

    def __init__(self, *args, extra_fields=None, **kwargs):
        super().__init__(*args, **kwargs)
        skip = self.fields.pop("skip_invalid")
        self.fields.update(extra_fields or {})
        self.fields["skip_invalid"] = skip

    def clean_file(self):
        """Refuse a file too large, or of a type not imported, before it is
        read; what it holds is checked by ``read_dataset``."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB. Split it into smaller files.")
                % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        try:
            format_for_filename(upload.name)
        except SpreadsheetError as error:
            raise forms.ValidationError(error.message) from error
        return upload


@require_http_methods(["GET", "POST"])
def import_view(request, key):
    """Step 1: upload. The file is read and checked for columns here; its
    rows are then checked (a dry run) before anything changes."""
    resource_cls = resource_class(key)
    if not resource_cls.can_import(request.user):
        raise PermissionDenied
    form = UploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        extra_fields=resource_cls.upload_fields(request.user),
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            dataset = read_dataset(data, upload.name)
            resource_cls.check_columns(dataset.headers)
        except SpreadsheetError as error:
            form.add_error("file", error.message)
        else:
            job = ImportJob.objects.create(
                resource=key,
                user=request.user,
                file_name=upload.name[:255],
                data=data,
                options=resource_cls.clean_options(form.cleaned_data, request.user),
                skip_invalid=form.cleaned_data["skip_invalid"],
                total_rows=len(dataset),
            )
            start_stage(job, "preview")
            return redirect("spreadsheets_job", job.pk)
    return TemplateResponse(
        request,
        "spreadsheets/upload.html",
        {
            "form": form,
            "resource": resource_cls,
            "columns": resource_cls.columns,
            "required": resource_cls.required_columns,
            "background_rows": background_rows(),
            "recent_url": reverse("spreadsheets_jobs"),
        },
    )


def _own_job(request, pk):
    job = get_object_or_404(ImportJob, pk=pk)
    if job.user_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    return job


def job_view(request, pk):
    """Step 2: the preview (what each row will do, every problem by row and
    column) with the confirm button; or progress while a worker runs."""
    job = _own_job(request, pk)
    resource_cls = resource_class(job.resource)
    # The preview holds the file's rows (people's names, for some
    # resources): only while its owner may still import them.
    if not resource_cls.can_import(request.user):
        raise PermissionDenied
    preview = job.preview or {}
    rows = preview.get("rows", [])
    only_problems = request.GET.get("problems") == "1"
    if only_problems:
        rows = [row for row in rows if row[1] == "problem"]
    page = Paginator(rows, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    headers = preview.get("headers", [])
    table = [
        {
            "number": row[0],
            "action": row[1],
            "cells": [
                {"value": value, "errors": row[3].get(header, [])}
                for header, value in zip(headers, row[2], strict=False)
            ],
            "row_errors": row[3].get("", []),
            "note": row[4],
        }
        for row in page.object_list
    ]
    totals = preview.get("totals", {})
    has_problems = bool(totals.get("problem") or preview.get("errors"))
    done = job_progress(job)
    return TemplateResponse(
        request,
        "spreadsheets/job.html",
        {
            "job": job,
            "resource": resource_cls,
            "options": resource_cls.describe_options(job.options),
            "headers": headers,
            "ignored": preview.get("ignored", []),
            "table": table,
            "page": page,
            "only_problems": only_problems,
            "totals": totals,
            "base_errors": preview.get("errors", []),
            "has_problems": has_problems,
            "can_confirm": can_confirm(job),
            "progress_done": done,
            "progress_percent": int(100 * done / job.total_rows)
            if job.total_rows
            else 0,
            "upload_url": reverse("spreadsheets_import", args=[job.resource]),
        },
    )


@require_POST
def confirm_view(request, pk):
    """Step 3: import for real. A second click does nothing, and neither
    does a click on a preview that offered no "Import now"."""
    job = _own_job(request, pk)
    resource_cls = resource_class(job.resource)
    if not resource_cls.can_import(request.user):
        raise PermissionDenied
    if job.status == job.Status.PREVIEWED and not can_confirm(job):
        messages.error(
            request,
            _(
                "Nothing was imported: fix the rows with problems and upload "
                "the file again."
            ),
        )
        return redirect("spreadsheets_job", job.pk)
    claimed = ImportJob.objects.filter(
        pk=job.pk, status=ImportJob.Status.PREVIEWED
    ).update(status=ImportJob.Status.IMPORT_QUEUED, updated_at=timezone.now())
    if claimed:
        job.refresh_from_db()
        start_stage(job, "import")
    return redirect("spreadsheets_job", job.pk)


def jobs_view(request):
    """The coordinator's recent imports, to come back to one."""
    jobs = ImportJob.objects.filter(user=request.user).defer("data", "preview")[:50]
    return TemplateResponse(
        request,
        "spreadsheets/jobs.html",
        {
            "jobs": jobs,
            "importable": [
                (key, cls)
                for key, cls in resources().items()
                if cls.can_import(request.user)
            ],
        },
    )


def export_view(request, key):
    """Download a listing (with its current filters) as CSV, XLSX or JSON.

    Every export is written to the audit log with who, what and how many
    rows; exports of personal data only to those allowed to see it. One of
    more than ``GATHER_BACKGROUND_EXPORT_ROWS`` rows is built in the
    background instead (``spreadsheets.exports``): this sends the person to
    its progress page, and its download is logged.
    """
    resource_cls = resource_class(key)
    if not resource_cls.can_export(request.user):
        raise PermissionDenied
    file_format = request.GET.get("format", "csv")
    if file_format not in FORMATS:
        return HttpResponseBadRequest(_("Choose CSV, XLSX or JSON."))
    try:
        queryset, filters = resource_cls.export_queryset(request)
    except ValidationError:
        messages.error(
            request, _("The filters are not valid, so nothing was exported.")
        )
        return redirect(resource_cls.listing_url() or "wagtailadmin_home")
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    file_name = f"{key}-{stamp}.{file_format}"
    total = queryset.count()
    if total > background_export_rows():
        job = start_export(
            user=request.user,
            export=key,
            file_format=file_format,
            query=export_query(request.GET),
            filters=filters,
            total_rows=total,
            file_name=file_name,
        )
        return redirect("spreadsheets_export_job", job.pk)
    resource = resource_cls(user=request.user)
    dataset = resource.export(queryset)
    content = write_export(dataset, file_format)
    log_export(
        resource_cls,
        user=request.user,
        file_format=file_format,
        filters=filters,
        rows=len(dataset),
    )
    response = HttpResponse(content, content_type=FORMATS[file_format]["content_type"])
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["Cache-Control"] = "no-store"
    return response


# Background exports -------------------------------------------------------------


def _own_export(request, pk):
    """The user's own export job and what it exports; 404 for anyone else's
    (superusers included: the file is the asker's), 403 once they may no
    longer export it."""
    job = get_object_or_404(ExportJob, pk=pk, user_id=request.user.pk)
    exporter = exporters().get(job.export)
    if exporter is None:
        raise Http404
    if not exporter.can_export(request.user):
        raise PermissionDenied
    return job, exporter


def export_job_view(request, pk):
    """A background export's progress, then its download link. While the
    file is built the page updates itself in place (``job-progress.js``, no
    timed reload), and has a link to check again without JavaScript."""
    job, exporter = _own_export(request, pk)
    return TemplateResponse(
        request,
        "spreadsheets/export_job.html",
        {
            "job": job,
            "exporter": exporter,
            "download_url": reverse("spreadsheets_export_download", args=[job.pk]),
        },
    )


def export_download_view(request, pk):
    """The finished file of a background export, to the person who asked
    for it only; each download of participant data is logged."""
    job, exporter = _own_export(request, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        return redirect("spreadsheets_export_job", job.pk)
    try:
        stream = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    exporter.log_download(job, request.user)
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=job.file_name,
        content_type=exporter.content_type(job.file_format),
    )
    response["Cache-Control"] = "no-store"
    return response


def exports_view(request):
    """The person's recent background exports, to come back to one."""
    everything = exporters()
    jobs = [
        (job, everything.get(job.export))
        for job in ExportJob.objects.filter(user=request.user)[:50]
    ]
    return TemplateResponse(
        request,
        "spreadsheets/exports.html",
        {"jobs": [(job, exporter) for job, exporter in jobs if exporter is not None]},
    )


# Listing buttons ----------------------------------------------------------------


#: Query parameters of a listing that are not filters.
NOT_FILTERS = {"p", "page", "export", "_w_filter_fragment", "format"}


def export_url(key, file_format, params) -> str:
    """The export URL for ``key`` with a listing's filter parameters."""
    query = params.copy()
    for name in NOT_FILTERS:
        query.pop(name, None)
    query["format"] = file_format
    return reverse("spreadsheets_export", args=[key]) + "?" + query.urlencode()


def spreadsheet_buttons(request, keys):
    """Export (each format) and Import buttons for a listing's header menu."""
    buttons = []
    for order, key in enumerate(keys):
        resource_cls = resource_class(key)
        label = resource_cls.label
        if resource_cls.can_export(request.user):
            for position, (file_format, info) in enumerate(FORMATS.items()):
                buttons.append(
                    Button(
                        _("Export %(what)s as %(format)s")
                        % {"what": str(label).lower(), "format": info["label"]},
                        url=export_url(key, file_format, request.GET),
                        icon_name="download",
                        priority=200 + 10 * order + position,
                    )
                )
        if resource_cls.can_import(request.user):
            buttons.append(
                Button(
                    _("Import %(what)s from a spreadsheet")
                    % {"what": str(label).lower()},
                    url=reverse("spreadsheets_import", args=[key]),
                    icon_name="upload",
                    priority=300 + order,
                )
            )
    return buttons


class SpreadsheetButtonsMixin:
    """For a Wagtail IndexView: adds Export and Import to the header menu.

    The export links carry the listing's current filters, and Wagtail
    re-renders the header whenever the filters change.
    """

    spreadsheet_resources = ()

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        buttons.extend(spreadsheet_buttons(self.request, self.spreadsheet_resources))
        return buttons
