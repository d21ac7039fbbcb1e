"""Wagtail admin screen for attendance reports, with CSV, XLSX and PDF
downloads.

A GET form chooses the date range (the last three months by default), and
optionally an event kind, a venue setting and one event (picked in the
event chooser, ``events.choosers``, so the form lists no events); the page
shows each report from ``attendance.reports`` as a chart and a table with
the same numbers. Only coordinators and superusers may see reports; anyone
else gets 403.

The whole-range reports (overview, settings, over time) are shown in full.
The per-event reports (the events summary, retention, session numbers,
no-shows, waitlist, answers) show one page of ``reports.EVENTS_PER_PAGE``
events at a time (``?page=``), by title; their totals rows still count
every event, and each event's name links to its own report (the same
filters with that event chosen), which lists its sessions one by one. So
the page costs the same number of queries and about the same time however
many events there are. The CSV and XLSX downloads and the PDF hold every
row of every event.

Reports hold counts only, never names or contact details, so downloading
them is not written to the audit log (participant exports are). A summary
PDF of many sessions is made in the background, as large exports are
(``spreadsheets.exports``).
"""

import datetime as dt

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from import_export.formats.base_formats import CSV, XLSX
from tablib import Dataset

from events.choosers import EventChoiceField
from events.models import EventKind, Setting
from events.permissions import is_coordinator
from spreadsheets.exports import (
    BackgroundExport,
    export_query,
    export_request,
    start_export,
)
from spreadsheets.formats import write_export

from . import reports
from .charts import render_svg

#: Earliest and latest dates the form accepts (keeps ranges and week
#: buckets small, and date arithmetic far from the calendar's limits).
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)
#: The longest range one report covers.
MAX_RANGE_DAYS = 5 * 366
#: A summary PDF of more sessions than this is made in the background
#: (``GATHER_BACKGROUND_PDF_SESSIONS``): about 35 ms a session.
BACKGROUND_PDF_SESSIONS = 200
#: Download formats: (django-import-export format, content type).
FORMATS = {
    "csv": (CSV, "text/csv; charset=utf-8"),
    "xlsx": (
        XLSX,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}
#: Characters that make a spreadsheet cell a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class DateInput(forms.DateInput):
    """The browser's own date picker; the value is always YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class ReportFilterForm(forms.Form):
    """The report filters, read from the query string."""

    date_from = forms.DateField(label=gettext_lazy("From"), widget=DateInput())
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        widget=DateInput(),
        help_text=gettext_lazy("Both dates are included."),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of event"),
        choices=[("", gettext_lazy("All kinds")), *EventKind.choices],
        required=False,
    )
    setting = forms.ChoiceField(
        label=gettext_lazy("Setting"),
        choices=[("", gettext_lazy("All settings")), *Setting.choices],
        required=False,
        help_text=gettext_lazy(
            "Where sessions met: the session's venue, or else the event's."
        ),
    )
    event = EventChoiceField(
        label=gettext_lazy("Event"),
        required=False,
        help_text=gettext_lazy("Leave empty for all events."),
    )
    period = forms.ChoiceField(
        label=gettext_lazy("Attendance over time by"),
        choices=[("month", gettext_lazy("Month")), ("week", gettext_lazy("Week"))],
    )

    @classmethod
    def from_query(cls, query):
        """Bind the form to the query string, with the defaults (the last
        three months, by month) for anything not given at all."""
        defaults = reports.ReportFilters.default()
        data = query.copy()
        data.setdefault("date_from", defaults.date_from.isoformat())
        data.setdefault("date_to", defaults.date_to.isoformat())
        data.setdefault("period", "month")
        return cls(data)

    def _clean_date(self, name):
        value = self.cleaned_data[name]
        if not EARLIEST <= value <= LATEST:
            raise ValidationError(
                _("Choose a date between %(earliest)s and %(latest)s.")
                % {
                    "earliest": date_format(EARLIEST, "DATE_FORMAT"),
                    "latest": date_format(LATEST, "DATE_FORMAT"),
                }
            )
        return value

    def clean_date_from(self):
        return self._clean_date("date_from")

    def clean_date_to(self):
        return self._clean_date("date_to")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if end < start:
                self.add_error(
                    "date_to", _("The end date must not be before the start.")
                )
            elif (end - start).days > MAX_RANGE_DAYS:
                self.add_error("date_to", _("Choose a range of five years or less."))
        return cleaned

    def filters(self) -> reports.ReportFilters:
        data = self.cleaned_data
        return reports.ReportFilters(
            date_from=data["date_from"],
            date_to=data["date_to"],
            kind=data["kind"],
            setting=data["setting"],
            event=data["event"].pk if data["event"] else None,
        )

    def query_string(self) -> str:
        """The cleaned filters as a query string, for download links."""
        data = self.cleaned_data
        return urlencode(
            {
                "date_from": data["date_from"].isoformat(),
                "date_to": data["date_to"].isoformat(),
                "kind": data["kind"],
                "setting": data["setting"],
                "event": data["event"].pk if data["event"] else "",
                "period": data["period"],
            }
        )

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) of each filter, for the PDF and file names."""
        data = self.cleaned_data
        return [
            (
                _("Dates"),
                _("%(start)s to %(end)s")
                % {
                    "start": date_format(data["date_from"], "DATE_FORMAT"),
                    "end": date_format(data["date_to"], "DATE_FORMAT"),
                },
            ),
            (
                _("Kind of event"),
                reports.kind_label(data["kind"]) if data["kind"] else _("All kinds"),
            ),
            (
                _("Setting"),
                reports.setting_label(data["setting"])
                if data["setting"]
                else _("All settings"),
            ),
            (_("Event"), data["event"].title if data["event"] else _("All events")),
        ]


def _forbidden(request):
    return TemplateResponse(
        request, "attendance/reports/forbidden.html", {}, status=403
    )


def _format_cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, dt.date):
        return date_format(value, "DATE_FORMAT")
    return str(value)


def table(report: reports.Report, event_url=None) -> dict:
    """The report's rows and totals row as display strings; with
    ``event_url`` (event id -> URL) also ``linked_rows``, (URL or None,
    cells) per row, for rows about one event."""

    def cells(row):
        return [_format_cell(value) for value in row]

    rows = [cells(row) for row in report.rows]
    links = [None] * len(rows)
    if event_url and len(report.row_events) == len(rows):
        links = [event_url(pk) for pk in report.row_events]
    return {
        "rows": rows,
        "linked_rows": list(zip(links, rows, strict=True)),
        "totals": cells(report.totals) if report.totals else None,
    }


def _sections(
    report_list, *, width=760, height=None, id_prefix="chart", event_url=None
):
    return [
        {
            "report": report,
            "table": table(report, event_url),
            "svg": render_svg(
                report.chart,
                chart_id=f"{id_prefix}-{report.slug}",
                width=width,
                height=height,
            ),
        }
        for report in report_list
    ]


def _invalid(request, form, status=200):
    return TemplateResponse(
        request,
        "attendance/reports/index.html",
        {"form": form, "sections": [], "definitions": reports.definitions()},
        status=status,
    )


def _with(query: str, **values) -> str:
    """``query`` (a query string) with ``values`` set."""
    data = QueryDict(query, mutable=True)
    for key, value in values.items():
        data[key] = str(value)
    return data.urlencode()


@require_GET
def reports_view(request):
    """The reports page: filters, the whole-range reports, then one page of
    events of the per-event reports, each report as a chart and a table.

    A fixed number of queries (about twenty with the admin's own), however
    many events and sessions the range holds."""
    if not is_coordinator(request.user):
        return _forbidden(request)
    form = ReportFilterForm.from_query(request.GET)
    if not form.is_valid():
        return _invalid(request, form)
    period = form.cleaned_data["period"]
    filters = form.filters()
    page = reports.events_page(filters, request.GET.get("page"))
    event_ids = [pk for pk, _title in page.object_list]
    report_list = reports.build_reports(filters, period=period, event_ids=event_ids)
    query = form.query_string()
    base = reverse("attendance_reports")

    without_event = QueryDict(query, mutable=True)
    without_event.pop("event", None)
    event_prefix = f"{base}?{without_event.urlencode()}&event="

    def event_url(pk):
        return f"{event_prefix}{pk}"

    # An event's own report needs no link to itself.
    sections = _sections(report_list, event_url=None if filters.event else event_url)
    for section in sections:
        slug = section["report"].slug
        section["downloads"] = [
            (
                label,
                reverse("attendance_report_download", args=[slug, fmt]) + "?" + query,
            )
            for fmt, label in (("csv", "CSV"), ("xlsx", "XLSX"))
        ]
    pages = []
    if page.paginator.num_pages > 1:
        for number in page.paginator.get_elided_page_range(page.number):
            if number == page.paginator.ELLIPSIS:
                pages.append((number, None))
            else:
                pages.append((number, f"{base}?{_with(query, page=number)}"))
    return TemplateResponse(
        request,
        "attendance/reports/index.html",
        {
            "form": form,
            "sections": sections,
            "range_sections": [
                s for s in sections if s["report"].slug in reports.WHOLE_RANGE
            ],
            "event_sections": [
                s for s in sections if s["report"].slug not in reports.WHOLE_RANGE
            ],
            "events_page": page,
            "pages": pages,
            "previous_url": f"{base}?{_with(query, page=page.previous_page_number())}"
            if page.has_previous()
            else None,
            "next_url": f"{base}?{_with(query, page=page.next_page_number())}"
            if page.has_next()
            else None,
            "definitions": reports.definitions(),
            "pdf_url": reverse("attendance_reports_pdf") + "?" + query,
        },
    )


def _safe_cell(value):
    """Dates and numbers as they are; text that a spreadsheet would run as a
    formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def dataset(report: reports.Report, *, text_cells=False) -> Dataset:
    """The report's table (with its totals row) as a tablib Dataset.

    For CSV, text a spreadsheet would run as a formula gets an apostrophe.
    With ``text_cells`` (for XLSX, written by ``write_export`` as text cells,
    which cannot run) text is left exactly as it is.
    """
    data = Dataset(headers=[str(c) for c in report.columns], title=report.slug[:31])
    for row in report.all_rows():
        data.append([value if text_cells else _safe_cell(value) for value in row])
    return data


def _file_name(form, stem, extension):
    data = form.cleaned_data
    return "{}-{}-{}.{}".format(
        slugify(stem),
        data["date_from"].isoformat(),
        data["date_to"].isoformat(),
        extension,
    )


@require_GET
def download_view(request, slug, fmt):
    """One report's table as CSV or XLSX (headings first, then the rows):
    every row of every event, not a page's. Built in memory: at 10,000
    events a per-event table is tens of thousands of rows."""
    if not is_coordinator(request.user):
        return _forbidden(request)
    if slug not in reports.BUILDERS or fmt not in FORMATS:
        raise Http404
    form = ReportFilterForm.from_query(request.GET)
    if not form.is_valid():
        return _invalid(request, form, status=400)
    (report,) = reports.build_reports(
        form.filters(), period=form.cleaned_data["period"], only={slug}
    )
    format_class, content_type = FORMATS[fmt]
    if fmt == "xlsx":
        content = write_export(dataset(report, text_cells=True), "xlsx")
    else:
        content = format_class().export_data(dataset(report))
    response = HttpResponse(content, content_type=content_type)
    name = _file_name(form, f"{_('attendance')}-{slug}", fmt)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def summary_pdf(form: ReportFilterForm) -> bytes:
    """The summary for funders of a valid filter form: every report's chart
    and table in one PDF."""
    from .pdfs import render_pdf  # not at the top: importing WeasyPrint takes seconds

    report_list = reports.build_reports(
        form.filters(), period=form.cleaned_data["period"]
    )
    context = {
        "title": _("Attendance summary"),
        "filters": form.summary(),
        "sections": _sections(
            report_list, width=760, height=290, id_prefix="pdf-chart"
        ),
        "definitions": reports.definitions(),
        "generated": timezone.localtime(),
    }
    return render_pdf("pdf/report_summary.html", context, tagged=True)


def background_pdf_sessions() -> int:
    """A summary PDF of more sessions than this is made in the background."""
    return getattr(settings, "GATHER_BACKGROUND_PDF_SESSIONS", BACKGROUND_PDF_SESSIONS)


@require_GET
def pdf_view(request):
    """The summary for funders: every report's chart and table in one PDF.

    Its time grows with the sessions in the range (the tables have a row
    per event); over ``GATHER_BACKGROUND_PDF_SESSIONS`` it is made in the
    background (``SummaryPdfExport``) and this sends the coordinator to its
    progress page.
    """
    if not is_coordinator(request.user):
        return _forbidden(request)
    form = ReportFilterForm.from_query(request.GET)
    if not form.is_valid():
        return _invalid(request, form, status=400)
    name = _file_name(form, _("attendance-summary"), "pdf")
    sessions = reports.sessions_in_range(form.filters(), with_setting=False).count()
    if sessions > background_pdf_sessions():
        job = start_export(
            user=request.user,
            export=SummaryPdfExport.key,
            file_format="pdf",
            query=export_query(request.GET),
            filters=dict(form.summary()),
            total_rows=sessions,
            file_name=name,
        )
        return redirect("spreadsheets_export_job", job.pk)
    response = HttpResponse(summary_pdf(form), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class SummaryPdfExport(BackgroundExport):
    """The summary PDF, made in the background for a large range. It holds
    counts only, never names, so its download is not logged (as the PDF
    made in the request is not)."""

    key = "attendance-summary"
    label = gettext_lazy("Attendance summary")
    counts_rows = False

    def can_export(self, user) -> bool:
        return is_coordinator(user)

    def content_type(self, file_format):
        return "application/pdf"

    def build(self, job, stream, progress) -> int:
        form = ReportFilterForm.from_query(export_request(job.user, job.query).GET)
        if not form.is_valid():
            raise ValidationError(_("The filters are not valid."))
        stream.write(summary_pdf(form))
        progress(job.total_rows)
        return job.total_rows
