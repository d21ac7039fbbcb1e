"""Querysets compiled once and run again with new values (``core.prepared``):
the same rows and instances as the ORM gives, the SQL built only once, and
the lookups it cannot run again refused rather than answered wrongly."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, Value
from django.db.models.functions import Upper
from django.db.models.lookups import Exact
from django.test.utils import CaptureQueriesContext

from core.prepared import PreparedQuery, PreparedQueryError
from events.models import EventPage, EventSession, Registration
from tests.conftest import make_registration_event, make_session, sign_up

pytestmark = pytest.mark.django_db


def test_instances_match_the_orm_with_deferred_fields_and_annotations(event_index):
    event = make_registration_event(event_index, capacity=3)
    other = make_registration_event(event_index, capacity=None)
    query = PreparedQuery(
        lambda pk: (
            EventPage.objects.only("title", "capacity")
            .annotate(
                has_sessions=Exists(
                    EventSession.objects.filter(event_id=OuterRef("pk"))
                )
            )
            .filter(pk=pk)
        ),
        int,
    )
    for page in (event, other, event):
        found = query.first(page.pk)
        assert isinstance(found, EventPage)
        assert (found.pk, found.title, found.capacity) == (
            page.pk,
            page.title,
            page.capacity,
        )
        assert found.has_sessions is True
        assert found.get_deferred_fields() >= {"summary", "waitlist_enabled"}
    assert query.first(-1) is None


def test_the_sql_is_built_once_and_every_run_is_a_query(event_index):
    event = make_registration_event(event_index)
    calls = []

    def build(event_id):
        calls.append(event_id)
        return EventSession.objects.filter(event_id=event_id).order_by("start")

    query = PreparedQuery(build, int)
    with CaptureQueriesContext(connection) as queries:
        first = query.objects(event.pk)
        second = query.objects(event.pk)
    assert len(calls) == 1
    assert len(queries) == 2
    assert [s.pk for s in first] == [s.pk for s in second]
    assert [s.pk for s in first] == list(
        event.sessions.order_by("start").values_list("pk", flat=True)
    )
    # Datetimes come back through the backend's converters, as from the ORM.
    assert first[0].start == event.sessions.get().start
    assert isinstance(first[0].start, dt.datetime)


def test_rows_convert_values_and_repeat_an_argument(event_index):
    event = make_registration_event(event_index, capacity=5)
    make_session(event)
    sign_up(event, email="Ana@Example.org")
    sign_up(event, email="bo@example.org")

    def build(event_id, email):
        same = Q(Exact(Upper("email"), Upper(Value(email))))
        return (
            Registration.objects.filter(event_id=event_id)
            .order_by()
            .values("event_id")
            .annotate(
                same=Count("pk", filter=same),
                total=Count("pk"),
                # The event's id a second time in the SQL.
                here=Count("pk", filter=Q(event_id=event_id)),
            )
            .values_list("same", "total", "here")
        )

    query = PreparedQuery(build, int, str)
    assert query.rows(event.pk, "ana@EXAMPLE.org") == [(1, 2, 2)]
    assert query.rows(event.pk, "cy@example.org") == [(0, 2, 2)]
    # LIKE's special characters are compared as they are.
    assert query.rows(event.pk, "_na@example.org") == [(0, 2, 2)]
    assert query.rows(-1, "ana@example.org") == []


def test_a_lookup_that_rewrites_its_value_is_refused():
    query = PreparedQuery(
        lambda email: Registration.objects.filter(email__icontains=email), str
    )
    with pytest.raises(PreparedQueryError):
        query.rows("sam")


def test_an_argument_left_out_of_the_sql_is_refused():
    query = PreparedQuery(lambda pk: Registration.objects.all(), int)
    with pytest.raises(PreparedQueryError):
        query.rows(1)


def test_unsupported_kinds_and_wrong_arguments_are_refused():
    with pytest.raises(PreparedQueryError):
        PreparedQuery(lambda when: Registration.objects.all(), dt.datetime)
    query = PreparedQuery(lambda pk: Registration.objects.filter(pk=pk), int)
    with pytest.raises(TypeError):
        query.rows()


def test_insert_sets_ids_and_matches_bulk_create(event_index):
    from django.utils import timezone

    from core.prepared import insert
    from events.models import Consent

    event = make_registration_event(event_index)
    people = [sign_up(event, email=f"p{n}@example.org") for n in range(3)]
    Consent.objects.all().delete()
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        one = insert([Consent(registration=people[0], channel="email", given_at=now)])
        two = insert(
            [
                Consent(registration=person, channel="text", given_at=now)
                for person in people[1:]
            ]
        )
    assert len(queries) == 2
    saved = {
        (c.pk, c.registration_id, c.channel) for c in Consent.objects.order_by("pk")
    }
    assert saved == {(c.pk, c.registration_id, c.channel) for c in one + two}
    assert all(c.pk and not c._state.adding for c in one + two)
    # Again: the statement is reused.
    (again,) = insert([Consent(registration=people[1], channel="email", given_at=now)])
    assert Consent.objects.get(pk=again.pk).registration_id == people[1].pk
    assert insert([]) == []


@pytest.mark.django_db(transaction=True)
def test_a_locking_query_is_refused_outside_a_transaction_every_time():
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    query = PreparedQuery(
        lambda pk: Registration.objects.select_for_update().filter(pk=pk), int
    )
    with transaction.atomic():
        assert query.rows(-1) == []
    for _ in range(2):
        if connection.features.has_select_for_update:
            with pytest.raises(TransactionManagementError):
                query.rows(-1)
        else:  # SQLite: no row locks, as with the ORM
            assert query.rows(-1) == []
