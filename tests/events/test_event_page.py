"""The public event detail page."""

import datetime as dt
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from events.models import Registration, RegistrationStatus
from events.sessions import cancel_session
from tests.conftest import make_event, make_session, make_venue, make_workshop

pytestmark = pytest.mark.django_db


def _start(days):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(18)))


def _register(event, n, status=RegistrationStatus.CONFIRMED):
    for i in range(n):
        Registration.objects.create(
            event=event, name=f"P{i}", status=status, manage_token_hash=uuid.uuid4().hex
        )


def test_shows_sessions_with_cancelled_marked_venue_access_and_facilitators(
    site_client, event_index, facilitators_group
):
    venue = make_venue(
        name="Community Hall",
        room="Room 2",
        step_free=True,
        accessibility_notes="Accessible toilet on this floor.",
    )
    facilitator = get_user_model().objects.create_user(
        "sam", first_name="Sam", last_name="Rivera"
    )
    facilitator.groups.add(facilitators_group)
    event = make_event(event_index, title="WRAP group", venue=venue)
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    make_session(event, start=_start(1))
    cancel_session(session=make_session(event, start=_start(8)), public_note="Holiday")

    html = site_client.get(event.url).content.decode()

    assert "WRAP group" in html
    assert html.count("session-list__item") == 2
    assert "is-cancelled" in html and "Holiday" in html
    assert "Community Hall" in html and "Room 2" in html
    assert "Step-free access" in html and "Accessible toilet" in html
    assert "Sam Rivera" in html


def test_online_joining_link_is_never_public(site_client, event_index):
    online = make_venue(
        setting="online", online_joining_link="https://meet.example/secret"
    )
    event = make_event(event_index, venue=online)
    make_session(event, start=_start(1))
    html = site_client.get(event.url).content.decode()
    assert "meet.example/secret" not in html
    assert "joining link by email" in html


def test_places_left_counts_confirmed_registrations(site_client, event_index):
    event = make_event(event_index, registration_mode="required", capacity=5)
    make_session(event, start=_start(1))
    _register(event, 3)
    _register(event, 2, status=RegistrationStatus.CANCELLED)
    assert "2 places left" in site_client.get(event.url).content.decode()

    _register(event, 2)
    html = site_client.get(event.url).content.decode()
    assert "This event is full." in html and "join the waitlist" in html


def test_a_closed_sign_up_says_why_and_nothing_about_places(site_client, event_index):
    past = make_event(event_index, registration_mode="required", capacity=2)
    make_session(past, start=_start(-3))
    _register(past, 2)
    html = site_client.get(past.url).content.decode()
    assert "already taken place" in html
    assert "full" not in html and "waitlist" not in html and "places left" not in html

    later = make_event(
        event_index,
        registration_mode="required",
        capacity=2,
        registration_opens_at=timezone.now() + dt.timedelta(days=2),
    )
    make_session(later, start=_start(5))
    html = site_client.get(later.url).content.decode()
    assert "Sign-up opens at" in html and "m.." not in html
    assert "places left" not in html and "This event is full" not in html
    _register(later, 2)
    html = site_client.get(later.url).content.decode()
    assert "All the places are already taken; you will be able to join" in html


def test_no_places_shown_when_registration_is_off(site_client, event_index):
    event = make_event(event_index, registration_mode="none", capacity=5)
    html = site_client.get(event.url).content.decode()
    assert "places left" not in html
    assert "just come along" in html


def test_links_the_workshop_it_delivers(site_client, event_index, workshop_index):
    workshop = make_workshop(workshop_index, title="Peer Support 101")
    event = make_event(event_index, workshop=workshop)
    html = site_client.get(event.url).content.decode()
    assert "Peer Support 101" in html and workshop.url in html


def test_detail_query_count_does_not_grow_with_sessions(
    site_client, event_index, settings, django_assert_max_num_queries
):
    """Guards against a query per session (venue) or per facilitator."""
    settings.GATHER_PUBLIC_CACHE_SECONDS = 0  # measures the page being built
    event = make_event(event_index, venue=make_venue())
    make_session(event, start=_start(1), venue=make_venue())
    site_client.get(event.url)
    with django_assert_max_num_queries(15) as few:
        site_client.get(event.url)
    for days in range(2, 12):
        make_session(event, start=_start(days), venue=make_venue())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = site_client.get(event.url)
    assert len(response.context["sessions"]) == 11
