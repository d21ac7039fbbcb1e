"""Venue spreadsheets: import (bulk), row errors, all-or-nothing, re-import,
round trip in every format, permissions and the audit log."""

import csv
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from wagtail.models import ModelLogEntry

from events.models import Venue
from tests.conftest import make_venue
from tests.spreadsheets.support import (
    actions,
    csv_bytes,
    errors,
    export,
    import_file,
    make_job,
)

pytestmark = pytest.mark.django_db

HEADER = [
    "name",
    "room",
    "setting",
    "step_free",
    "default_capacity",
    "online_joining_link",
]
GOOD = [
    HEADER,
    ["Riverside Hall", "Room 2", "community", "yes", "30", ""],
    ["St Mike's", "", "Hospital", "no", "", ""],
    ["Zoom room", "", "online", "", "", "https://meet.example.org/x"],
]


def test_valid_import_creates_venues(coordinator):
    job = import_file(coordinator, "venues", csv_bytes(GOOD))
    assert job.status == "done", job.message
    assert actions(job) == {2: "new", 3: "new", 4: "new"}
    hall = Venue.objects.get(name="Riverside Hall")
    assert (hall.room, hall.setting, hall.step_free, hall.default_capacity) == (
        "Room 2",
        "community",
        True,
        30,
    )
    assert Venue.objects.get(name="St Mike's").setting == "hospital"
    assert job.data == b""  # the file is not kept once imported


def test_reimport_changes_nothing_and_updates_what_changed(coordinator):
    import_file(coordinator, "venues", csv_bytes(GOOD))
    again = import_file(coordinator, "venues", csv_bytes(GOOD))
    assert set(actions(again).values()) == {"skip"}
    changed = [HEADER, ["riverside hall", "room 2", "community", "no", "40", ""]]
    job = import_file(coordinator, "venues", csv_bytes(changed))
    assert actions(job) == {2: "update"}
    hall = Venue.objects.get(name="riverside hall")  # found in any case
    assert (hall.step_free, hall.default_capacity) == (False, 40)
    assert Venue.objects.count() == 3


def test_an_exported_venue_can_be_renamed_by_its_id(client, coordinator):
    hall = make_venue(name="Hall", room="Room 1", setting="community")
    client.force_login(coordinator)
    text = export(client, "venues").content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    row[header.index("room")] = "Room 2"
    job = import_file(coordinator, "venues", csv_bytes([header, row]))
    assert job.status == "done", job.message
    assert actions(job) == {2: "update"}
    hall.refresh_from_db()
    assert hall.room == "Room 2" and Venue.objects.count() == 1
    stale = [["id", "name", "setting"], ["999", "X", "community"]]
    job = make_job(coordinator, "venues", csv_bytes(stale))
    assert "No venue has this id" in errors(job)[2]["id"][0]


def test_every_kind_of_row_error_is_reported_by_column(coordinator):
    make_venue(name="Twin", room="A")
    make_venue(name="Twin", room="A")
    rows = [
        HEADER,
        ["", "", "community", "", "", ""],
        ["Hall", "", "castle", "", "", ""],
        ["Hall 2", "", "community", "maybe", "", ""],
        ["Hall 3", "", "community", "", "lots", ""],
        ["Hall 4", "", "online", "", "", ""],
        ["Hall 5", "", "online", "", "", "not a link"],
        ["Hall 6", "", "community", "", "", ""],
        ["Hall 6", "", "community", "", "", ""],
        ["Twin", "A", "community", "", "", ""],
        ["x" * 121, "", "community", "", "", ""],
    ]
    job = make_job(coordinator, "venues", csv_bytes(rows))
    found = errors(job)
    assert "needs a name" in found[2]["name"][0]
    assert "setting must be one of" in found[3]["setting"][0]
    assert "yes or no" in found[4]["step_free"][0]
    assert "whole number" in found[5]["default_capacity"][0]
    assert "joining link" in found[6]["online_joining_link"][0]
    assert "URL" in found[7]["online_joining_link"][0]
    assert 8 not in found and "also on row 8" in found[9]["name"][0]
    assert "More than one venue" in found[10]["name"][0]
    assert "under 120" in found[11]["name"][0]
    assert job.preview["totals"]["problem"] == 9


def test_one_bad_row_imports_nothing_unless_asked(coordinator):
    rows = [*GOOD, ["Bad", "", "castle", "", "", ""]]
    job = make_job(coordinator, "venues", csv_bytes(rows))
    assert job.status == "previewed"
    assert not Venue.objects.exists()  # the check is a dry run
    from tests.spreadsheets.support import confirm

    job = confirm(job)
    assert job.status == "failed"
    assert not Venue.objects.exists()
    partial = import_file(coordinator, "venues", csv_bytes(rows), skip_invalid=True)
    assert partial.status == "done"
    assert Venue.objects.count() == 3
    assert "1 row with problems was left out" in partial.message


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "json"])
def test_round_trip_changes_nothing(client, coordinator, file_format):
    make_venue(name="=cmd|' /C calc'!A0", room="-1", address="1 Main St\nToronto")
    make_venue(name="Hall", setting="online", online_joining_link="https://x.example")
    make_venue(name="Ward", setting="hospital", step_free=True, default_capacity=12)
    before = list(Venue.objects.order_by("pk").values())
    client.force_login(coordinator)
    response = export(client, "venues", file_format)
    assert response.status_code == 200
    job = import_file(coordinator, "venues", response.content, f"venues.{file_format}")
    assert job.status == "done", (job.message, errors(job))
    assert set(actions(job).values()) == {"skip"}
    assert list(Venue.objects.order_by("pk").values()) == before


def test_csv_export_neutralises_formulas(client, coordinator):
    make_venue(name='=HYPERLINK("http://evil")', room="@room")
    client.force_login(coordinator)
    text = export(client, "venues").content.decode("utf-8-sig")
    assert '"\'=HYPERLINK(""http://evil"")",\'@room,' in text


def test_export_keeps_listing_filters_and_is_logged(client, coordinator):
    make_venue(name="Ward", setting="hospital")
    make_venue(name="Hall", setting="community")
    client.force_login(coordinator)
    response = export(client, "venues", setting="hospital")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].split(",")[1] == "Ward"
    entry = ModelLogEntry.objects.get(action="spreadsheets.export")
    assert entry.user == coordinator
    assert entry.content_type == ContentType.objects.get_for_model(ContentType)
    assert entry.data["rows"] == 1
    assert entry.data["filters"] == {"setting": "hospital"}
    assert entry.data["resource"] == "venues"


def test_import_is_logged(coordinator):
    import_file(coordinator, "venues", csv_bytes(GOOD))
    entry = ModelLogEntry.objects.get(action="spreadsheets.import")
    assert (entry.user, entry.data["new"], entry.data["rows"]) == (coordinator, 3, 3)


def test_people_without_venue_permissions_may_not(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("editor", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    from django.urls import reverse

    # Wagtail answers a refusal by sending people back to the dashboard.
    response = export(client, "venues")
    assert response.status_code == 302 and not response.has_header(
        "Content-Disposition"
    )
    response = client.get(reverse("spreadsheets_import", args=["venues"]))
    assert response.status_code == 302
    assert not ModelLogEntry.objects.filter(action="spreadsheets.export").exists()
