"""The site feed's ETag: the stored public content version, so a calendar
app's poll costs one single-row read, and every change to what the feed
shows gives a new ETag.

Changes commit before the version goes up (``content_changed`` puts it up
in a statement of its own afterwards), so each change here runs inside
``django_capture_on_commit_callbacks(execute=True)``, which runs what a
commit would."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import PageViewRestriction, Site

from core import public_cache
from core.models import PublicContentVersion, SiteSettings
from events.models import EventSession
from events.sessions import (
    cancel_session,
    generate_weekly_series,
    reinstate_session,
    reschedule_session,
)
from tests.conftest import (
    make_event,
    make_registration_event,
    make_session,
    make_venue,
    sign_up,
)

pytestmark = pytest.mark.django_db
FEED = "/calendar/events.ics"


def _start(days, hour=18):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def feed(site_client, event_index, settings, django_capture_on_commit_callbacks):
    """An event with a session in the feed, and ``changes(change, path)``:
    whether ``change()`` gives ``path`` (the site feed by default) a new
    ETag. The answer before is checked to be a 304 first."""
    settings.GATHER_PUBLIC_CACHE_SECONDS = 0  # the view itself answers
    # Committed too, so no change is left waiting for a commit.
    with django_capture_on_commit_callbacks(execute=True):
        venue = make_venue(name="Library")
        event = make_event(
            event_index, title="Walking group", venue=venue, topics=["a"]
        )
        session = make_session(event, start=_start(3))

    def changes(change, path=FEED):
        etag = site_client.get(path)["ETag"]
        assert site_client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
        with django_capture_on_commit_callbacks(execute=True):
            change()
        again = site_client.get(path, HTTP_IF_NONE_MATCH=etag)
        if again.status_code == 304:
            return False
        assert again.status_code == 200 and again["ETag"] != etag
        return True

    changes.event, changes.session, changes.venue = event, session, venue
    changes.index = event_index
    return changes


def test_a_new_session_changes_it(feed):
    assert feed(lambda: make_session(feed.event, start=_start(5)))


def test_a_series_of_sessions_changes_it(feed):
    # bulk_create sends no post_save: generate_series says so itself.
    def add_series():
        generate_weekly_series(
            event=feed.event,
            first_date=timezone.localdate() + dt.timedelta(days=8),
            start_time=dt.time(10),
            end_time=dt.time(11),
            weeks=3,
        )

    assert feed(add_series)


def test_a_moved_session_changes_it(feed):
    def move():
        reschedule_session(
            session=feed.session,
            start=_start(4),
            end=_start(4) + dt.timedelta(hours=1),
            notify=False,
        )

    assert feed(move)


def test_a_cancelled_and_a_reinstated_session_change_it(feed):
    assert feed(lambda: cancel_session(session=feed.session, notify=False))
    assert feed(lambda: reinstate_session(session=feed.session))


def test_a_deleted_session_changes_it(feed):
    assert feed(lambda: EventSession.objects.filter(pk=feed.session.pk).delete())


def test_a_session_note_changes_it(feed):
    def note():
        feed.session.public_note = "Bring water"
        feed.session.save()

    assert feed(note)


def test_an_edited_and_published_event_changes_it(feed):
    def retitle():
        feed.event.title = "Walking club"
        feed.event.save_revision().publish()

    assert feed(retitle)


def test_an_unpublished_event_changes_it(feed):
    assert feed(lambda: feed.event.unpublish())


def test_a_deleted_event_changes_it(feed):
    assert feed(lambda: feed.event.delete())


def test_a_moved_event_changes_it(feed, home_page):
    from tests.conftest import make_event_index

    other = make_event_index(home_page, title="Elsewhere")
    assert feed(lambda: feed.event.move(other, pos="last-child"))


def test_a_privacy_setting_changes_it(feed):
    def restrict():
        PageViewRestriction.objects.create(
            page=feed.event, restriction_type=PageViewRestriction.LOGIN
        )

    assert feed(restrict)


def test_an_edited_venue_changes_it(feed):
    def rename():
        feed.venue.name = "Central library"
        feed.venue.save()

    assert feed(rename)


def test_a_topic_taken_off_changes_the_filtered_feed(feed):
    def untag():
        feed.event.topics.remove("a")
        feed.event.save_revision().publish()

    assert feed(untag, path=FEED + "?topic=a")


def test_a_new_event_changes_it(feed):
    assert feed(
        lambda: make_session(make_event(feed.index, title="Book club"), start=_start(6))
    )


def test_a_sign_up_does_not_change_it(
    feed, no_quiet_hours, django_capture_on_commit_callbacks
):
    """The feed shows no places: sign-ups keep calendar apps' 304s."""
    with django_capture_on_commit_callbacks(execute=True):
        event = make_registration_event(feed.index, capacity=5)
        # Made on first use (the confirmation email reads it), as it is
        # long before the first sign-up on a real site.
        SiteSettings.for_site(Site.objects.get(is_default_site=True))
    assert not feed(lambda: sign_up(event))


def test_a_rolled_back_change_leaves_it(feed):
    """The version goes up only after a change commits."""
    from django.db import transaction

    def rolled_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            make_session(feed.event, start=_start(5))
            raise RuntimeError

    before = public_cache.content_version()
    assert not feed(rolled_back)
    assert public_cache.content_version() == before


def test_its_filters_are_in_the_etag(feed, site_client):
    plain = site_client.get(FEED)["ETag"]
    filtered = site_client.get(FEED + "?topic=a")["ETag"]
    assert plain != filtered


def test_the_version_row_is_made_when_missing(feed, django_capture_on_commit_callbacks):
    PublicContentVersion.objects.all().delete()
    assert public_cache.content_version() == (0, None)
    with django_capture_on_commit_callbacks(execute=True):
        public_cache.content_changed()
    number, changed_at = public_cache.content_version()
    assert number == 1 and changed_at is not None


def test_a_304_is_one_query_of_one_row(feed, site_client):
    """The conditional GET reads the version, not the sessions: its queries
    are the topic list (the filter form) and the version, whatever the
    number of sessions."""
    for days in range(5, 30):
        make_session(feed.event, start=_start(days))
    etag = site_client.get(FEED)["ETag"]
    with CaptureQueriesContext(connection) as queries:
        assert site_client.get(FEED, HTTP_IF_NONE_MATCH=etag).status_code == 304
    sql = " ".join(q["sql"] for q in queries)
    assert "core_publiccontentversion" in sql
    assert "events_eventsession" not in sql
