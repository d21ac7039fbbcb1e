"""What one cancellation through a manage link costs in queries: the same
however long the waitlist behind it, and the waitlist still numbered 1..n in
its order afterwards."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Registration
from events.registration import _renumber_waitlist, manage_token
from tests.conftest import make_registration_event, sign_up

pytestmark = pytest.mark.django_db


def _statements(queries):
    """The SQL of ``queries`` without transaction and savepoint statements."""
    skipped = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN")
    return [q["sql"] for q in queries if not q["sql"].startswith(skipped)]


def _waitlist(event):
    return list(
        Registration.objects.filter(event=event, status="waitlisted")
        .order_by("waitlist_position")
        .values_list("name", "waitlist_position")
    )


def _event_with_waitlist(event_index, waiting):
    """An event with one place, taken by Ana, and ``waiting`` people after her."""
    event = make_registration_event(event_index, capacity=1)
    ana = sign_up(event, "Ana", support_needs="A seat by the door")
    people = [sign_up(event, f"W{n}") for n in range(waiting)]
    assert [p.status for p in people] == ["waitlisted"] * waiting
    ContentType.objects.get_for_model(Registration)  # cached, as in a warm process
    return event, ana, people


def _cancel_post(client, registration):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/manage/{manage_token(registration)}/cancel/")
    assert response.status_code == 302
    return _statements(queries)


@pytest.mark.parametrize("waiting", [3, 30])
def test_leaving_the_waitlist_costs_the_same_however_long_it_is(
    site_client, event_index, waiting
):
    event, _, people = _event_with_waitlist(event_index, waiting)
    sql = _cancel_post(site_client, people[0])
    # The registration by its token; the event's lock; the registration
    # again under it; its UPDATE; the positions; the people behind it moved
    # up in two UPDATEs; an open offer closed; the audit entry. It was one
    # UPDATE more for everyone behind them.
    assert len(sql) == 9, "\n".join(sql)
    # The POST reads the registration alone: the event comes with the lock.
    assert 'JOIN "events_eventpage"' not in sql[0]
    assert sum('FROM "events_eventpage"' in s for s in sql) == 1
    assert _waitlist(event) == [(f"W{n}", n) for n in range(1, waiting)]


@pytest.mark.parametrize("waiting", [3, 30])
def test_giving_up_a_place_costs_the_same_however_long_the_waitlist(
    site_client, event_index, waiting
):
    event, ana, people = _event_with_waitlist(event_index, waiting)
    sql = _cancel_post(site_client, ana)
    # As leaving the waitlist, without the offer, with the places count and
    # the first person waiting read and given the place; their audit entry
    # and the cancellation's in one INSERT.
    assert len(sql) == 11, "\n".join(sql)
    log_inserts = [s for s in sql if 'INTO "wagtailcore_modellogentry"' in s]
    assert len(log_inserts) == 1
    people[0].refresh_from_db()
    assert people[0].status == "confirmed"
    assert _waitlist(event) == [(f"W{n}", n) for n in range(1, waiting)]


def test_a_cancellation_writes_only_what_changed(site_client, event_index):
    _, ana, _ = _event_with_waitlist(event_index, 1)
    stored = Registration.objects.filter(pk=ana.pk).values_list(
        "support_needs", flat=True
    )
    # Read without decrypting: the raw token in the column.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT support_needs FROM events_registration WHERE id = %s", [ana.pk]
        )
        (before,) = cursor.fetchone()
    sql = _cancel_post(site_client, ana)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT support_needs FROM events_registration WHERE id = %s", [ana.pk]
        )
        (after,) = cursor.fetchone()
    # A full save would have encrypted them again (a new token each time).
    assert after == before
    assert list(stored) == ["A seat by the door"]
    (own_update,) = [
        s
        for s in sql
        if s.startswith('UPDATE "events_registration" SET "status"')
        and s.endswith(f'WHERE "events_registration"."id" = {ana.pk}')
    ]
    assert "support_needs" not in own_update


def test_renumbering_closes_every_gap_in_order(event_index):
    event = make_registration_event(event_index, capacity=0)
    people = [sign_up(event, f"W{n}") for n in range(6)]
    # Positions 2, 3, 5, 8, 9, 12: gaps of different lengths, moved last
    # first so the unique constraint holds while they are set.
    for person, position in reversed(
        list(zip(people, [2, 3, 5, 8, 9, 12], strict=True))
    ):
        Registration.objects.filter(pk=person.pk).update(waitlist_position=position)
    with CaptureQueriesContext(connection) as queries:
        _renumber_waitlist(event)
    assert _waitlist(event) == [(f"W{n}", n + 1) for n in range(6)]
    # The read, everyone above the highest position, then one UPDATE per
    # distance moved (1, 2, 4 and 6): not one per person.
    assert len(queries) == 6


def test_renumbering_a_waitlist_without_gaps_writes_nothing(event_index):
    event = make_registration_event(event_index, capacity=0)
    for n in range(4):
        sign_up(event, f"W{n}")
    with CaptureQueriesContext(connection) as queries:
        _renumber_waitlist(event)
    assert len(queries) == 1
    assert _waitlist(event) == [(f"W{n}", n + 1) for n in range(4)]
