"""Public caching (core/public_cache.py): what is served from the shared
cache, what never is, and what makes an entry stale."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import PageViewRestriction

from core import public_cache
from events.listing import EventFilterForm
from events.models import LISTING_FILTERS, EventIndexPage, EventPage
from events.registration import RegistrationBatch
from events.sessions import cancel_session, generate_weekly_series, reschedule_session
from tests.conftest import (
    make_event,
    make_registration_event,
    make_session,
    make_venue,
    make_workshop,
    sign_up,
)

pytestmark = pytest.mark.django_db

#: Wagtail's routing (the site, each page on the path) and nothing else: a
#: page from the cache costs no more than finding it.
HIT_QUERY_LIMIT = 7
FEED = "/calendar/events.ics"
VALID = {
    "name": "Sam Rivera",
    "email": "sam@example.org",
    "phone": "",
    "support_needs": "",
    "consent_email": "on",
    "website": "",
}


def _start(days, hour=18):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _get(client, url, **extra):
    """GET ``url``; returns the response and the queries it made."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200, response.status_code
    return response, len(queries.captured_queries)


def _warm(client, url, **extra):
    """The first request makes the site's settings row; the second stores."""
    client.get(url, **extra)
    client.get(url, **extra)


def _from_cache(response):
    """Whether a page came from the cache: nothing was rendered for it."""
    return response.templates == []


def _html(client, url):
    return client.get(url).content.decode()


# Served from the cache ------------------------------------------------------


def test_listing_is_served_from_the_cache_the_second_time(site_client, event_index):
    event = make_event(event_index, venue=make_venue(), topics=["recovery"])
    for days in range(1, 6):
        make_session(event, start=_start(days))
    site_client.get(event_index.url)  # makes the site's settings row
    first, built = _get(site_client, event_index.url)
    second, cached = _get(site_client, event_index.url)
    assert not _from_cache(first) and _from_cache(second)
    assert second.content == first.content
    assert cached <= HIT_QUERY_LIMIT < built
    assert "no-cache" in second["Cache-Control"] and second["ETag"] == first["ETag"]
    again = site_client.get(event_index.url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_event_and_workshop_pages_are_cached(site_client, event_index, workshop_index):
    workshop = make_workshop(workshop_index)
    event = make_event(event_index, workshop=workshop)
    make_session(event)
    for url in (event.url, workshop.url, workshop_index.url):
        _warm(site_client, url)
        response, queries = _get(site_client, url)
        assert _from_cache(response) and queries <= HIT_QUERY_LIMIT


def test_site_feed_is_served_from_the_cache_without_queries(site_client, event_index):
    make_session(make_event(event_index), start=_start(3))
    first, _built = _get(site_client, FEED)
    second, cached = _get(site_client, FEED)
    assert second.content == first.content and cached == 0
    assert second["ETag"] == first["ETag"]
    assert second["Cache-Control"] == first["Cache-Control"]
    with CaptureQueriesContext(connection) as queries:
        polled = site_client.get(FEED, HTTP_IF_NONE_MATCH=first["ETag"])
    assert polled.status_code == 304 and queries.captured_queries == []


def test_a_first_poll_with_an_etag_stores_the_feed_and_answers_304(
    site_client, event_index
):
    make_session(make_event(event_index), start=_start(3))
    etag = site_client.get(FEED)["ETag"]
    public_cache.new_generation()  # as after a change elsewhere
    assert site_client.get(FEED, HTTP_IF_NONE_MATCH=etag).status_code == 304
    response, queries = _get(site_client, FEED)
    assert queries == 0 and response["ETag"] == etag


def test_event_and_session_feeds_are_cached(site_client, event_index):
    event = make_event(event_index)
    session = make_session(event)
    for url in (event.calendar_url, f"/calendar/session-{session.pk}.ics"):
        site_client.get(url)
        _response, queries = _get(site_client, url)
        assert queries == 0


def test_turned_off_with_zero_seconds(site_client, event_index, settings):
    settings.GATHER_PUBLIC_CACHE_SECONDS = 0
    make_session(make_event(event_index))
    _warm(site_client, event_index.url)
    response, queries = _get(site_client, event_index.url)
    assert not _from_cache(response) and queries > HIT_QUERY_LIMIT
    site_client.get(FEED)
    assert _get(site_client, FEED)[1] > 0


# Places left ---------------------------------------------------------------


def test_places_left_are_fresh_after_each_sign_up(site_client, event_index):
    event = make_registration_event(event_index, capacity=3)
    _warm(site_client, event.url)
    assert "3 places left" in _html(site_client, event.url)
    response = site_client.post(event.sign_up_url, VALID)
    assert response.status_code == 302
    assert "2 places left" in _html(site_client, event.url)
    sign_up(event)
    assert "1 place left" in _html(site_client, event.url)
    response, _queries = _get(site_client, event.url)
    assert _from_cache(response)  # and cached again


def test_places_left_are_fresh_after_a_cancellation_and_an_import(
    site_client, event_index
):
    from events.registration import cancel

    event = make_registration_event(event_index, capacity=3)
    someone = sign_up(event)
    _warm(site_client, event.url)
    assert "2 places left" in _html(site_client, event.url)
    cancel(registration=someone)
    assert "3 places left" in _html(site_client, event.url)
    batch = RegistrationBatch([event], notify=False)  # bulk_create: no signals
    batch.add(event=event, name="Ana", email="ana@example.org")
    batch.add(event=event, name="Bo", email="bo@example.org")
    batch.save()
    assert "1 place left" in _html(site_client, event.url)


def test_sign_ups_keep_the_feeds_and_workshop_pages_but_not_the_listing(
    site_client, event_index, workshop_index
):
    """Places left are shown only on the listing and event pages: a sign-up
    or a cancellation makes those be built again, while the feeds and the
    workshop pages (no places on them) stay in the cache."""
    from events.registration import cancel

    workshop = make_workshop(workshop_index)
    event = make_registration_event(event_index, capacity=3, workshop=workshop)
    kept = (FEED, event.calendar_url, workshop.url)
    rebuilt = (event.url, event_index.url)
    for url in (*kept, *rebuilt):
        _warm(site_client, url)
    someone = sign_up(event)
    cancel(registration=someone)
    for url in kept:
        response, queries = _get(site_client, url)
        assert queries <= HIT_QUERY_LIMIT and not response.templates, url
    assert _get(site_client, FEED)[1] == 0
    for url in rebuilt:
        response, _queries = _get(site_client, url)
        assert not _from_cache(response), url
    assert "3 places left" in _html(site_client, event.url)


# Invalidation ----------------------------------------------------------------


def test_publishing_unpublishing_and_deleting_reach_the_listing(
    site_client, event_index
):
    event = make_event(event_index, title="Art group")
    make_session(event)
    _warm(site_client, event_index.url)
    _warm(site_client, event.url)

    draft = event.get_latest_revision_as_object()
    draft.title = "Art and craft group"
    draft.save_revision().publish()
    assert "Art and craft group" in _html(site_client, event_index.url)
    assert "Art and craft group" in _html(site_client, event.url)

    EventPage.objects.get(pk=event.pk).unpublish()
    assert "Art and craft group" not in _html(site_client, event_index.url)
    assert site_client.get(event.url).status_code == 404

    EventPage.objects.get(pk=event.pk).save_revision().publish()
    assert "Art and craft group" in _html(site_client, event_index.url)
    EventPage.objects.get(pk=event.pk).delete()
    assert "Art and craft group" not in _html(site_client, event_index.url)


def test_moving_a_page_reaches_both_listings(site_client, home_page, event_index):
    from tests.conftest import make_event_index

    other = make_event_index(home_page, title="Other events")
    event = make_event(event_index, title="Walking group")
    make_session(event)
    _warm(site_client, event_index.url)
    _warm(site_client, other.url)
    EventPage.objects.get(pk=event.pk).move(other, pos="last-child")
    assert "Walking group" not in _html(site_client, event_index.url)
    assert "Walking group" in _html(site_client, other.url)


def test_session_changes_reach_the_listing_the_page_and_the_feed(
    site_client, event_index
):
    event = make_event(event_index)
    session = make_session(event, start=_start(2))
    for url in (event_index.url, event.url, FEED):
        _warm(site_client, url)

    reschedule_session(
        session=session, start=_start(2, hour=19), end=_start(2, hour=21)
    )
    assert "7:00 p.m." in _html(site_client, event_index.url)
    assert "7:00 p.m." in _html(site_client, event.url)
    assert "SEQUENCE:1" in _html(site_client, FEED)

    cancel_session(session=EventPage.objects.get(pk=event.pk).sessions.get())
    assert "Cancelled" in _html(site_client, event_index.url)
    assert "STATUS:CANCELLED" in _html(site_client, FEED)


def test_a_new_series_reaches_the_listing(site_client, event_index):
    event = make_event(event_index, title="Weekly circle")
    _warm(site_client, event_index.url)
    assert "Weekly circle" not in _html(site_client, event_index.url)
    generate_weekly_series(  # bulk_create: no signals
        event=event,
        first_date=timezone.localdate() + dt.timedelta(days=1),
        start_time=dt.time(18),
        end_time=dt.time(19),
        weeks=3,
    )
    assert _html(site_client, event_index.url).count('"session-card__title"') == 3


def test_venue_and_site_settings_changes_reach_cached_pages(site_client, event_index):
    from core.models import SiteSettings

    venue = make_venue(name="Old library")
    event = make_event(event_index, venue=venue)
    make_session(event)
    _warm(site_client, event_index.url)
    venue.name = "New library"
    venue.save()
    assert "New library" in _html(site_client, event_index.url)
    settings_row = SiteSettings.objects.get()
    settings_row.crisis_line_text = "Talk to someone at any time."
    settings_row.save()
    assert "Talk to someone at any time." in _html(site_client, event_index.url)


def test_a_privacy_setting_added_later_is_obeyed_at_once(site_client, event_index):
    event = make_event(event_index, title="Closed circle")
    make_session(event)
    _warm(site_client, event.url)
    _warm(site_client, event_index.url)
    PageViewRestriction.objects.create(
        page=event, restriction_type=PageViewRestriction.LOGIN
    )
    assert site_client.get(event.url).status_code == 302  # to the sign-in page
    assert "Closed circle" not in _html(site_client, event_index.url)


def test_an_entry_ends_when_sign_up_opens(site_client, event_index, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    event = make_registration_event(
        event_index, registration_opens_at=timezone.now() + dt.timedelta(minutes=2)
    )
    _warm(site_client, event.url)
    assert "Sign-up opens at" in _html(site_client, event.url)
    assert _from_cache(site_client.get(event.url))
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=3), tick=False)
    html = _html(site_client, event.url)
    assert "Sign-up opens at" not in html and "2 places left" in html


def test_a_session_leaves_the_listing_when_it_ends(
    site_client, event_index, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    event = make_event(event_index, title="Morning check-in")
    now = timezone.now()
    make_session(
        event, start=now - dt.timedelta(hours=1), end=now + dt.timedelta(minutes=1)
    )
    _warm(site_client, event_index.url)
    assert "Morning check-in" in _html(site_client, event_index.url)
    time_machine.move_to(now + dt.timedelta(minutes=2), tick=False)
    assert "Morning check-in" not in _html(site_client, event_index.url)


# Never cached ----------------------------------------------------------------


def test_drafts_are_never_shown_and_previews_never_stored(site_client, event_index):
    event = make_event(event_index, title="Live title")
    make_session(event)
    _warm(site_client, event.url)
    draft = event.get_latest_revision_as_object()
    draft.title = "Draft title"
    draft.save_revision()  # saved, not published
    assert "Live title" in _html(site_client, event.url)

    preview = draft.make_preview_request()
    assert "Draft title" in preview.content.decode()
    assert "Draft title" not in _html(site_client, event.url)


def test_a_preview_request_is_neither_read_from_nor_written_to_the_cache(
    site_client, event_index
):
    event = make_event(event_index)
    make_session(event)
    _warm(site_client, event.url)
    request = RequestFactory().get(event.url, HTTP_HOST="localhost")
    request.is_preview = True
    rendered = []

    def serve(page, request, args, kwargs):
        rendered.append(page)
        return HttpResponse("preview")

    for _ in range(2):
        response = public_cache.serve_page(serve, event, request, (), {})
        assert response.content == b"preview"
        assert "private" in response["Cache-Control"]
    assert len(rendered) == 2


def test_pages_behind_a_privacy_setting_are_never_stored(site_client, event_index):
    event = make_event(event_index, title="Password group")
    make_session(event)
    restriction = PageViewRestriction.objects.create(
        page=event, restriction_type=PageViewRestriction.PASSWORD, password="opensesame"
    )
    site_client.post(
        f"/_util/authenticate_with_password/{restriction.pk}/{event.pk}/",
        {"password": "opensesame", "return_url": event.url},
    )
    site_client.get(event.url)
    for _ in range(2):
        response, queries = _get(site_client, event.url)
        assert "Password group" in response.content.decode()
        assert not _from_cache(response) and queries > HIT_QUERY_LIMIT
        assert "private" in response["Cache-Control"]
    # Nobody else gets it from the cache: they are asked for the password.
    other = Client(HTTP_HOST="localhost").get(event.url)
    assert not _from_cache(other) and 'name="password"' in other.content.decode()


def test_signed_in_people_are_served_uncached_with_the_userbar(
    site_client, event_index, admin_user
):
    event = make_event(event_index)
    make_session(event)
    _warm(site_client, event.url)
    staff = Client(HTTP_HOST="localhost")
    staff.force_login(admin_user)
    for _ in range(2):
        response = staff.get(event.url)
        assert not _from_cache(response)
        assert "wagtail-userbar" in response.content.decode()
        assert "private" in response["Cache-Control"]
    anonymous = site_client.get(event.url)
    assert _from_cache(anonymous)
    assert "wagtail-userbar" not in anonymous.content.decode()


def test_the_facilitators_private_feed_is_never_cached(
    client, event_index, django_user_model
):
    from django.contrib.auth.models import Group

    from events.calendars import feed_token

    user = django_user_model.objects.create_user("fac")
    user.groups.add(Group.objects.get_or_create(name="Facilitators")[0])
    event = make_event(event_index)
    event.facilitators.add(user)
    event.save_revision().publish()
    make_session(event)
    url = f"/calendar/facilitator/{feed_token(user)}.ics"
    client.get(url)
    for _ in range(2):
        response, queries = _get(client, url)
        assert queries > 0 and response["Cache-Control"].startswith("private")


def test_manage_and_sign_up_pages_are_never_cached(site_client, event_index):
    event = make_registration_event(event_index)
    for _ in range(3):
        response, queries = _get(site_client, event.sign_up_url)
        assert not _from_cache(response) and "no-store" in response["Cache-Control"]


def _view_counting(calls, body):
    @public_cache.cache_public_view()
    def view(request):
        calls.append(request)
        return body(request)

    return view


def _anonymous_request(path="/calendar/test.ics", **extra):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get(path, HTTP_HOST="localhost", **extra)
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda r: HttpResponse(get_token(r)), id="csrf-token"),
        pytest.param(lambda r: HttpResponse(status=404), id="not-found"),
        pytest.param(lambda r: _with_cookie(HttpResponse("x")), id="sets-a-cookie"),
        pytest.param(
            lambda r: _with_header(HttpResponse("x"), "private, max-age=60"),
            id="private",
        ),
        pytest.param(
            lambda r: _with_header(HttpResponse("x"), "no-store"), id="no-store"
        ),
    ],
)
def test_responses_that_belong_to_one_person_are_never_stored(body):
    calls = []
    view = _view_counting(calls, body)
    for _ in range(2):
        view(_anonymous_request())
    assert len(calls) == 2


def _with_cookie(response):
    response.set_cookie("name", "value")
    return response


def _with_header(response, cache_control):
    response["Cache-Control"] = cache_control
    return response


def test_requests_with_messages_waiting_bypass_the_cache():
    calls = []
    view = _view_counting(calls, lambda r: HttpResponse("page"))
    view(_anonymous_request())
    view(_anonymous_request())
    assert len(calls) == 1  # stored, then read
    waiting = _anonymous_request()
    messages.success(waiting, "Your place is cancelled.")
    view(waiting)
    assert len(calls) == 2
    posted = RequestFactory().post("/calendar/test.ics", HTTP_HOST="localhost")
    view(posted)
    assert len(calls) == 3


def test_a_failing_cache_serves_the_page_uncached(site_client, event_index):
    event = make_event(event_index, title="Still here")
    make_session(event)
    with mock.patch.object(
        public_cache, "_cache", side_effect=ConnectionError("cache down")
    ):
        assert "Still here" in _html(site_client, event_index.url)
        assert "Still here" in _html(site_client, FEED)
        # A change while the cache is down still saves.
        event.save_revision().publish()


# CSRF ------------------------------------------------------------------------


def _csrf_token(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_two_visitors_never_share_a_csrf_token_and_both_can_sign_up(event_index):
    event = make_registration_event(event_index, capacity=5)
    first = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    second = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    _warm(first, event.url)
    page = second.get(event.url)
    assert _from_cache(page)
    assert "csrftoken" not in page.cookies  # a cached page sets no cookie
    tokens = []
    for visitor in (first, second):
        form = visitor.get(event.sign_up_url)
        assert "csrftoken" in form.cookies
        tokens.append(_csrf_token(form.content.decode()))
    assert tokens[0] != tokens[1]
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    for n, (visitor, token) in enumerate(zip((first, second), tokens, strict=True)):
        posted = visitor.post(
            event.sign_up_url,
            VALID | {"email": f"person{n}@example.org", "csrfmiddlewaretoken": token},
        )
        assert posted.status_code == 302
    assert "3 places left" in _html(first, event.url)


# Keys --------------------------------------------------------------------------


def test_keys_vary_by_filters_and_ignore_other_parameters(site_client, event_index):
    group = make_event(event_index, kind="group", title="Hearing voices group")
    social = make_event(event_index, kind="social", title="Games night")
    make_session(group)
    make_session(social)
    url = event_index.url
    _warm(site_client, f"{url}?kind=group")
    grouped = site_client.get(f"{url}?kind=group")
    assert _from_cache(grouped)
    html = grouped.content.decode()
    assert "Hearing voices group" in html and "Games night" not in html

    socials = site_client.get(f"{url}?kind=social")
    assert not _from_cache(socials)
    assert "Games night" in socials.content.decode()

    junk = site_client.get(f"{url}?utm_source=news&kind=group&fbclid=abc")
    assert _from_cache(junk) and junk.content == grouped.content
    assert "utm_source" not in junk.content.decode()
    # The last value counts, as the form reads it; empty ones are no filter.
    repeated = site_client.get(f"{url}?kind=social&kind=group&q=&setting=")
    assert _from_cache(repeated) and repeated.content == grouped.content


def test_parameter_order_does_not_matter(site_client, event_index):
    make_session(make_event(event_index, kind="group", title="Online peer group"))
    url = event_index.url
    _warm(site_client, f"{url}?kind=group&setting=community")
    response = site_client.get(f"{url}?setting=community&kind=group")
    assert _from_cache(response)


@pytest.mark.parametrize(
    "query",
    [
        "date_from=yesterday&page=abc",
        "kind=%3Cscript%3E&topic=" + "x" * 300,
        "page=99999999999999999999&date_to=2026-02-30",
        "q=" + "word " * 100,
        "setting=%00",
    ],
)
def test_bad_values_never_fail_cached_or_not(site_client, event_index, query):
    make_session(make_event(event_index))
    for _ in range(3):
        response = site_client.get(f"{event_index.url}?{query}")
        assert response.status_code == 200
        assert "<script>" not in response.content.decode()


def test_feed_keys_vary_by_filters(site_client, event_index):
    make_session(make_event(event_index, kind="group", title="Group one"))
    make_session(make_event(event_index, kind="social", title="Social one"))
    site_client.get(f"{FEED}?kind=group")
    assert "Social one" not in _html(site_client, f"{FEED}?kind=group")
    assert "Group one" not in _html(site_client, f"{FEED}?kind=social")
    assert _get(site_client, f"{FEED}?kind=group&junk=1")[1] == 0


def test_the_listing_reads_exactly_the_parameters_its_key_holds():
    assert tuple(EventFilterForm.base_fields) == LISTING_FILTERS
    assert EventIndexPage.public_cache_params == (*LISTING_FILTERS, "page")
