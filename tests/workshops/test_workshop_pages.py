"""The public workshop library."""

import pytest

from tests.conftest import make_event, make_session, make_workshop

pytestmark = pytest.mark.django_db


def test_workshop_page_shows_outline_but_never_facilitator_notes(
    site_client, workshop_index
):
    workshop = make_workshop(
        workshop_index,
        title="Hearing voices",
        safety_notes="Watch for distress; step out with the person.",
    )
    html = site_client.get(workshop.url).content.decode()

    assert "Hearing voices" in html
    assert "Welcome" in html and "(40 min)" in html
    assert "In all: 60 minutes." in html
    assert "Secret note for" not in html
    assert "Watch for distress" not in html


def test_library_lists_published_workshops_only(site_client, workshop_index):
    make_workshop(workshop_index, title="Naloxone training")
    draft = make_workshop(workshop_index, title="Unfinished draft")
    draft.unpublish()

    html = site_client.get(workshop_index.url).content.decode()

    assert "Naloxone training" in html
    assert "Unfinished draft" not in html


def test_workshop_page_lists_upcoming_events_that_deliver_it(
    site_client, workshop_index, event_index
):
    workshop = make_workshop(workshop_index)
    event = make_event(event_index, title="WRAP in spring", workshop=workshop)
    make_session(event)
    make_event(event_index, title="Old WRAP run", workshop=workshop)  # no sessions

    html = site_client.get(workshop.url).content.decode()

    assert "WRAP in spring" in html
    assert "Old WRAP run" not in html


def test_outline_minutes_add_up(workshop_index):
    workshop = make_workshop(
        workshop_index, segments=[("A", 15, "welcome"), ("B", 45, "activity")]
    )
    assert workshop.outline_minutes == 60 == workshop.duration_minutes
    assert [segment["title"] for segment in workshop.segments] == ["A", "B"]
