"""Spreadsheet files: reading an upload into a ``tablib.Dataset`` and writing
an export.

Uploads are CSV in UTF-8 with or without a byte-order mark (comma, semicolon
or tab separated), XLSX or JSON, read into a Dataset with tidy column names,
or a plain-language ``SpreadsheetError`` to show next to the file field.
Files are read one row at a time (``_csv_rows``, ``_xlsx_table``) and the
limits (``MAX_ROWS``, ``MAX_COLUMNS``, ``MAX_LINE_CHARS``, ``MAX_LINES``) are
checked before a row is kept, so a small file that declares or holds a huge
sheet is refused in bounded memory and time. An XLSX is a zip: its members'
uncompressed size and compression ratio are checked before it is opened
(``check_zip``), and a file whose content is not what its extension says is
refused (``check_content``).

Exports use the same formats. In CSV, cells that a spreadsheet would run as a
formula (starting with ``= + - @``, a tab or a carriage return) are
neutralised by a leading apostrophe, which imports remove again so a round
trip changes nothing; XLSX needs no apostrophe, since its text cells are text
whatever they start with (see ``_write_xlsx``).
"""

import csv
import dataclasses
import datetime as dt
import io
import itertools
import json
import logging
import re
import warnings
import zipfile
import zlib
from collections import OrderedDict

import tablib
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dates import site_zone

from .cells import format_local
from .errors import SpreadsheetError

logger = logging.getLogger(__name__)

#: Largest upload accepted, in bytes.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Most data rows one file may hold.
MAX_ROWS = 50_000
#: Most columns one file may hold (no resource has nearly so many).
MAX_COLUMNS = 100
#: Longest line of a CSV file, in characters.
MAX_LINE_CHARS = 100_000
#: Most lines a CSV file may have, blank ones included.
MAX_LINES = 2 * MAX_ROWS
#: Most bytes the members of an XLSX (a zip) may hold once uncompressed.
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
#: Highest compression ratio of an XLSX member larger than
#: ``RATIO_CHECKED_BYTES``: real sheets compress to a tenth or so, a zip bomb
#: to a thousandth.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_BYTES = 1024 * 1024
#: Most members an XLSX may hold.
MAX_ZIP_MEMBERS = 1000
#: Most objects and lists a JSON file may hold (one object a row, and a few
#: list cells): each costs memory far beyond its two characters.
MAX_JSON_CONTAINERS = 4 * MAX_ROWS

#: How every file of a zip-based format starts.
ZIP_MAGIC = b"PK\x03\x04"

#: A cell starting with one of these is a formula to a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


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

    The file is read one row at a time and refused as soon as it passes a
    limit (see the module), so what it declares never decides what is held.
    """
    file_format = format_for_filename(filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise SpreadsheetError(
            _("The file is larger than %(size)s MB. Split it into smaller files.")
            % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    if not data.strip():
        raise SpreadsheetError(_("The file is empty."))
    check_content(data, file_format)
    if file_format == "csv":
        delimiter, lines = _csv_lines(data)
        spans = {}
        header, rows = _table(_csv_rows(lines, delimiter, spans))
        too_many = _too_many_cells_in_csv(delimiter)
        too_few = _too_few_cells_in_csv(spans)
    else:
        reader = {"xlsx": _xlsx_table, "json": _json_table}[file_format]
        header, rows = reader(data)
        too_many, too_few = _too_many_cells_in_sheet, _too_few_cells_in_sheet
    return _build_dataset(header, rows, too_many=too_many, too_few=too_few)


def check_content(data: bytes, file_format: str) -> None:
    """Raise SpreadsheetError when ``data`` is not what its extension says:
    an .xlsx is a zip, a CSV or JSON file is text."""
    is_zip = data.startswith(ZIP_MAGIC)
    if file_format == "xlsx" and not is_zip:
        raise SpreadsheetError(
            _(
                "This file's name ends in .xlsx, but it is not an Excel "
                "workbook. Open it in your spreadsheet program and save it as "
                ".xlsx or CSV UTF-8."
            )
        )
    if file_format != "xlsx" and is_zip:
        raise SpreadsheetError(
            _(
                "This file's name ends in .%(extension)s, but it is a workbook "
                "or another zip file, not text. Save it as CSV UTF-8 or "
                "upload the workbook as .xlsx."
            )
            % {"extension": file_format}
        )


def _too_many_rows():
    return SpreadsheetError(
        _("The file has more than %(max)s rows. Split it into smaller files.")
        % {"max": f"{MAX_ROWS:,}"}
    )


def _too_many_columns():
    return SpreadsheetError(
        _(
            "The file has more than %(max)s columns. Keep only the columns to "
            "import, and clear any cells to the right of them."
        )
        % {"max": MAX_COLUMNS}
    )


def _table(rows):
    """(header, [(line, cells)]) from (line, cells) pairs read one at a time:
    the first row with anything in it is the header, blank rows are left out,
    and the limits are checked before a row is kept. The header is None when
    every row is blank."""
    header = None
    kept = []
    for line, cells in rows:
        if _blank(cells):
            continue
        if len(cells) > MAX_COLUMNS and _cell_count(cells) > MAX_COLUMNS:
            raise _too_many_columns()
        if header is None:
            header = cells
            continue
        if len(kept) == MAX_ROWS:
            raise _too_many_rows()
        kept.append((line, cells))
    return header, kept


def _not_utf8():
    return SpreadsheetError(
        _(
            "Some letters in this file cannot be read: it is not saved as "
            "UTF-8 text. In Excel, choose “Save as”, then “CSV UTF-8 (comma "
            "delimited)”, and upload that file."
        )
    )


def _text_lines(data: bytes):
    """The lines of a UTF-8 file, decoded one at a time, each refused when
    longer than ``MAX_LINE_CHARS`` before more of it is read, and the file
    when it has more than ``MAX_LINES``."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    number = 0
    try:
        while line := stream.readline(MAX_LINE_CHARS + 1):
            number += 1
            if len(line) > MAX_LINE_CHARS:
                raise SpreadsheetError(
                    _(
                        "Line %(line)s is longer than %(max)s characters. Is this "
                        "a spreadsheet saved as CSV?"
                    )
                    % {"line": number, "max": f"{MAX_LINE_CHARS:,}"}
                )
            if number > MAX_LINES:
                raise SpreadsheetError(
                    _(
                        "The file has more than %(max)s lines. Split it into "
                        "smaller files."
                    )
                    % {"max": f"{MAX_LINES:,}"}
                )
            if "\x00" in line:
                raise SpreadsheetError(
                    _("This does not look like a text file. Save it as CSV UTF-8.")
                )
            yield line
    except UnicodeDecodeError as error:
        raise _not_utf8() from error


def _csv_lines(data: bytes):
    """(delimiter, lines): the separator the first line uses, and every line
    of the file, read lazily."""
    lines = _text_lines(data)
    leading = []
    for line in lines:
        leading.append(line)
        if line.strip("\r\n"):
            break
    return sniff_delimiter("".join(leading)), itertools.chain(leading, lines)


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the first line (the column names)
    uses most.

    Excel in many European languages saves "CSV" with semicolons, and text
    copied out of a spreadsheet is separated by tabs.
    """
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    return max([",", ";", "\t"], key=unquoted.count)


def _csv_rows(lines, delimiter: str, spans: dict):
    """(line, cells) for each CSV row, with the line it starts on, which is
    not its position when blank lines come before it or a quoted cell holds
    a line break; ``spans`` is filled with the rows that run over several
    lines and how many."""
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        starts_on = 1
        for cells in reader:
            yield starts_on, cells
            if reader.line_num > starts_on:
                spans[starts_on] = reader.line_num - starts_on + 1
            starts_on = reader.line_num + 1
    except csv.Error as error:
        raise SpreadsheetError(
            _("This CSV file cannot be read: %(detail)s") % {"detail": error}
        ) from error


def _zip_bomb():
    return SpreadsheetError(
        _(
            "This workbook unpacks to far more than a spreadsheet of its size "
            "holds (more than %(size)s MB, or packed unusually tightly), so it "
            "is not opened. Open it in your spreadsheet program and save it "
            "again, or save it as CSV UTF-8."
        )
        % {"size": MAX_UNCOMPRESSED_BYTES // (1024 * 1024)}
    )


def _not_a_workbook():
    return SpreadsheetError(
        _(
            "This is not an Excel workbook (.xlsx) we can read. Open it in "
            "your spreadsheet program and save it as .xlsx or CSV UTF-8."
        )
    )


def check_zip(data: bytes) -> None:
    """Raise SpreadsheetError unless ``data`` is a zip whose members, as its
    directory declares them, are few, unpack to at most
    ``MAX_UNCOMPRESSED_BYTES`` together, and none larger than
    ``RATIO_CHECKED_BYTES`` is packed more tightly than
    ``MAX_COMPRESSION_RATIO``. Python's zip reader stops at a member's
    declared size, so the declaration bounds what opening it can unpack."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        # A directory that names a zip version Python cannot read.
        NotImplementedError,
    ) as error:
        raise _not_a_workbook() from error
    if len(members) > MAX_ZIP_MEMBERS:
        raise _zip_bomb()
    total = 0
    for member in members:
        total += member.file_size
        if (
            member.file_size > RATIO_CHECKED_BYTES
            and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        ):
            raise _zip_bomb()
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _zip_bomb()


def _trimmed(row):
    """A sheet row without the empty cells at its end."""
    if not row or row[-1] is not None:
        return row  # most rows: nothing to copy
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row[:end]


def _xlsx_table(data: bytes):
    """(header, rows) of the sheet the workbook opens on, else of the first
    with anything in it: people keep notes or an empty sheet in front.

    The sheet's declared dimension is ignored (``reset_dimensions``): a tiny
    file may declare A1:XFD1048576, and openpyxl would pad every row to it.
    Read so, each row holds only the cells the file has, gaps between rows
    come as empty rows (so a row's position is its number in the sheet), and
    ``_table`` refuses the file at the first row past a limit.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    check_zip(data)
    header, rows = None, []
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheets = (
                    [book.active, *book.worksheets] if book.active else book.worksheets
                )
                for sheet in sheets:
                    if not hasattr(sheet, "reset_dimensions"):
                        continue  # a chart sheet holds no cells
                    sheet.reset_dimensions()
                    header, rows = _table(
                        (number, _trimmed(row))
                        for number, row in enumerate(
                            sheet.iter_rows(values_only=True), start=1
                        )
                    )
                    if header is not None:
                        break
            finally:
                book.close()
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        ValueError,
        TypeError,
        IndexError,
        OSError,
        SyntaxError,  # a member that is not XML
        # A member whose packed data is damaged, truncated, packed in a way
        # Python cannot unpack, or encrypted.
        zlib.error,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ) as error:
        raise _not_a_workbook() from error
    if header is None:
        raise SpreadsheetError(_("The file is empty."))
    return header, rows


def _json_table(data: bytes):
    """(header, rows) of a JSON list of objects. The number of objects and
    lists is counted before parsing: each costs far more memory than its
    two characters, and no row needs more than a few."""
    if data.count(b"{") + data.count(b"[") > MAX_JSON_CONTAINERS:
        raise _too_many_rows()
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
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
    if len(payload) > MAX_ROWS:
        raise _too_many_rows()
    headers = []
    for item in payload:
        for key in item:
            if key not in headers:
                if len(headers) == MAX_COLUMNS:
                    raise _too_many_columns()
                headers.append(key)
    # Numbered as if the keys were a header row, as in the other formats.
    rows = [
        (number, [_json_cell(item.get(key)) for key in headers])
        for number, item in enumerate(payload, start=2)
    ]
    rows = [(line, cells) for line, cells in rows if not _blank(cells)]
    if not headers:
        raise SpreadsheetError(_("The file is empty."))
    return headers, rows


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


def _json_cell(value):
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _blank(row) -> bool:
    # A row padded by a sheet reader is all None: counted at C speed.
    if row.count(None) == len(row):
        return True
    return all(
        cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row
    )


def _no_nul(text: str) -> str:
    """``text``, or SpreadsheetError when it holds a NUL character: no text
    has one, PostgreSQL cannot store one, yet JSON can write it
    (``\\u0000``)."""
    if "\x00" in text:
        raise SpreadsheetError(
            _(
                "The file has an invisible control character (NUL) in it. "
                "Open it in your spreadsheet program and save it again."
            )
        )
    return text


def _clean_cell(value):
    if isinstance(value, str):
        return unneutralise(_no_nul(value)).strip()
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
    if headers is None:  # every row blank
        raise SpreadsheetError(_("The file is empty."))
    names = [_no_nul(normalise_header(h)) for h in headers]
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
        raise _too_many_rows()
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
    apostrophe in CSV, written as text cells in XLSX (see ``ExportWriter``)."""
    stream = io.BytesIO()
    writer = ExportWriter(stream, file_format, title=dataset.title)
    writer.write_headers(dataset.headers or [])
    writer.write_rows(dataset)
    writer.close()
    return stream.getvalue()


class ExportWriter:
    """Writes an export into a binary file as its rows come, a chunk at a
    time, so that an export of any size is written in bounded memory.

    ``write_headers`` once, ``write_rows`` any number of times, then
    ``close`` (which leaves ``stream`` open). Every export, in the request
    (``write_export``) or in the background, is written by this class, so
    both give the same file. XLSX goes through openpyxl's write-only
    workbook, which keeps its rows in a temporary file, not in memory.
    """

    def __init__(self, stream, file_format: str, *, title: str = ""):
        if file_format not in FORMATS:
            raise ValueError(f"Unknown format {file_format!r}")
        self.stream, self.file_format = stream, file_format
        self.headers: list = []
        self.rows_written = 0
        if file_format == "csv":
            self.text = io.TextIOWrapper(
                stream, encoding="utf-8", newline="", write_through=True
            )
            # The byte-order mark makes Excel read the file as UTF-8.
            self.text.write("\ufeff")
            self.csv = csv.writer(self.text)
        elif file_format == "xlsx":
            self._start_xlsx(title)
        else:
            self.stream.write(b"[")

    def write_headers(self, headers) -> None:
        self.headers = list(headers)
        if self.file_format == "csv":
            self.csv.writerow([neutralise(h) for h in self.headers])
        elif self.file_format == "xlsx":
            self.sheet.append([self._xlsx_cell(h) for h in self.headers])

    def write_rows(self, rows) -> None:
        for row in rows:
            self._write_row(row)
            self.rows_written += 1

    def _write_row(self, row) -> None:
        if self.file_format == "csv":
            self.csv.writerow([neutralise(_text_cell(cell)) for cell in row])
        elif self.file_format == "xlsx":
            self.sheet.append([self._xlsx_cell(value) for value in row])
        else:
            item = {
                h: _text_cell(cell) for h, cell in zip(self.headers, row, strict=True)
            }
            # The same text as ``json.dumps(rows, indent=1)`` of every row.
            text = json.dumps(item, ensure_ascii=False, indent=1)
            text = "\n".join(" " + line for line in text.split("\n"))
            separator = ",\n" if self.rows_written else "\n"
            self.stream.write((separator + text).encode("utf-8"))

    def close(self) -> None:
        if self.file_format == "csv":
            self.text.flush()
            # Leave the caller's stream open.
            self.text.detach()
        elif self.file_format == "xlsx":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.book.save(self.stream)
        else:
            self.stream.write(b"\n]" if self.rows_written else b"]")

    # XLSX --------------------------------------------------------------------

    def _start_xlsx(self, title):
        """An XLSX workbook in which text is always a text cell.

        A spreadsheet runs a cell as a formula because of its type, not its
        first character: a text cell holding "=1+1" shows exactly that and
        runs nothing. So text is written as it was typed, never with CSV's
        protective apostrophe, as a text cell (``data_type`` "s") with
        Excel's "quote prefix" style, which keeps it text even when someone
        edits the cell. Only text that ``unneutralise`` would change on the
        way back in (an apostrophe before a formula character) gets one more
        apostrophe, so that importing the export changes nothing.
        """
        from openpyxl import Workbook

        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title=(title or "Export")[:31])

    def _xlsx_cell(self, value):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        if value is None:
            return None
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value, site_zone())
            return value.replace(tzinfo=None)
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        if isinstance(value, str):
            return self._xlsx_text_cell(ILLEGAL_CHARACTERS_RE.sub("", value))
        return value

    def _xlsx_text_cell(self, text):
        from openpyxl.cell import WriteOnlyCell

        if unneutralise(text) != text:
            text = QUOTE + text
        written = WriteOnlyCell(self.sheet, value=text)
        # openpyxl makes text starting with "=" a formula; this is text.
        written.data_type = "s"
        if text[:1] in FORMULA_TRIGGERS:
            written.quotePrefix = True
        return written


# Parsing cells ----------------------------------------------------------------
