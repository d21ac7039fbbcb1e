"""What one public sign-up POST costs in queries, and that the cheaper
queries decide what the longer ones did: privacy of the page and the pages
above it, questions, the person already registered, places held by offers."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import PageViewRestriction

from events.models import PlaceOffer, PlaceOfferStatus, Registration
from tests.conftest import make_registration_event, sign_up

# The same form as the sign-up view tests, with their fresh rate limit.
from tests.events.test_sign_up_views import VALID, _fresh_rate_limit  # noqa: F401

pytestmark = pytest.mark.django_db


def _statements(queries):
    """The SQL of ``queries`` without transaction and savepoint statements."""
    skipped = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN")
    return [q["sql"] for q in queries if not q["sql"].startswith(skipped)]


def test_a_sign_up_post_reads_the_event_once_and_the_registrations_once(
    site_client, event_index
):
    event = make_registration_event(event_index, capacity=5)
    ContentType.objects.get_for_model(Registration)  # cached, as in a warm process
    with CaptureQueriesContext(connection) as queries:
        assert site_client.post(event.sign_up_url, VALID).status_code == 302
    sql = _statements(queries)
    # In one transaction: the event with its privacy and whether it asks
    # questions, read under its row lock; its sessions with the person and
    # the places counted in the same statement; the INSERTs of the
    # registration, its consent and its audit entry (the email's task row is
    # one more with the database task backend, which the tests do not use).
    # No separate read of the site's privacy settings, nor of the questions
    # of an event that has none, nor a second read of the event for its
    # lock, nor of the sessions apart from the counts. It was ten, then
    # seven.
    assert len(sql) == 5, "\n".join(sql)
    assert not [s for s in sql if s.startswith('SELECT "wagtailcore_pageviewrestric')]
    assert not [s for s in sql if 'FROM "events_registrationquestion"' in s[:400]]
    reads = [s for s in sql if s.startswith("SELECT")]
    assert len(reads) == 2, "\n".join(reads)
    event, counted = reads
    assert 'FROM "events_eventpage"' in event
    assert "wagtailcore_pageviewrestriction" in event
    if connection.vendor == "postgresql":
        assert 'FOR UPDATE OF "events_eventpage"' in event
    # The counts are subqueries of the sessions' query, after the lock.
    assert 'FROM "events_registration"' in counted
    assert counted.split(" FROM ")[-1].startswith('"events_eventsession"')
    # Every statement in the one transaction, the inserts last.
    assert [s.split(" ")[0] for s in sql] == ["SELECT"] * 2 + ["INSERT"] * 3
    begins = [q for q in queries if q["sql"].startswith("BEGIN")]
    assert len(begins) <= 1
    assert Registration.objects.get().status == "confirmed"


def test_a_privacy_setting_on_a_page_above_the_event_hides_its_sign_up(
    site_client, event_index
):
    event = make_registration_event(event_index)
    PageViewRestriction.objects.create(
        page=event_index, restriction_type=PageViewRestriction.LOGIN
    )
    assert site_client.get(event.sign_up_url).status_code == 404
    assert site_client.post(event.sign_up_url, VALID).status_code == 404
    assert not Registration.objects.exists()


def test_a_privacy_setting_elsewhere_hides_nothing(site_client, event_index):
    event = make_registration_event(event_index)
    other = make_registration_event(event_index)
    PageViewRestriction.objects.create(
        page=other, restriction_type=PageViewRestriction.LOGIN
    )
    assert site_client.get(event.sign_up_url).status_code == 200
    assert site_client.post(event.sign_up_url, VALID).status_code == 302


def test_a_place_held_by_an_offer_is_taken_for_a_newcomer(site_client, event_index):
    event = make_registration_event(event_index, capacity=1, waitlist_offer_hours=24)
    waiting = sign_up(event, "Ana", email="ana@example.org")
    waiting.status = "waitlisted"
    waiting.waitlist_position = 1
    waiting.save()
    PlaceOffer.objects.create(
        registration=waiting,
        status=PlaceOfferStatus.OPEN,
        expires_at=timezone.now() + dt.timedelta(hours=24),
        token_salt="salt",
        token_hash="0" * 64,
    )
    assert site_client.post(event.sign_up_url, VALID).status_code == 302
    newcomer = Registration.objects.get(email="sam@example.org")
    assert (newcomer.status, newcomer.waitlist_position) == ("waitlisted", 2)


def test_a_repeat_in_other_letters_is_the_same_person(site_client, event_index):
    event = make_registration_event(event_index, capacity=5)
    assert site_client.post(event.sign_up_url, VALID).status_code == 302
    again = VALID | {"email": "SAM@Example.org"}
    assert site_client.post(event.sign_up_url, again).status_code == 302
    assert Registration.objects.count() == 1
