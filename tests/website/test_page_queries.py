"""What serving an event page and the listing costs in queries, and the
privacy check the public cache makes before storing a page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction

from core import public_cache
from events.models import EventPage
from tests.conftest import make_event, make_registration_event, make_session

pytestmark = pytest.mark.django_db


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in queries]


def test_an_event_page_is_routed_with_one_query_for_the_event(site_client, event_index):
    event = make_event(event_index)
    make_session(event)
    site_client.get(event.url)  # makes the site's settings row
    site_client.get(event.url)  # stored
    hit = _queries(site_client, event.url)
    # The site with its home page; the home page's own row; the listing and
    # its own row; the event with its own row in one query (Wagtail's
    # routing reads the page, then its ``.specific`` row: two). Nothing else
    # for a page from the cache.
    assert len(hit) == 5, "\n".join(hit)
    (event_query,) = [s for s in hit if f"'{event.slug}'" in s]
    assert 'FROM "events_eventpage"' in event_query


def test_an_event_page_built_reads_its_facilitators_once(site_client, event_index):
    event = make_registration_event(event_index)
    site_client.get(event.url)  # makes the site's settings row
    public_cache.new_places_generation()
    built = _queries(site_client, event.url)
    users = [s for s in built if s.startswith('SELECT "auth_user"')]
    assert len(users) == 1, "\n".join(users)
    # The counts of places in subqueries: no GROUP BY over the page's columns.
    (loaded,) = [s for s in built if "confirmed_total" in s]
    assert 'GROUP BY "wagtailcore_page"' not in loaded


def test_a_privacy_setting_above_or_on_a_page_keeps_it_out_of_the_cache(
    event_index,
):
    event = make_event(event_index)
    other = make_event(event_index)
    assert not public_cache._restricted(event)
    PageViewRestriction.objects.create(
        page=event_index, restriction_type=PageViewRestriction.LOGIN
    )
    assert public_cache._restricted(event) and public_cache._restricted(other)
    PageViewRestriction.objects.all().delete()
    PageViewRestriction.objects.create(
        page=event, restriction_type=PageViewRestriction.LOGIN
    )
    assert public_cache._restricted(event) and not public_cache._restricted(other)


def test_an_alias_counts_the_privacy_setting_of_the_page_it_copies(
    event_index, home_page
):
    event = make_event(event_index)
    alias = event.create_alias(parent=home_page, update_slug="copied-event")
    assert not public_cache._restricted(alias)
    PageViewRestriction.objects.create(
        page=event, restriction_type=PageViewRestriction.LOGIN
    )
    assert public_cache._restricted(alias)
    assert list(alias.get_view_restrictions()) == list(
        PageViewRestriction.objects.all()
    )


def test_a_previewed_event_names_the_facilitators_it_holds_in_memory(
    event_index, django_user_model, facilitators_group
):
    event = make_event(event_index)
    fay = django_user_model.objects.create_user("fay", first_name="Fay")
    fay.groups.add(facilitators_group)
    left = django_user_model.objects.create_user("left", first_name="Lee")
    event.facilitators.set([fay, left])  # unsaved, as a preview holds them
    assert list(event.leading_facilitators()) == [fay]
    assert list(EventPage.objects.get(pk=event.pk).leading_facilitators()) == []
    event.save()
    assert list(EventPage.objects.get(pk=event.pk).leading_facilitators()) == [fay]
