"""Rows that do not fit the header, and row numbers that are the file's own
lines: a row with too many cells is a problem of its own (the rest of the
file is previewed), short rows are padded with blanks, and blank lines or
line breaks inside quoted cells do not shift the numbers."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.models import Venue
from spreadsheets.formats import read_dataset
from spreadsheets.models import ImportJob
from tests.spreadsheets.support import (
    actions,
    confirm,
    csv_bytes,
    errors,
    make_job,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

#: Line 4 has an unquoted comma in the name: six cells under five names.
SHIFTED = (
    b"name,room,setting,step_free,default_capacity\n"
    b"Riverside Hall,Room 2,community,yes,30\n"
    b"St Mike's,,hospital,no,\n"
    b"Hall A, East wing,Room 1,community,no,12\n"
    b"Library,,community,,\n"
)
TOO_MANY = (
    "Line 4 has 6 cells but the header has 5. A comma inside a name? Put the "
    "name in quotes."
)


def test_a_row_with_too_many_cells_is_reported_by_line_and_the_rest_previewed(
    coordinator,
):
    job = make_job(coordinator, "venues", SHIFTED)
    assert job.status == "previewed", job.message
    assert actions(job) == {2: "new", 3: "new", 4: "problem", 5: "new"}
    assert errors(job) == {4: {"": [TOO_MANY]}}
    assert job.preview["totals"] == {"new": 3, "update": 0, "skip": 0, "problem": 1}
    assert job.preview["errors"] == []


def test_a_row_with_too_many_cells_stops_the_import_unless_asked(coordinator):
    job = confirm(make_job(coordinator, "venues", SHIFTED))
    assert job.status == "failed"
    assert job.message.startswith("Nothing was imported: some rows cannot be read")
    assert not Venue.objects.exists()
    job = confirm(make_job(coordinator, "venues", SHIFTED, skip_invalid=True))
    assert job.status == "done", job.message
    assert "1 row with problems was left out." in job.message
    assert set(Venue.objects.values_list("name", flat=True)) == {
        "Riverside Hall",
        "St Mike's",
        "Library",
    }


def test_the_preview_page_shows_the_line_and_offers_no_import(client, coordinator):
    client.force_login(coordinator)
    client.post(
        reverse("spreadsheets_import", args=["venues"]),
        {"file": SimpleUploadedFile("venues.csv", SHIFTED, "text/csv")},
    )
    job = ImportJob.objects.get()
    page = client.get(reverse("spreadsheets_job", args=[job.pk])).content.decode()
    assert "Line 4 has 6 cells but the header has 5." in page
    assert "Import now" not in page
    assert page.count('<span class="action">New</span>') == 3


@pytest.mark.parametrize(
    ("delimiter", "word"), [(";", "semicolon"), ("\t", "tab"), (",", "comma")]
)
def test_the_message_names_the_file_s_separator(delimiter, word):
    data = f"name{delimiter}setting\nA{delimiter}B{delimiter}C\n".encode()
    dataset = read_dataset(data, "venues.csv")
    assert len(dataset) == 0
    (misshapen,) = dataset.misshapen
    assert misshapen.line == 2
    assert f"A {word} inside a name?" in misshapen.message


def test_empty_cells_at_the_end_of_a_row_are_not_extra_cells():
    dataset = read_dataset(b"name,setting\nHall,community,,\n", "venues.csv")
    assert list(dataset[0]) == ["Hall", "community"]
    assert dataset.misshapen == []


def test_every_row_too_long_is_still_a_preview_not_a_refusal(coordinator):
    data = b"name,setting\nHall, East,community\nRoom, 2,online\n"
    job = make_job(coordinator, "venues", data)
    assert job.status == "previewed", job.message
    assert actions(job) == {2: "problem", 3: "problem"}
    assert confirm(job).status == "failed"
    assert not Venue.objects.exists()


def test_a_short_row_is_padded_with_blanks_like_a_spreadsheet_does(coordinator):
    data = b"name,setting,room\nHall,community\nLibrary\n"
    dataset = read_dataset(data, "venues.csv")
    assert list(dataset[0]) == ["Hall", "community", None]
    job = make_job(coordinator, "venues", data)
    # The padded cells are empty cells: a missing setting is the row's
    # own problem, a missing room is no problem at all.
    assert actions(job) == {2: "new", 3: "problem"}
    assert set(errors(job)[3]) == {"setting"}


def test_row_numbers_are_the_file_s_lines_despite_blank_lines_and_line_breaks(
    coordinator,
):
    data = (
        b"\n"  # line 1: blank, before the header
        b"name,setting,directions\n"  # line 2
        b"Hall,community,\n"  # line 3
        b"\n"  # line 4: blank
        b'Library,community,"Side door,\nthen the lift"\n'  # lines 5 and 6
        b"Clinic,castle,\n"  # line 7
    )
    job = make_job(coordinator, "venues", data)
    assert actions(job) == {3: "new", 5: "new", 7: "problem"}
    assert set(errors(job)) == {7}


def test_messages_about_another_row_name_its_line(coordinator):
    data = b"name,setting\nHall,community\n\n\nhall,community\n"
    job = make_job(coordinator, "venues", data)
    assert errors(job) == {5: {"name": ["The same venue is also on row 2."]}}


def test_xlsx_rows_are_numbered_by_sheet_row_and_extra_cells_reported(coordinator):
    data = xlsx_bytes(
        [
            ["name", "setting"],
            [None, None],
            ["Hall", "community", "stray note"],
            ["Library", "community"],
        ]
    )
    job = make_job(coordinator, "venues", data, "venues.xlsx")
    assert actions(job) == {3: "problem", 4: "new"}
    assert errors(job)[3][""][0].startswith(
        "Row 3 has 3 cells but the first row names only 2 columns."
    )


def test_csv_support_builder_still_quotes_names_with_commas(coordinator):
    """The fix for a comma inside a name: quote it, and the row is read."""
    rows = [["name", "setting"], ["Hall A, East wing", "community"]]
    job = make_job(coordinator, "venues", csv_bytes(rows))
    assert actions(job) == {2: "new"}


def test_confirming_a_preview_with_problems_is_refused(client, coordinator):
    """The page offers no "Import now" then; a POST made anyway changes
    nothing and leaves the preview as it was."""
    client.force_login(coordinator)
    job = make_job(coordinator, "venues", SHIFTED)
    response = client.post(reverse("spreadsheets_confirm", args=[job.pk]), follow=True)
    assert "Nothing was imported: fix the rows with problems" in (
        response.content.decode()
    )
    job.refresh_from_db()
    assert job.status == "previewed"
    assert not Venue.objects.exists()


@pytest.mark.parametrize(
    ("key", "data", "column", "label"),
    [
        (
            "venues",
            b"id,name,setting\n99999999999999999999,A,community\n",
            "id",
            "id",
        ),
        (
            "venues",
            b"name,setting,default_capacity\nA,community,99999999999999999999\n",
            "default_capacity",
            "default capacity",
        ),
        (
            "schedule",
            b"event,start,end,capacity\n"
            b"Talk,2026-12-10 18:00,2026-12-10 19:00,99999999999999999999\n",
            "capacity",
            "capacity",
        ),
        (
            "registrations",
            b"name,email,event_id\nAna,a@example.org,99999999999999999999\n",
            "event_id",
            "event_id",
        ),
    ],
)
def test_a_number_too_large_to_store_is_the_row_s_problem_not_a_crash(
    admin_user, event_index, key, data, column, label
):
    """Such numbers overflowed the database (OverflowError on SQLite) and
    failed the row, or the whole import, with "Something went wrong"."""
    options = {"parent": event_index.pk} if key == "schedule" else {}
    job = make_job(admin_user, key, data, options=options)
    assert job.status == "previewed", job.message
    assert errors(job)[2][column] == [
        f"{label} is too large: write a number up to 2,147,483,647."
    ]


def test_a_quotation_mark_never_closed_does_not_swallow_rows_silently(coordinator):
    """The reader takes every line after an unclosed quote as one cell: the
    row would be padded and imported, and the rows it swallowed lost."""
    data = (
        b"name,setting,room\n"
        b"Hall,community,1\n"
        b'"Library,community,2\n'
        b"Clinic,hospital,3\n"
        b"Centre,community,4\n"
    )
    job = make_job(coordinator, "venues", data)
    assert actions(job) == {2: "new", 3: "problem"}
    assert errors(job)[3][""] == [
        "Line 3 has a cell that runs over 3 lines, which leaves the row with too "
        'few cells. Is a quotation mark (") missing its pair? Everything after it '
        "is read as one cell."
    ]
    assert confirm(job).status == "failed"
    assert not Venue.objects.exists()


def test_a_full_row_with_a_multi_line_cell_is_read_as_it_is():
    data = b'name,directions,room\nHall,"Side door,\nthen the lift",\n'
    dataset = read_dataset(data, "venues.csv")
    assert list(dataset[0]) == ["Hall", "Side door,\nthen the lift", ""]
    assert dataset.misshapen == []
