"""Upload bombs: crafted files that declare or unpack to far more than they
are are refused with a message, in bounded memory and time, and a file
whose content is not what its extension says is refused too."""

import io
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from spreadsheets import formats
from spreadsheets.errors import SpreadsheetError
from spreadsheets.formats import read_dataset
from spreadsheets.models import ImportJob
from tests.spreadsheets.support import csv_bytes, xlsx_bytes

#: What reading one crafted file may cost at most.
PEAK_BYTES = 50 * 1024 * 1024
SECONDS = 5


def _outcome(data, name):
    try:
        return read_dataset(data, name)
    except SpreadsheetError as error:
        return error.message


def _read_bounded(data, name):
    """read_dataset(data, name), timed, then read again with its peak memory
    traced (counted from the call, not the test's own copy of the file;
    tracing slows it down too much to time it as well); returns the
    SpreadsheetError's message, or the dataset when the file reads."""
    began = time.perf_counter()
    _outcome(data, name)
    took = time.perf_counter() - began
    assert took < SECONDS, f"took {took:.1f} s"
    tracemalloc.start()
    try:
        outcome = _outcome(data, name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"peak {peak / 2**20:.1f} MB"
    return outcome


def _sheet_xml(dimension, rows):
    """A worksheet's XML: ``rows`` maps a row number to {cell ref: text}."""
    body = "".join(
        f'<row r="{number}">'
        + "".join(
            f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
            for ref, text in cells.items()
        )
        + "</row>"
        for number, cells in rows.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{body}</sheetData></worksheet>'
    )


def _crafted_xlsx(sheet_xml):
    """A real workbook with its one sheet replaced by ``sheet_xml``."""
    original = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["placeholder"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as crafted:
        for member in original.infolist():
            content = original.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                content = sheet_xml.encode()
            crafted.writestr(member.filename, content)
    return out.getvalue()


HEADER = {"A1": "name", "B1": "setting"}
HALL = {"A2": "Hall", "B2": "community"}


def test_a_tiny_xlsx_declaring_the_largest_sheet_reads_only_what_it_holds():
    """The sheet declares A1:XFD1048576 and has a cell in its last row: read
    before as 1,048,576 rows of 16,384 cells each (MemoryError)."""
    data = _crafted_xlsx(
        _sheet_xml(
            "A1:XFD1048576",
            {1: HEADER, 2: HALL, 1048576: {"A1048576": "Ward", "B1048576": "hospital"}},
        )
    )
    assert len(data) < 10_000
    dataset = _read_bounded(data, "venues.xlsx")
    assert dataset.headers == ["name", "setting"]
    assert [list(row) for row in dataset] == [
        ["Hall", "community"],
        ["Ward", "hospital"],
    ]
    assert dataset.line_numbers == [2, 1048576]


def test_a_tiny_xlsx_with_a_cell_in_its_last_column_is_refused_with_a_message():
    data = _crafted_xlsx(
        _sheet_xml(
            "A1:XFD1048576",
            {1: HEADER, 2: HALL, 1048576: {"XFD1048576": "far away"}},
        )
    )
    assert len(data) < 10_000
    message = _read_bounded(data, "venues.xlsx")
    assert message == (
        "The file has more than 100 columns. Keep only the columns to import, "
        "and clear any cells to the right of them."
    )


def test_an_xlsx_over_the_row_limit_is_refused_at_the_first_row_too_many(
    monkeypatch,
):
    monkeypatch.setattr(formats, "MAX_ROWS", 1000)
    rows = {1: HEADER} | {
        n: {f"A{n}": f"Venue {n}", f"B{n}": "community"} for n in range(2, 20_000)
    }
    message = _read_bounded(_crafted_xlsx(_sheet_xml("A1:B2", rows)), "venues.xlsx")
    assert message == "The file has more than 1,000 rows. Split it into smaller files."


def test_a_csv_over_the_row_limit_is_refused(monkeypatch):
    monkeypatch.setattr(formats, "MAX_ROWS", 1000)
    data = csv_bytes([["name", "setting"]] + [["Hall", "community"]] * 1001)
    message = _read_bounded(data, "venues.csv")
    assert message == "The file has more than 1,000 rows. Split it into smaller files."


def _zip(members):
    """A zip of (name, size) members of zeros, written a megabyte at a time."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, size in members:
            with archive.open(name, "w") as member:
                for _ in range(size // 2**20):
                    member.write(bytes(2**20))
    return out.getvalue()


@pytest.mark.parametrize(
    "members",
    [
        # One member packed a thousand to one.
        [("[Content_Types].xml", 0), ("xl/worksheets/sheet1.xml", 50 * 2**20)],
        # Many members, each below the size whose ratio is checked, together
        # unpacking to more than the limit.
        [(f"xl/worksheets/sheet{n}.xml", 2**20) for n in range(101)],
    ],
    ids=["ratio", "total"],
)
def test_a_zip_bomb_named_xlsx_is_refused_before_it_is_opened(members):
    data = _zip(members)
    assert len(data) < 1_000_000
    message = _read_bounded(data, "venues.xlsx")
    assert message.startswith(
        "This workbook unpacks to far more than a spreadsheet of its size holds"
    )


def test_a_csv_with_a_ten_megabyte_line_is_refused_with_a_message():
    data = b"name,setting\n" + b"a," * 5_000_000 + b"\n"
    message = _read_bounded(data, "venues.csv")
    assert message == (
        "Line 2 is longer than 100,000 characters. Is this a spreadsheet saved as CSV?"
    )


def test_a_csv_of_ten_million_blank_lines_is_refused_with_a_message():
    message = _read_bounded(b"name,setting\n" + b"\n" * 10_000_000, "venues.csv")
    assert (
        message == "The file has more than 100,000 lines. Split it into smaller files."
    )


def test_a_json_file_of_millions_of_objects_is_refused_before_parsing():
    message = _read_bounded(b"[" + b"{}," * 3_000_000 + b"{}]", "venues.json")
    assert message == "The file has more than 50,000 rows. Split it into smaller files."


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            b"name,setting\nHall,community\n",
            "venues.xlsx",
            "This file's name ends in .xlsx, but it is not an Excel workbook.",
        ),
        (
            xlsx_bytes([["name", "setting"], ["Hall", "community"]]),
            "venues.csv",
            "This file's name ends in .csv, but it is a workbook or another zip "
            "file, not text.",
        ),
        (
            xlsx_bytes([["name", "setting"], ["Hall", "community"]]),
            "venues.json",
            "This file's name ends in .json, but it is a workbook",
        ),
        (_zip([("notes.txt", 0)]), "venues.xlsx", "not an Excel workbook (.xlsx)"),
    ],
)
def test_content_that_is_not_what_the_extension_says_is_refused(data, name, message):
    assert message in _read_bounded(data, name)


@pytest.mark.django_db
def test_the_admin_upload_shows_the_limit_next_to_the_field(client, coordinator):
    client.force_login(coordinator)
    data = _crafted_xlsx(
        _sheet_xml("A1:XFD1048576", {1: HEADER, 2: {"XFD2": "far away"}})
    )
    response = client.post(
        reverse("spreadsheets_import", args=["venues"]),
        {"file": SimpleUploadedFile("venues.xlsx", data)},
    )
    assert response.status_code == 200
    assert "The file has more than 100 columns." in response.content.decode()
    assert not ImportJob.objects.exists()


def _damaged_xlsx():
    """A workbook whose properties member's packed data is not deflate data
    at all (the CRC is never reached: unpacking fails first)."""
    data = bytearray(xlsx_bytes([["name", "setting"], ["Hall", "community"]]))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    member = archive.getinfo("docProps/core.xml")
    start = member.header_offset + 30 + len(member.filename.encode())
    start += int.from_bytes(
        data[member.header_offset + 28 : member.header_offset + 30], "little"
    )
    data[start : start + member.compress_size] = b"\xff" * member.compress_size
    return bytes(data)


def _xlsx_of_a_later_zip_version():
    """A workbook whose directory says it needs zip version 10.8 to unpack."""
    data = bytearray(xlsx_bytes([["name"], ["Hall"]]))
    directory = data.index(b"PK\x01\x02")
    data[directory + 6 : directory + 8] = (108).to_bytes(2, "little")
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        # Found by tests/test_fuzz.py: each was a server error.
        (b'""\r\n', "venues.csv", "The file is empty."),
        (_damaged_xlsx(), "venues.xlsx", "This is not an Excel workbook (.xlsx)"),
        (
            _xlsx_of_a_later_zip_version(),
            "venues.xlsx",
            "This is not an Excel workbook (.xlsx)",
        ),
        # On PostgreSQL, which cannot store a NUL character.
        (
            b'[{"name": "Ha\\u0000ll", "setting": "community"}]',
            "venues.json",
            "invisible control character (NUL)",
        ),
        (b'[{"na\\u0000me": "Hall"}]', "venues.json", "control character (NUL)"),
    ],
    ids=[
        "csv-of-one-empty-cell",
        "damaged-xlsx-member",
        "later-zip-version",
        "json-nul-cell",
        "json-nul-name",
    ],
)
def test_files_the_fuzzer_found_get_a_message(data, name, message):
    assert message in _read_bounded(data, name)
