"""What saving attendance costs in queries: one UPDATE per changed record
and every audit entry of the save in one INSERT, however many changed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import ModelLogEntry

from attendance.models import AttendanceRecord
from tests.conftest import make_registration_event, sign_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def facilitator(django_user_model, facilitators_group):
    user = django_user_model.objects.create_user("fac", password="pw")
    user.groups.add(facilitators_group)
    return user


@pytest.fixture
def session(event_index, facilitator):
    event = make_registration_event(event_index, capacity=10, title="WRAP group")
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    return event.sessions.get()


def _post(client, session, statuses):
    url = reverse("facilitate_attendance", args=[session.pk])
    data = {f"status-{person.pk}": status for person, status in statuses.items()}
    with CaptureQueriesContext(connection) as queries:
        assert client.post(url, data).status_code == 302
    return [q["sql"] for q in queries]


@pytest.mark.parametrize("people", [2, 6])
def test_changes_are_logged_in_one_insert(
    client, session, facilitator, time_machine, people
):
    group = [sign_up(session.event, f"P{n}") for n in range(people)]
    time_machine.move_to(session.start)
    client.force_login(facilitator)
    _post(client, session, dict.fromkeys(group, "present"))

    sql = _post(client, session, dict.fromkeys(group, "late"))
    updates = [s for s in sql if s.startswith('UPDATE "attendance_attendancerecord"')]
    log_insert = 'INSERT INTO "wagtailcore_modellogentry"'
    inserts = [s for s in sql if s.startswith(log_insert)]
    assert len(updates) == people
    # The changes and the session's entry together; no look-ups of the
    # user or content type per entry (Wagtail's ``log`` validates each).
    assert len(inserts) == 1
    assert not [s for s in sql if s.startswith('SELECT 1 AS "a" FROM "auth_user"')]
    assert AttendanceRecord.objects.filter(status="late").count() == people
    changes = ModelLogEntry.objects.filter(action="attendance.record.changed")
    assert sorted(changes.values_list("object_id", flat=True)) == sorted(
        str(r.pk) for r in AttendanceRecord.objects.all()
    )
    for change in changes:
        assert change.user == facilitator
        assert change.label == f"Attendance record {change.object_id}"
        assert change.data["from"] == "present" and change.data["to"] == "late"
    recorded = ModelLogEntry.objects.filter(
        action="attendance.session.recorded"
    ).order_by("pk")
    assert [e.data["count"] for e in recorded] == [people, people]


def test_the_session_page_reads_its_records_once(
    client, session, facilitator, time_machine
):
    ana, ben = sign_up(session.event, "Ana"), sign_up(session.event, "Ben")
    time_machine.move_to(session.start)
    client.force_login(facilitator)
    _post(client, session, {ana: "present", ben: "late"})
    AttendanceRecord.objects.create(session=session, walk_in_name="Walk-in Wes")
    url = reverse("facilitate_session", args=[session.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    html = response.content.decode()
    reads = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT")
        and 'FROM "attendance_attendancerecord"' in q["sql"]
    ]
    assert len(reads) == 1  # the registrants' records and the walk-ins'
    assert f'name="status-{ana.pk}" value="present" checked' in html
    assert f'name="status-{ben.pk}" value="late" checked' in html
    assert "Walk-in Wes" in html
    assert html.count("> Present</label>") == 3
