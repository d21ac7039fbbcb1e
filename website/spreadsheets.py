"""Spreadsheet imports and exports in the Wagtail admin.

Shared by every resource (``events.resources``, ``attendance.resources``):

* reading an upload (CSV in UTF-8 with or without a byte-order mark, comma or
  semicolon separated; XLSX; JSON) into a ``tablib.Dataset`` with tidy column
  names, or a plain-language ``SpreadsheetError`` to show next to the file
  field;
* writing an export in the same formats. In CSV, cells that a spreadsheet
  would run as a formula (starting with ``= + - @``, a tab or a carriage
  return) are neutralised by a leading apostrophe, which imports remove again
  so a round trip changes nothing; XLSX needs no apostrophe, since its text
  cells are text whatever they start with (see ``_write_xlsx``);
* ``GatherResource``, the django-import-export base class the resources
  share: a dry run without per-row diffs, "skip" worked out from a cheap
  snapshot, errors keyed by the column they are about, and progress;
* import jobs (``ImportJob``): upload, dry-run preview, confirm. Files of more
  than ``BACKGROUND_ROWS`` rows are checked and imported by a background task
  (``run_import_stage``) while the coordinator watches a progress bar, or
  leaves and comes back;
* the admin views (upload, preview, confirm, recent imports, export) and
  ``SpreadsheetButtonsMixin`` that puts Import and Export into a listing's
  header, with the listing's current filters;
* the audit log: every export and every import is written to Wagtail's log
  with who, what (resource and filters) and how many rows.
"""

import csv
import dataclasses
import datetime as dt
import io
import json
import logging
import re
import warnings
import zipfile
from collections import OrderedDict
from zoneinfo import ZoneInfo

import tablib
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_tasks import task
from import_export import resources
from import_export.results import RowResult
from wagtail.admin.widgets.button import Button
from wagtail.log_actions import log

logger = logging.getLogger(__name__)

#: Largest upload accepted, in bytes.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Most data rows one file may hold.
MAX_ROWS = 50_000
#: Files with more rows than this are checked and imported in the background.
BACKGROUND_ROWS = getattr(settings, "GATHER_IMPORT_BACKGROUND_ROWS", 2000)
#: Rows per page of the preview table.
PREVIEW_PAGE_SIZE = 100
#: Import jobs (and the personal data in them) are deleted after this long.
JOB_RETENTION = dt.timedelta(days=7)

#: Resource classes by the key used in URLs and logs, in menu order.
RESOURCES = {
    "venues": "events.resources.VenueResource",
    "schedule": "events.resources.ScheduleResource",
    "registrations": "events.resources.RegistrationResource",
    "attendance": "attendance.resources.AttendanceResource",
}

#: A cell starting with one of these is a formula to a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


class SpreadsheetError(Exception):
    """A file that cannot be read; ``message`` is fit to show next to the field."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# Formats ----------------------------------------------------------------------


FORMATS = OrderedDict(
    [
        ("csv", {"label": "CSV", "content_type": "text/csv; charset=utf-8"}),
        (
            "xlsx",
            {
                "label": "Excel (XLSX)",
                "content_type": "application/vnd.openxmlformats-officedocument"
                ".spreadsheetml.sheet",
            },
        ),
        ("json", {"label": "JSON", "content_type": "application/json"}),
    ]
)


def format_for_filename(filename: str) -> str:
    """The format a file's extension names, or SpreadsheetError."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in FORMATS:
        choices = _(
            "Upload a spreadsheet saved as CSV (.csv), Excel (.xlsx) or JSON (.json)."
        )
        if not extension:
            raise SpreadsheetError(
                _("%(choices)s This file's name has no extension.")
                % {"choices": choices}
            )
        raise SpreadsheetError(
            _("%(choices)s This file ends in “.%(extension)s”.")
            % {"choices": choices, "extension": extension}
        )
    return extension


def site_zone() -> ZoneInfo:
    """The site's time zone: spreadsheet times are wall-clock times there."""
    return ZoneInfo(settings.TIME_ZONE)


# Neutralising formulas --------------------------------------------------------


def neutralise(value):
    """Put an apostrophe before text a spreadsheet would run as a formula.

    Text that already starts with an apostrophe gets one more, so that
    ``unneutralise`` gives back exactly what was exported.
    """
    if isinstance(value, str) and value and value[0] in (*FORMULA_TRIGGERS, QUOTE):
        return QUOTE + value
    return value


def unneutralise(value):
    """Undo ``neutralise`` on an imported cell."""
    if (
        isinstance(value, str)
        and len(value) > 1
        and value[0] == QUOTE
        and value[1] in (*FORMULA_TRIGGERS, QUOTE)
    ):
        return value[1:]
    return value


# Reading ----------------------------------------------------------------------


def normalise_header(name) -> str:
    """'Event title ' -> 'event_title': how column names are compared."""
    text = "" if name is None else str(name)
    text = text.replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def read_dataset(data: bytes, filename: str) -> tablib.Dataset:
    """Read an upload into a Dataset, or raise SpreadsheetError saying why not.

    Column names are normalised (``normalise_header``), blank rows dropped,
    text cells stripped of surrounding spaces and of export neutralising.
    Rows with fewer cells than there are columns are padded with blanks, as
    spreadsheet programs do. A row with more cells cannot be read right (an
    unquoted comma inside a name shifts every cell after it), nor can a short
    CSV row that runs over several lines (a quotation mark never closed), so
    such a row is left out of the Dataset and kept, with a message, in
    ``dataset.misshapen`` (``MisshapenRow``) to be shown as a problem of its
    own. Each row's line
    in the file (the sheet's row in XLSX) is in ``dataset.line_numbers``.
    """
    file_format = format_for_filename(filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise SpreadsheetError(
            _("The file is larger than %(size)s MB. Split it into smaller files.")
            % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    if not data.strip():
        raise SpreadsheetError(_("The file is empty."))
    if file_format == "csv":
        text = _decode(data)
        delimiter = sniff_delimiter(text)
        header, rows, spans = _read_csv(text, delimiter)
        too_many = _too_many_cells_in_csv(delimiter)
        too_few = _too_few_cells_in_csv(spans)
    else:
        reader = {"xlsx": _read_xlsx, "json": _read_json}[file_format]
        header, rows = reader(data)
        too_many, too_few = _too_many_cells_in_sheet, _too_few_cells_in_sheet
    return _build_dataset(header, rows, too_many=too_many, too_few=too_few)


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpreadsheetError(
            _(
                "Some letters in this file cannot be read: it is not saved as "
                "UTF-8 text. In Excel, choose “Save as”, then “CSV UTF-8 (comma "
                "delimited)”, and upload that file."
            )
        ) from error
    if "\x00" in text:
        raise SpreadsheetError(
            _("This does not look like a text file. Save it as CSV UTF-8.")
        )
    return text


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the first line (the column names)
    uses most.

    Excel in many European languages saves "CSV" with semicolons, and text
    copied out of a spreadsheet is separated by tabs.
    """
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    return max([",", ";", "\t"], key=unquoted.count)


def _read_csv(text: str, delimiter: str):
    """(header, [(line, cells)], spans): each row with the line it starts on,
    which is not its position when blank lines come before it or a quoted
    cell holds a line break; ``spans`` maps the rows that run over several
    lines to how many."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    spans = {}
    try:
        starts_on = 1
        for cells in reader:
            rows.append((starts_on, cells))
            if reader.line_num > starts_on:
                spans[starts_on] = reader.line_num - starts_on + 1
            starts_on = reader.line_num + 1
    except csv.Error as error:
        raise SpreadsheetError(
            _("This CSV file cannot be read: %(detail)s") % {"detail": error}
        ) from error
    header, rows = _split_header(rows)
    return header, rows, spans


#: How a CSV separator is named in messages.
SEPARATOR_NAMES = {
    ",": gettext_lazy("comma"),
    ";": gettext_lazy("semicolon"),
    "\t": gettext_lazy("tab"),
}


def _too_many_cells_in_csv(delimiter):
    """The message for a CSV row with more cells than the header has names."""

    def message(line, cells, columns):
        return _(
            "Line %(line)s has %(cells)s cells but the header has %(columns)s. "
            "A %(separator)s inside a name? Put the name in quotes."
        ) % {
            "line": line,
            "cells": cells,
            "columns": columns,
            "separator": SEPARATOR_NAMES[delimiter],
        }

    return message


def _too_few_cells_in_csv(spans):
    """The message for a short CSV row that runs over several lines, or None.

    A quotation mark that is never closed makes the reader take every line
    after it, up to the next quotation mark or the end of the file, as one
    cell: the row comes out short and the rows it swallowed are gone.
    Padding it with blanks would import it as if nothing were wrong.
    """

    def message(line, cells, columns):
        if line not in spans:
            return None
        return _(
            "Line %(line)s has a cell that runs over %(lines)s lines, which "
            'leaves the row with too few cells. Is a quotation mark (") '
            "missing its pair? Everything after it is read as one cell."
        ) % {"line": line, "lines": spans[line]}

    return message


def _too_few_cells_in_sheet(line, cells, columns):
    """Short rows of a sheet are padded with blanks, as the sheet shows them."""
    return None


def _too_many_cells_in_sheet(line, cells, columns):
    """The message for a sheet row with cells beyond the named columns."""
    return _(
        "Row %(line)s has %(cells)s cells but the first row names only "
        "%(columns)s columns. Give the extra column a name in the first row, "
        "or clear the cells beyond the last named column."
    ) % {"line": line, "cells": cells, "columns": columns}


def _read_xlsx(data: bytes):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            # The sheet the workbook opens on, else the first with anything
            # in it: people keep notes or an empty sheet in front.
            sheets = [book.active, *book.worksheets] if book.active else book.worksheets
            rows = []
            for sheet in sheets:
                # Read-only sheets yield every row from the first, empty ones
                # included, so a row's position is its number in the sheet.
                rows = [
                    (number, list(row))
                    for number, row in enumerate(
                        sheet.iter_rows(values_only=True), start=1
                    )
                ]
                if any(not _blank(row) for _number, row in rows):
                    break
            book.close()
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        ValueError,
        TypeError,
        IndexError,
        OSError,
    ) as error:
        raise SpreadsheetError(
            _(
                "This is not an Excel workbook (.xlsx) we can read. Open it in "
                "your spreadsheet program and save it as .xlsx or CSV UTF-8."
            )
        ) from error
    return _split_header(rows)


def _read_json(data: bytes):
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise SpreadsheetError(_("This is not a JSON file we can read.")) from error
    if not isinstance(payload, list) or not all(
        isinstance(item, dict) for item in payload
    ):
        raise SpreadsheetError(
            _(
                'A JSON file must hold a list of rows, each like {"name": "Sam", '
                '"email": "sam@example.org"}.'
            )
        )
    headers = []
    for item in payload:
        for key in item:
            if key not in headers:
                headers.append(key)
    # Numbered as if the keys were a header row, as in the other formats.
    rows = [
        (number, [_json_cell(item.get(key)) for key in headers])
        for number, item in enumerate(payload, start=2)
    ]
    return headers, rows


def _json_cell(value):
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _split_header(rows):
    """The first row with anything in it, and the (line, cells) after it."""
    rows = [(line, cells) for line, cells in rows if not _blank(cells)]
    if not rows:
        raise SpreadsheetError(_("The file is empty."))
    return rows[0][1], rows[1:]


def _blank(row) -> bool:
    return all(
        cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row
    )


def _clean_cell(value):
    if isinstance(value, str):
        return unneutralise(value).strip()
    return value


@dataclasses.dataclass
class MisshapenRow:
    """A row of a file that cannot be read into its columns: more cells than
    the file has column names, or a quoted cell that swallowed lines."""

    line: int
    cells: list
    message: str


def _cell_count(cells) -> int:
    """How many cells a row has, not counting empty ones at its end."""
    count = len(cells)
    while count and _blank(cells[count - 1 : count]):
        count -= 1
    return count


def _build_dataset(headers, rows, *, too_many, too_few) -> tablib.Dataset:
    names = [normalise_header(h) for h in headers]
    # Trailing unnamed columns (Excel often has some) are dropped when empty.
    width = len(names)
    while width and not names[width - 1]:
        width -= 1
    names = names[:width]
    if not names:
        raise SpreadsheetError(
            _("The first row must hold the column names, e.g. “name” and “email”.")
        )
    for position, name in enumerate(names, start=1):
        if not name:
            raise SpreadsheetError(
                _("Column %(number)s has no name in the first row.")
                % {"number": position}
            )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SpreadsheetError(
            _("These columns appear more than once: %(names)s.")
            % {"names": ", ".join(duplicates)}
        )
    data_rows = [(line, cells) for line, cells in rows if not _blank(cells)]
    if not data_rows:
        raise SpreadsheetError(_("The file has column names but no rows below them."))
    if len(data_rows) > MAX_ROWS:
        raise SpreadsheetError(
            _("The file has more than %(max)s rows. Split it into smaller files.")
            % {"max": f"{MAX_ROWS:,}"}
        )
    dataset = tablib.Dataset(headers=names)
    dataset.line_numbers = []
    dataset.misshapen = []
    for line, cells in data_rows:
        cells = list(cells)
        count = _cell_count(cells)
        problem = None
        if count > width:
            problem = too_many(line, count, width)
        elif len(cells) < width:  # short even with its empty cells
            problem = too_few(line, len(cells), width)
        if problem:
            dataset.misshapen.append(
                MisshapenRow(
                    line=line,
                    cells=[_clean_cell(cell) for cell in cells[:count]],
                    message=problem,
                )
            )
            continue
        cells = cells[:width] + [None] * (width - len(cells))
        dataset.append([_clean_cell(cell) for cell in cells])
        dataset.line_numbers.append(line)
    return dataset


def line_numbers(dataset) -> list[int]:
    """Each row's line in the file it was read from (``read_dataset``), or
    its position counting the header as line 1 for a Dataset built in code."""
    lines = getattr(dataset, "line_numbers", None)
    if lines is None or len(lines) != len(dataset):
        return list(range(2, len(dataset) + 2))
    return lines


# Writing ----------------------------------------------------------------------


def format_local(value) -> str:
    """A datetime as the site's wall-clock time, '2026-09-14 18:00'."""
    local = (
        timezone.localtime(value, site_zone()) if timezone.is_aware(value) else value
    )
    if local.second or local.microsecond:
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def _text_cell(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return format_local(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


def write_export(dataset: tablib.Dataset, file_format: str) -> bytes:
    """The bytes of ``dataset`` in ``file_format``: formulas neutralised by an
    apostrophe in CSV, written as text cells in XLSX."""
    if file_format == "csv":
        stream = io.StringIO()
        writer = csv.writer(stream)
        writer.writerow([neutralise(h) for h in dataset.headers])
        for row in dataset:
            writer.writerow([neutralise(_text_cell(cell)) for cell in row])
        # The byte-order mark makes Excel read the file as UTF-8.
        return ("\ufeff" + stream.getvalue()).encode("utf-8")
    if file_format == "xlsx":
        return _write_xlsx(dataset)
    if file_format == "json":
        rows = [
            {h: _text_cell(cell) for h, cell in zip(dataset.headers, row, strict=True)}
            for row in dataset
        ]
        return json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")
    raise ValueError(f"Unknown format {file_format!r}")


def _write_xlsx(dataset) -> bytes:
    """An XLSX workbook in which text is always a text cell.

    A spreadsheet runs a cell as a formula because of its type, not its
    first character: a text cell holding "=1+1" shows exactly that and runs
    nothing. So text is written as it was typed, never with CSV's protective
    apostrophe, as a text cell (``data_type`` "s") with Excel's "quote prefix"
    style, which keeps it text even when someone edits the cell. Only text
    that ``unneutralise`` would change on the way back in (an apostrophe
    before a formula character) gets one more apostrophe, so that importing
    the export changes nothing.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=(dataset.title or "Export")[:31])

    def cell(value):
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value, site_zone())
            return value.replace(tzinfo=None)
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        if isinstance(value, str):
            return text_cell(ILLEGAL_CHARACTERS_RE.sub("", value))
        return value

    def text_cell(text):
        if unneutralise(text) != text:
            text = QUOTE + text
        written = WriteOnlyCell(sheet, value=text)
        # openpyxl makes text starting with "=" a formula; this is text.
        written.data_type = "s"
        if text[:1] in FORMULA_TRIGGERS:
            written.quotePrefix = True
        return written

    sheet.append([cell(h) for h in dataset.headers])
    for row in dataset:
        sheet.append([cell(value) for value in row])
    stream = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book.save(stream)
    return stream.getvalue()


# Parsing cells ----------------------------------------------------------------


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value) -> str:
    """A cell as text: numbers without a stray '.0', empty cells as ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return format_local(value)
    return str(value).strip()


def parse_datetime(value, *, column_label) -> dt.datetime:
    """A cell as an aware datetime in the site's zone.

    Takes Excel date cells, ISO text ('2026-09-14 18:00', with or without
    seconds, 'T' or an offset) and Excel serial numbers. Raises ValueError
    with a message naming the column.
    """
    zone = site_zone()
    parsed = None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel serial day number (1954-2119)
            from openpyxl.utils.datetime import from_excel

            parsed = from_excel(value)
    elif isinstance(value, str):
        text = value.strip().replace("/", "-")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None and len(text) <= 10:
            parsed = None  # a date alone: the time is missing
    if parsed is None:
        raise ValueError(
            _("Write the %(column)s date and time like 2026-09-14 18:00.")
            % {"column": column_label}
        )
    if parsed.microsecond:
        # Excel keeps times as fractions of a day; round to the second.
        parsed = (parsed + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def parse_time(value):
    """A cell holding only a time ('19:30' or an Excel time cell), or None."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and re.fullmatch(
        r"\d{1,2}:\d{2}(:\d{2})?", value.strip()
    ):
        try:
            return dt.time.fromisoformat(value.strip().zfill(5))
        except ValueError:
            return None
    return None


#: The largest whole number a cell may hold: the largest an integer column
#: stores on every database (PostgreSQL's ``integer``). A larger one would
#: fail when saved or looked up, taking the whole import with it.
MAX_WHOLE_NUMBER = 2_147_483_647


def parse_int(value, *, column_label, minimum=0, maximum=MAX_WHOLE_NUMBER):
    """A whole number from a cell, or None for an empty cell."""
    if is_empty(value):
        return None
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\d+(\.0+)?", value.strip()):
        number = int(value.strip().split(".")[0])
    if number is None or number < minimum:
        raise ValueError(
            _("%(column)s must be a whole number of %(minimum)s or more.")
            % {"column": column_label, "minimum": minimum}
        )
    if number > maximum:
        raise ValueError(
            _("%(column)s is too large: write a number up to %(maximum)s.")
            % {"column": column_label, "maximum": f"{maximum:,}"}
        )
    return number


TRUE_WORDS = {"1", "true", "yes", "y", "x", "✓", "oui"}
FALSE_WORDS = {"", "0", "false", "no", "n", "non"}


def parse_bool(value, *, column_label) -> bool:
    """'yes'/'no' (and true/false, 1/0, x) from a cell; empty means no."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = as_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(_("Write yes or no in %(column)s.") % {"column": column_label})


def parse_choice(value, choices, *, column_label, default=None):
    """A TextChoices value from its value or its label, any case."""
    if is_empty(value):
        return default
    text = as_text(value).lower()
    for choice_value, label in choices.choices:
        if text in (str(choice_value).lower(), str(label).lower()):
            return choice_value
    raise ValueError(
        _("%(column)s must be one of: %(choices)s.")
        % {"column": column_label, "choices": ", ".join(choices.values)}
    )


# The resource base class --------------------------------------------------------


class GatherResource(resources.ModelResource):
    """What every Gather resource shares, on top of django-import-export.

    Following the library's performance guidance: no per-row diff (the
    preview shows what each row does, not a diff), so ``skip_diff`` is on and
    "unchanged" is decided from a small snapshot taken when a row's instance
    is found; look-ups are loaded once per import in ``before_import``; bulk
    mode is switched on by resources whose rows allow it.

    Subclasses name their columns in ``columns`` (column -> label), list the
    ones a file must have in ``required_columns``, and parse a row in
    ``import_instance``, raising ``ValidationError`` keyed by column name.
    """

    #: Key in ``RESOURCES``; also the export's file name.
    key = ""
    #: Plain name for headings and logs.
    label = ""
    #: Whether exports hold personal data (names, contact details).
    personal_data = False
    #: Column name -> label, in export order.
    columns: dict = {}
    required_columns: tuple = ()
    #: Other names people give columns -> the column name.
    column_aliases: dict = {}

    class Meta:
        skip_diff = True
        skip_html_diff = True
        report_skipped = True
        use_transactions = True
        clean_model_instances = False

    def __init__(self, *, user=None, options=None, progress=None):
        super().__init__()
        self.user = user
        self.options = options or {}
        self.progress = progress
        #: Row number -> a short note for the preview ("On the waitlist").
        self.row_notes = {}
        #: Row number (1 for the first data row) -> its line in the file.
        self.lines = []

    # Columns -----------------------------------------------------------------

    @classmethod
    def canonical_headers(cls, headers):
        """``headers`` with aliases replaced by the column names they stand for."""
        return [cls.column_aliases.get(h, h) for h in headers]

    @classmethod
    def check_columns(cls, headers):
        """Raise SpreadsheetError when a required column is missing."""
        present = set(cls.canonical_headers(headers))
        missing = [c for c in cls.required_columns if c not in present]
        if missing:
            raise SpreadsheetError(
                _(
                    "These columns are missing: %(missing)s. The first row must "
                    "hold the column names; the columns are: %(all)s."
                )
                % {"missing": ", ".join(missing), "all": ", ".join(cls.columns)}
            )

    def column_label(self, column):
        return str(self.columns.get(column, column))

    # Import hooks ------------------------------------------------------------

    def get_instance(self, instance_loader, row):
        """Always ask the loader: a row may be found without an id column."""
        return instance_loader.get_instance(row)

    def _check_import_id_fields(self, headers):
        """Columns are checked on upload (``check_columns``) instead."""

    @classmethod
    def check_options(cls, options, user):
        """Raise SpreadsheetError when the upload options no longer hold."""

    def snapshot(self, instance):
        """The values that decide whether a row changes ``instance``."""
        raise NotImplementedError

    def after_init_instance(self, instance, new, row, **kwargs):
        instance._gather_snapshot = None if new else self.snapshot(instance)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        before = getattr(instance, "_gather_snapshot", None)
        return before is not None and before == self.snapshot(instance)

    def after_import_row(self, row, row_result, **kwargs):
        if self.progress is not None:
            self.progress(kwargs.get("row_number", 0))

    def import_data(self, dataset, **kwargs):
        """Import with column aliases resolved (see ``column_aliases``)."""
        self.lines = line_numbers(dataset)
        dataset.headers = self.canonical_headers(dataset.headers)
        return super().import_data(dataset, **kwargs)

    def line_of(self, row_number) -> int:
        """The line in the file of the library's ``row_number``: what
        messages such as "the same person is also on row 7" must name, since
        the preview numbers rows by their line too."""
        if 1 <= row_number <= len(self.lines):
            return self.lines[row_number - 1]
        return row_number + 1

    # Export ------------------------------------------------------------------

    def export(self, queryset=None, **kwargs):
        """The library's export, titled with the resource's label."""
        dataset = super().export(queryset, **kwargs)
        dataset.title = str(self.label)
        return dataset

    # Permissions and options (overridden by resources) ------------------------

    @classmethod
    def can_import(cls, user) -> bool:
        return False

    @classmethod
    def can_export(cls, user) -> bool:
        return False

    @classmethod
    def upload_fields(cls, user) -> dict:
        """Extra form fields for the upload form (e.g. where to put events)."""
        return {}

    @classmethod
    def clean_options(cls, cleaned_data, user) -> dict:
        """JSON-safe options for the import from the upload form."""
        return {}

    @classmethod
    def describe_options(cls, options) -> list[str]:
        """Lines saying what the options were, for the preview page."""
        return []

    @classmethod
    def export_queryset(cls, request):
        """(queryset, filters) for an export with the listing's GET filters.

        Raises ValidationError when the filters are not valid.
        """
        raise NotImplementedError

    @classmethod
    def listing_url(cls) -> str:
        return ""


def validation_error(column, message):
    """A ValidationError about one column."""
    return ValidationError({column: [message]})


def filters_description(filterset, request, search_param="q") -> dict:
    """The listing filters in use, as text, for the audit log."""
    described = {}
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, "", [], ()):
            continue
        if hasattr(value, "start") and hasattr(value, "stop"):  # a date range
            value = f"{value.start or ''}..{value.stop or ''}"
        described[name] = str(value)
    query = request.GET.get(search_param, "").strip()
    if query:
        described["search"] = query
    return described


def resource_class(key):
    """The resource class for ``key``, or 404."""
    path = RESOURCES.get(key)
    if path is None:
        raise Http404
    return import_string(path)


# Import jobs ------------------------------------------------------------------


def background_rows() -> int:
    """Files with more rows than this are checked and imported in the background."""
    return getattr(settings, "GATHER_IMPORT_BACKGROUND_ROWS", BACKGROUND_ROWS)


def _job_model():
    from .models import ImportJob

    return ImportJob


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
    ImportJob = _job_model()
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
    ImportJob = _job_model()
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
        "website.import",
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


def display_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return format_local(value)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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


def purge_old_jobs():
    """Delete import jobs (and the personal data in them) past retention."""
    _job_model().objects.filter(created_at__lt=timezone.now() - JOB_RETENTION).delete()


# Admin views ------------------------------------------------------------------


class UploadForm(forms.Form):
    """The file, what to do with rows that have problems, and any options the
    resource needs."""

    file = forms.FileField(
        label=gettext_lazy("Spreadsheet file"),
        help_text=gettext_lazy(
            "CSV (UTF-8, separated by commas, semicolons or tabs), Excel (.xlsx) or "
            "JSON, up to 10 MB. The first row holds the column names."
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
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB. Split it into smaller files.")
                % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
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
            purge_old_jobs()
            job = _job_model().objects.create(
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
        "website/admin/spreadsheet_upload.html",
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
    job = get_object_or_404(_job_model(), pk=pk)
    if job.user_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    return job


def job_view(request, pk):
    """Step 2: the preview (what each row will do, every problem by row and
    column) with the confirm button; or progress while a worker runs."""
    job = _own_job(request, pk)
    resource_cls = resource_class(job.resource)
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
        "website/admin/spreadsheet_job.html",
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
    ImportJob = _job_model()
    claimed = ImportJob.objects.filter(
        pk=job.pk, status=ImportJob.Status.PREVIEWED
    ).update(status=ImportJob.Status.IMPORT_QUEUED, updated_at=timezone.now())
    if claimed:
        job.refresh_from_db()
        start_stage(job, "import")
    return redirect("spreadsheets_job", job.pk)


def jobs_view(request):
    """The coordinator's recent imports, to come back to one."""
    jobs = _job_model().objects.filter(user=request.user).defer("data", "preview")[:50]
    return TemplateResponse(
        request,
        "website/admin/spreadsheet_jobs.html",
        {
            "jobs": jobs,
            "importable": [
                (key, cls)
                for key, cls in ((k, resource_class(k)) for k in RESOURCES)
                if cls.can_import(request.user)
            ],
        },
    )


def export_view(request, key):
    """Download a listing (with its current filters) as CSV, XLSX or JSON.

    Every export is written to the audit log with who, what and how many
    rows; exports of personal data only to those allowed to see it.
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
    resource = resource_cls(user=request.user)
    dataset = resource.export(queryset)
    content = write_export(dataset, file_format)
    log(
        ContentType.objects.get_for_model(resource_cls._meta.model),
        "website.export",
        user=request.user,
        title=_("%(what)s export: %(rows)s rows")
        % {"what": resource_cls.label, "rows": len(dataset)},
        data={
            "resource": key,
            "format": file_format,
            "filters": filters,
            "rows": len(dataset),
            "personal_data": resource_cls.personal_data,
        },
    )
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    response = HttpResponse(content, content_type=FORMATS[file_format]["content_type"])
    response["Content-Disposition"] = (
        f'attachment; filename="{key}-{stamp}.{file_format}"'
    )
    response["Cache-Control"] = "no-store"
    return response


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
