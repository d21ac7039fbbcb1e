"""Reading uploads (CSV with or without BOM, comma or semicolon; XLSX with
real date cells; JSON), refusing bad files with a message, and neutralising
formulas in exports."""

import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook

from spreadsheets.cells import parse_datetime
from spreadsheets.errors import SpreadsheetError
from spreadsheets.formats import neutralise, read_dataset, unneutralise, write_export
from tests.spreadsheets.support import csv_bytes, local, xlsx_bytes

ROWS = [["Name", "E-mail", "Phone"], ["Zoë Ødegaard", "zoe@example.org", "+1 416"]]


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_with_or_without_bom_and_any_separator(bom, delimiter):
    dataset = read_dataset(csv_bytes(ROWS, delimiter=delimiter, bom=bom), "people.CSV")
    assert dataset.headers == ["name", "e_mail", "phone"]
    assert list(dataset[0]) == ["Zoë Ødegaard", "zoe@example.org", "+1 416"]


def test_semicolon_csv_with_commas_inside_cells():
    data = b'name;address\n"Hall";"1 Main St, Toronto"\n'
    dataset = read_dataset(data, "venues.csv")
    assert list(dataset[0]) == ["Hall", "1 Main St, Toronto"]


def test_xlsx_keeps_real_excel_date_cells_and_numbers():
    data = xlsx_bytes(
        [
            ["start", "end", "capacity"],
            [dt.datetime(2026, 9, 14, 18, 0), dt.time(19, 30), 12],
            [None, None, None],  # a blank row Excel left behind
        ]
    )
    dataset = read_dataset(data, "plan.xlsx")
    assert len(dataset) == 1
    start, end, capacity = dataset[0]
    assert start == dt.datetime(2026, 9, 14, 18, 0)
    assert end == dt.time(19, 30)
    assert capacity == 12
    assert parse_datetime(start, column_label="start") == local(2026, 9, 14, 18)


def test_xlsx_reads_the_first_sheet_with_something_in_it():
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    data_sheet = book.create_sheet("People")
    data_sheet.append(["name", "email"])
    data_sheet.append(["Sam", "s@example.org"])
    stream = io.BytesIO()
    book.save(stream)
    dataset = read_dataset(stream.getvalue(), "people.xlsx")
    assert list(dataset[0]) == ["Sam", "s@example.org"]


def test_json_rows():
    data = json.dumps([{"name": "Sam", "email": "s@example.org"}, {"name": "Kim"}])
    dataset = read_dataset(data.encode(), "people.json")
    assert dataset.headers == ["name", "email"]
    assert list(dataset[1]) == ["Kim", None]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"name\nSam\n", "people.txt", "ends in “.txt”"),
        (b"name\nSam\n", "people", "This file's name has no extension."),
        (b"", "people.csv", "The file is empty."),
        (b"  \n\n", "people.csv", "The file is empty."),
        ("name\nZoë\n".encode("latin-1"), "people.csv", "not saved as UTF-8"),
        ("name\n".encode("utf-16"), "people.csv", "not saved as UTF-8"),
        (b"name,email\n", "people.csv", "no rows below them"),
        (b"name,name\nSam,Kim\n", "people.csv", "more than once: name"),
        (b"name,,email\nSam,x,y\n", "people.csv", "Column 2 has no name"),
        (b"PK\x03\x04garbage", "people.xlsx", "not an Excel workbook"),
        (b"name,email\nSam,s@example.org\n", "people.xlsx", "not an Excel workbook"),
        (b"{not json", "people.json", "not a JSON file"),
        (b'{"name": "Sam"}', "people.json", "list of rows"),
    ],
)
def test_bad_files_are_refused_with_a_plain_message(data, name, message):
    with pytest.raises(SpreadsheetError) as error:
        read_dataset(data, name)
    assert message in error.value.message


@pytest.mark.parametrize(
    "value", ["=1+1", "+1 416 555", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "''"]
)
def test_neutralise_round_trips(value):
    assert neutralise(value).startswith("'")
    assert unneutralise(neutralise(value)) == value


def test_plain_text_and_numbers_are_left_alone():
    assert neutralise("Sam") == "Sam"
    assert neutralise(-5) == -5
    assert unneutralise("'quoted'") == "'quoted'"


def _dataset():
    import tablib

    dataset = tablib.Dataset(headers=["name", "phone", "start", "count"])
    dataset.append(
        [
            '=HYPERLINK("http://evil")',
            "+1 416",
            dt.datetime(2026, 9, 14, 22, 0, tzinfo=dt.UTC),
            3,
        ]
    )
    return dataset


def test_csv_export_neutralises_formulas_and_has_a_bom():
    content = write_export(_dataset(), "csv")
    assert content.startswith("\ufeff".encode())
    text = content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert ",'+1 416," in text
    assert "2026-09-14 18:00" in text  # wall-clock time in Toronto


def test_xlsx_export_writes_formulas_as_text_cells_and_real_dates():
    book = load_workbook(io.BytesIO(write_export(_dataset(), "xlsx")))
    sheet = book.active
    name, phone, start, count = (cell.value for cell in sheet[2])
    assert name == '=HYPERLINK("http://evil")'
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].quotePrefix
    assert phone == "+1 416"
    assert sheet["B2"].data_type == "s"
    assert start == dt.datetime(2026, 9, 14, 18, 0)
    assert count == 3


@pytest.mark.parametrize(
    "typed", ["=1+1", "-5 people", "+1 416 555 0100", "@home", "=cmd|' /C calc'!A0"]
)
def test_xlsx_shows_exactly_what_was_typed_and_cannot_run_it(typed):
    import tablib

    dataset = tablib.Dataset(headers=["name"])
    dataset.append([typed])
    sheet = load_workbook(io.BytesIO(write_export(dataset, "xlsx"))).active
    assert sheet["A2"].value == typed
    assert sheet["A2"].data_type == "s"


@pytest.mark.parametrize("typed", ["=1+1", "'=1+1", "''", "'quoted'", "Sam"])
def test_xlsx_export_reads_back_as_what_was_typed(typed):
    import tablib

    dataset = tablib.Dataset(headers=["name"])
    dataset.append([typed])
    assert read_dataset(write_export(dataset, "xlsx"), "back.xlsx")[0] == (typed,)


def test_json_export_is_not_neutralised():
    rows = json.loads(write_export(_dataset(), "json"))
    assert rows[0]["name"] == '=HYPERLINK("http://evil")'
    assert rows[0]["start"] == "2026-09-14 18:00"


@pytest.mark.parametrize(
    "value",
    [
        "2026-09-14 18:00",
        "2026-09-14T18:00:00",
        "2026/09/14 18:00",
        "2026-09-14T22:00:00Z",
        "2026-09-14 18:00:00-04:00",
        dt.datetime(2026, 9, 14, 17, 59, 59, 999_999),  # Excel rounding
        46279.75,  # Excel's serial number for that time
    ],
)
def test_datetimes_are_read_in_the_site_zone(value):
    parsed = parse_datetime(value, column_label="start")
    assert parsed == local(2026, 9, 14, 18)


@pytest.mark.parametrize("value", ["", "14/09/2026 18:00", "2026-09-14", "soon", True])
def test_bad_datetimes_name_the_column(value):
    with pytest.raises(ValueError, match="start date and time"):
        parse_datetime(value, column_label="start")
