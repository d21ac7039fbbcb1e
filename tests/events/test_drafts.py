"""Draft events as both imports create them: a free slug below the chosen
listing, never published, the first revision logged."""

import pytest
from wagtail.models import PageLogEntry

from events.drafts import change_draft_event, create_draft_event
from events.errors import EventsError
from events.models import EventPage
from tests.conftest import make_event, make_event_index, make_venue
from website.models import StandardPage

pytestmark = pytest.mark.django_db


def test_a_draft_event_is_created_unpublished_with_its_first_revision(
    event_index, admin_user
):
    hall = make_venue(name="Hall")
    event = create_draft_event(
        index=event_index,
        title="WRAP group",
        summary="Plan your wellness.",
        user=admin_user,
        kind="social",
        venue=hall,
        capacity=12,
    )
    event = EventPage.objects.get(pk=event.pk)
    assert not event.live and event.has_unpublished_changes
    assert event.get_parent().pk == event_index.pk
    assert (event.slug, event.summary, event.kind, event.venue, event.capacity) == (
        "wrap-group",
        "Plan your wellness.",
        "social",
        hall,
        12,
    )
    assert event.latest_revision.user == admin_user
    assert PageLogEntry.objects.filter(page=event, action="wagtail.create").exists()


def test_the_slug_is_numbered_when_a_sibling_of_any_type_has_it(event_index, home_page):
    make_event(event_index, title="Walk", slug="walk")
    event_index.add_child(instance=StandardPage(title="Walk-2", slug="walk-2"))

    event = create_draft_event(index=event_index, title="Walk", summary="Walk.")
    again = create_draft_event(index=event_index, title="Walk", summary="Walk.")

    assert (event.slug, again.slug) == ("walk-3", "walk-4")
    # Only siblings count: the same title in another listing keeps its slug.
    other = make_event_index(home_page)
    assert create_draft_event(index=other, title="Walk", summary="Walk.").slug == (
        "walk"
    )


def test_a_title_with_nothing_to_make_a_slug_of_gets_event(event_index):
    first = create_draft_event(index=event_index, title="???", summary="?")
    second = create_draft_event(index=event_index, title="!!!", summary="!")
    assert (first.slug, second.slug) == ("event", "event-2")


def test_the_slug_takes_the_first_60_characters_of_the_title(event_index):
    event = create_draft_event(index=event_index, title="a" * 80, summary="A.")
    assert event.slug == "a" * 60


def test_facilitators_and_the_calendar_it_came_from_are_kept(
    event_index, django_user_model
):
    fran = django_user_model.objects.create_user("fran")
    event = create_draft_event(
        index=event_index,
        title="Book club",
        summary="Read and talk.",
        facilitators=[fran],
        what_to_expect="<p>Where: Back room</p>",
        import_source="Riverside Library",
        import_uid="book-club@library",
    )
    event = EventPage.objects.get(pk=event.pk)
    assert list(event.facilitators.all()) == [fran]
    assert (event.import_source, event.import_uid, event.what_to_expect) == (
        "Riverside Library",
        "book-club@library",
        "<p>Where: Back room</p>",
    )
    assert event.kind == "group"  # the default kind


def test_an_event_needs_a_title(event_index):
    with pytest.raises(EventsError) as refused:
        create_draft_event(index=event_index, title="  ", summary="")
    assert refused.value.code == "no_title"
    assert not EventPage.objects.exists()


def test_changes_are_saved_as_a_draft_and_the_live_page_stays(event_index, admin_user):
    event = make_event(event_index, capacity=8)
    revision = change_draft_event(
        event=event, changes={"capacity": 10, "kind": "social"}, user=admin_user
    )
    event.refresh_from_db()
    assert (event.capacity, event.kind, event.live) == (8, "group", True)
    assert event.has_unpublished_changes
    latest = event.get_latest_revision_as_object()
    assert (latest.capacity, latest.kind) == (10, "social")
    assert event.latest_revision == revision and revision.user == admin_user
