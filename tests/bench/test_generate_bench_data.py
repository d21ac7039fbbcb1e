"""``generate_bench_data`` builds valid, servable pages with a history."""

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.utils import timezone
from wagtail.models import Page

from attendance import tallies
from attendance.management.commands import generate_bench_data
from attendance.management.commands.generate_bench_data import INDEX_SLUG
from attendance.models import AttendanceRecord, ParticipantSpan, SessionTally
from events.calendars import site_feed_horizon
from events.models import (
    Consent,
    EventIndexPage,
    EventPage,
    EventSession,
    Registration,
    RegistrationMode,
    RegistrationStatus,
    SessionStatus,
)
from tests.conftest import make_event

pytestmark = pytest.mark.django_db


def generate(**options):
    out = io.StringIO()
    call_command(
        "generate_bench_data",
        events=5,
        sessions=40,
        no_search_index=True,
        stdout=out,
        **options,
    )
    return out.getvalue()


@pytest.fixture
def bench(home_page):
    generate()
    return EventIndexPage.objects.get(slug=INDEX_SLUG)


def test_pages_form_a_valid_tree(bench):
    assert Page.find_problems() == ([], [], [], [], [])
    bench.refresh_from_db()
    events = EventPage.objects.child_of(bench)
    assert bench.numchild == events.count() == 5
    assert all(event.live for event in events)
    # A page added the normal way after the bulk ones takes the next path.
    extra = bench.add_child(
        instance=EventPage(title="Added later", slug="added-later", summary="x")
    )
    assert extra.path > max(events.exclude(pk=extra.pk).values_list("path", flat=True))
    assert Page.find_problems() == ([], [], [], [], [])


def test_events_appear_in_the_listing_and_render(bench, client):
    listing = client.get(bench.url)
    assert listing.status_code == 200
    event = EventPage.objects.child_of(bench).order_by("path").first()
    assert event.title in listing.content.decode()
    page = client.get(event.url)
    assert page.status_code == 200
    assert event.summary in page.content.decode()


def test_sessions_lie_in_the_past_and_ahead(bench):
    now = timezone.now()
    sessions = EventSession.objects.filter(event__in=EventPage.objects.child_of(bench))
    assert sessions.count() == 40
    past = sessions.filter(end__lt=now).count()
    assert past == 28  # 70% of 40
    assert sessions.filter(start__gt=now).count() == 12
    assert sessions.filter(status=SessionStatus.CANCELLED).exists()
    every_event_has_both = EventPage.objects.child_of(bench).annotate(
        past=Count("sessions", filter=Q(sessions__end__lt=now)),
        ahead=Count("sessions", filter=Q(sessions__start__gt=now)),
    )
    assert all(e.past and e.ahead for e in every_event_has_both)


def test_attendance_only_for_past_sessions_that_went_ahead(bench):
    records = AttendanceRecord.objects.select_related("session", "registration")
    assert records.count() > 0
    now = timezone.now()
    for record in records:
        assert record.session.end < now
        assert record.session.status != SessionStatus.CANCELLED
        if record.registration:
            assert record.registration.event_id == record.session.event_id
    statuses = Counter(records.values_list("status", flat=True))
    assert {"present", "late", "absent", "excused"} <= set(statuses)
    assert records.filter(registration__isnull=True).exists()  # walk-ins


def test_the_reports_stored_counts_are_filled_in_bulk(bench):
    """The records are written with bulk_create, which sends no signal: the
    stored counts the reports sum are rebuilt after, not left empty."""
    assert SessionTally.objects.count() == (
        AttendanceRecord.objects.values("session_id").distinct().count()
    )
    assert ParticipantSpan.objects.exists()
    assert tallies.differences() == {"session tallies": 0, "participant spans": 0}
    generate(replace=True)
    assert tallies.differences() == {"session tallies": 0, "participant spans": 0}


def test_registrations_respect_capacity_and_waitlist_order(bench):
    assert Registration.objects.filter(status=RegistrationStatus.CANCELLED).exists()
    assert Registration.objects.filter(status=RegistrationStatus.WAITLISTED).exists()
    assert Consent.objects.exists()
    for event in EventPage.objects.child_of(bench):
        registrations = event.registrations.all()
        if event.registration_mode == RegistrationMode.NONE:
            assert not registrations.exists()
            continue
        confirmed = registrations.filter(status=RegistrationStatus.CONFIRMED)
        if event.capacity is not None:
            assert confirmed.count() <= event.capacity
        positions = list(
            registrations.waitlisted().values_list("waitlist_position", flat=True)
        )
        assert positions == list(range(1, len(positions) + 1))
        if positions:
            assert event.waitlist_enabled
            assert confirmed.count() == event.capacity


def test_same_seed_same_rows(home_page):
    generate(seed=7)
    first = list(AttendanceRecord.objects.order_by("pk").values_list("status"))
    generate(seed=7, replace=True)
    again = list(AttendanceRecord.objects.order_by("pk").values_list("status"))
    assert first == again


def test_reset_removes_only_what_it_made(bench, event_index):
    other = make_event(event_index, title="Someone's real group")
    with pytest.raises(CommandError):
        generate()
    bench_events = list(EventPage.objects.child_of(bench).values_list("pk", flat=True))
    generate(replace=True)
    assert not EventPage.objects.filter(pk__in=bench_events).exists()
    assert not Registration.objects.filter(event_id__in=bench_events).exists()
    assert not EventSession.objects.filter(event_id__in=bench_events).exists()
    assert EventPage.objects.filter(pk=other.pk).exists()
    assert EventIndexPage.objects.filter(slug=INDEX_SLUG).count() == 1
    assert Page.find_problems() == ([], [], [], [], [])


def test_feed_topic_holds_the_feed_sessions_asked_for(home_page, monkeypatch):
    # Past sessions count only when they start within the feed's window, so
    # the calendar benchmark's feed is the same size at any past share.
    monkeypatch.setattr(generate_bench_data, "FEED_SESSIONS", 13)
    generate()
    horizon = site_feed_horizon()
    in_feed = EventSession.objects.filter(
        event__tagged_topics__tag__slug=generate_bench_data.FEED_TOPIC,
        start__gte=horizon.earliest,
        start__lt=horizon.latest,
    )
    assert in_feed.count() == 13
    assert in_feed.filter(end__lt=timezone.now()).exists()


def test_people_signed_up_before_the_sessions_and_some_went_unrecorded(bench):
    """Sign-ups precede their event's first session (or today), so the
    reports expect the people at its sessions; a few expected people have no
    record at a session that has records, the reports' "No record"."""
    from django.db.models import Min

    firsts = dict(
        EventSession.objects.values("event_id")
        .annotate(first=Min("start"))
        .values_list("event_id", "first")
    )
    now = timezone.now()
    registrations = Registration.objects.filter(event__in=firsts)
    assert registrations.exists()
    for registration in registrations:
        assert registration.created_at < min(firsts[registration.event_id], now)

    recorded = set(AttendanceRecord.objects.values_list("session_id", flat=True))
    records = set(AttendanceRecord.objects.values_list("session_id", "registration_id"))
    expected = [
        (session.pk, registration.pk)
        for session in EventSession.objects.filter(pk__in=recorded)
        for registration in registrations.filter(
            event_id=session.event_id, status=RegistrationStatus.CONFIRMED
        )
    ]
    missing = [pair for pair in expected if pair not in records]
    assert expected
    assert 0 < len(missing) < len(expected) / 10
