"""Changing the rest of a series at once (``sessions.change_rest_of_series``):
UIDs kept, sequences raised, past sessions left alone, one message per
person by their own channels, one calendar file with every session, and the
admin screen's preview, refusals and permissions."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core import sms
from events.errors import EventsError
from events.models import (
    CallRequest,
    Channel,
    Delivery,
    EventSession,
    MessageKind,
    SeriesChange,
    SeriesChangeKind,
    SessionStatus,
)
from events.registration import register
from events.sessions import (
    RestOfSeriesChange,
    change_rest_of_series,
    plan_rest_of_series,
)
from tests.conftest import make_event, make_session, make_venue

# Messages go at once whatever the time the tests run (quiet hours hold them).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_quiet_hours")]
TORONTO = ZoneInfo("America/Toronto")
PHONE = "+14165550123"
SESSIONS = 6


def _next_tuesday() -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=(1 - today.weekday()) % 7 or 7)


def _local(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TORONTO)


@pytest.fixture
def series(event_index):
    """A Tuesday 6 pm group with one session over and six to come; two
    people by email, one by text, one only by phone."""
    event = make_event(
        event_index, registration_mode="required", capacity=10, venue=make_venue()
    )
    first = _next_tuesday()
    upcoming = [
        make_session(event, start=_local(first + dt.timedelta(weeks=n), 18))
        for n in range(SESSIONS)
    ]
    people = {
        "ana": register(event=event, name="Ana", email="ana@example.org", notify=False),
        "bo": register(event=event, name="Bo", email="bo@example.org", notify=False),
        "cy": register(
            event=event, name="Cy", phone=PHONE, consent=[Channel.TEXT], notify=False
        ),
        "di": register(event=event, name="Di", phone="+14165550199", notify=False),
    }
    # Added after the sign-ups: a session that has started closes sign-up.
    past = make_session(event, start=_local(first - dt.timedelta(days=14), 18))
    return event, past, upcoming, {k: v.registration for k, v in people.items()}


def _reload(sessions):
    return [EventSession.objects.get(pk=s.pk) for s in sessions]


def _change(series, captured, change, **kwargs):
    event, past, upcoming, people = series
    with captured(execute=True):
        return change_rest_of_series(
            event=event, change=change, from_session=upcoming[0], **kwargs
        )


def test_moving_the_rest_keeps_uids_raises_sequences_and_leaves_the_past(
    series, django_capture_on_commit_callbacks
):
    event, past, upcoming, people = series
    before = {s.pk: (s.uid, s.sequence) for s in [past, *upcoming]}

    record = _change(
        series,
        django_capture_on_commit_callbacks,
        RestOfSeriesChange(kind=SeriesChangeKind.WEEKDAY, weekday=3),
    )

    assert record.sessions.count() == SESSIONS
    for old, new in zip(upcoming, _reload(upcoming), strict=True):
        assert new.uid == before[old.pk][0]
        assert new.sequence == before[old.pk][1] + 1
        assert new.status == SessionStatus.MOVED
        assert new.previous_start == old.start
        local = new.start.astimezone(TORONTO)
        assert local.weekday() == 3  # Thursday
        assert local.time() == dt.time(18)
        assert local.date() - old.start.astimezone(TORONTO).date() == dt.timedelta(2)
    untouched = EventSession.objects.get(pk=past.pk)
    assert (untouched.uid, untouched.sequence) == before[past.pk]
    assert untouched.start == past.start and untouched.status == past.status


def test_a_new_time_of_day_keeps_the_dates(series, django_capture_on_commit_callbacks):
    event, past, upcoming, people = series
    _change(
        series,
        django_capture_on_commit_callbacks,
        RestOfSeriesChange(
            kind=SeriesChangeKind.TIME,
            start_time=dt.time(19, 30),
            end_time=dt.time(21),
        ),
    )
    for old, new in zip(upcoming, _reload(upcoming), strict=True):
        assert new.start == _local(old.start.astimezone(TORONTO).date(), 19, 30)
        assert new.end == _local(old.start.astimezone(TORONTO).date(), 21)


def test_each_person_is_told_once_by_their_own_channels(
    series, django_capture_on_commit_callbacks, sms_outbox
):
    event, past, upcoming, people = series
    venue = make_venue(name="Library, Room 2")
    record = _change(
        series,
        django_capture_on_commit_callbacks,
        RestOfSeriesChange(kind=SeriesChangeKind.VENUE, venue=venue),
    )

    # One email to each person with an address, each listing every session.
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.org", "bo@example.org"]
    for message in mail.outbox:
        assert message.subject == "Sessions have changed"
        assert message.body.count("It is now:") == SESSIONS
        assert message.body.count("Library, Room 2") == SESSIONS
        html = message.alternatives[0][0]
        assert html.count("It is now:") == SESSIONS
    # One text to the person who agreed to texts.
    [text] = sms_outbox
    assert text.to == PHONE
    assert sms.segments(text.body) == 1
    day = upcoming[0].start.astimezone(TORONTO)
    assert f"{SESSIONS} sessions from {day:%a} {day.day} {day:%b} have changed" in (
        text.body
    )
    # The person only a phone call reaches goes on the call list, once.
    [call] = CallRequest.objects.all()
    assert call.registration == people["di"]
    assert call.kind == MessageKind.SERIES_CHANGED
    assert call.series_change == record
    from events.admin_calls import reason_text

    assert reason_text(call).startswith(f"{SESSIONS} sessions from ")
    assert reason_text(call).endswith(": moved (see the sessions)")
    # One delivery per person and channel, none per session.
    assert Delivery.objects.filter(session__isnull=False).count() == 0
    assert Delivery.objects.filter(series_change=record).count() == 3


def _calendar(message):
    [attachment] = message.attachments
    assert attachment.get_content_type() == "text/calendar"
    return icalendar.Calendar.from_ical(attachment.get_payload(decode=True))


def test_the_email_carries_one_calendar_file_with_every_session(
    series, django_capture_on_commit_callbacks
):
    event, past, upcoming, people = series
    _change(
        series,
        django_capture_on_commit_callbacks,
        RestOfSeriesChange(kind=SeriesChangeKind.WEEKDAY, weekday=3),
    )
    calendar = _calendar(mail.outbox[0])
    assert calendar["method"] == "REQUEST"
    vevents = calendar.walk("VEVENT")
    assert len(vevents) == SESSIONS
    assert [str(v["uid"]) for v in vevents] == [s.uid for s in upcoming]
    assert [int(v["sequence"]) for v in vevents] == [s.sequence + 1 for s in upcoming]
    assert all(v["dtstart"].dt.weekday() == 3 for v in vevents)
    assert all(str(v["status"]) == "CONFIRMED" for v in vevents)


def test_cancelling_the_rest(series, django_capture_on_commit_callbacks, sms_outbox):
    event, past, upcoming, people = series
    _change(
        series,
        django_capture_on_commit_callbacks,
        RestOfSeriesChange(kind=SeriesChangeKind.CANCEL),
    )
    assert all(s.status == SessionStatus.CANCELLED for s in _reload(upcoming))
    assert EventSession.objects.get(pk=past.pk).status == past.status
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.body.count(": cancelled") == SESSIONS
    calendar = _calendar(message)
    assert calendar["method"] == "CANCEL"
    vevents = calendar.walk("VEVENT")
    assert len(vevents) == SESSIONS
    assert {str(v["status"]) for v in vevents} == {"CANCELLED"}
    assert [str(v["uid"]) for v in vevents] == [s.uid for s in upcoming]
    [text] = sms_outbox
    assert "are cancelled" in text.body


def test_from_a_later_session_leaves_the_earlier_ones(
    series, django_capture_on_commit_callbacks
):
    event, past, upcoming, people = series
    with django_capture_on_commit_callbacks(execute=True):
        record = change_rest_of_series(
            event=event,
            change=RestOfSeriesChange(kind=SeriesChangeKind.CANCEL),
            from_session=upcoming[3],
        )
    assert record.sessions.count() == SESSIONS - 3
    statuses = [s.status for s in _reload(upcoming)]
    assert statuses[:3] == [SessionStatus.SCHEDULED] * 3
    assert statuses[3:] == [SessionStatus.CANCELLED] * (SESSIONS - 3)


def test_each_session_is_logged(series, django_capture_on_commit_callbacks):
    from wagtail.models import ModelLogEntry

    record = _change(
        series,
        django_capture_on_commit_callbacks,
        RestOfSeriesChange(kind=SeriesChangeKind.WEEKDAY, weekday=4),
    )
    entries = ModelLogEntry.objects.filter(action="events.session.changed")
    assert entries.count() == SESSIONS
    assert {e.data["series_change"] for e in entries} == {record.pk}
    assert all(e.data["moved"] for e in entries)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            RestOfSeriesChange(
                kind=SeriesChangeKind.TIME,
                start_time=dt.time(20),
                end_time=dt.time(19),
            ),
            "end_before_start",
        ),
        (
            RestOfSeriesChange(kind=SeriesChangeKind.WEEKDAY, weekday=1),
            "nothing_changes",
        ),
        (RestOfSeriesChange(kind=SeriesChangeKind.VENUE), "no_venue"),
    ],
)
def test_refused_changes_write_nothing(series, change, code):
    event, past, upcoming, people = series
    with pytest.raises(EventsError) as refused:
        change_rest_of_series(event=event, change=change, from_session=upcoming[0])
    assert refused.value.code == code
    assert not SeriesChange.objects.exists()
    assert [s.sequence for s in _reload(upcoming)] == [s.sequence for s in upcoming]


def test_planning_writes_nothing(series):
    event, past, upcoming, people = series
    planned = plan_rest_of_series(
        event=event,
        change=RestOfSeriesChange(kind=SeriesChangeKind.WEEKDAY, weekday=3),
        from_session=upcoming[2],
    )
    assert [p.session.pk for p in planned] == [s.pk for s in upcoming[2:]]
    assert all(p.start.weekday() == 3 for p in planned)
    assert not SeriesChange.objects.exists()
    assert [s.start for s in _reload(upcoming)] == [s.start for s in upcoming]


def test_a_move_into_the_past_is_refused(series):
    event, past, upcoming, people = series
    # The first session starts in an hour: the day before it has passed.
    first = upcoming[0]
    first.start = timezone.now() + dt.timedelta(hours=1)
    first.end = first.start + dt.timedelta(hours=2)
    first.save()
    with pytest.raises(EventsError) as refused:
        change_rest_of_series(
            event=event,
            change=RestOfSeriesChange(
                kind=SeriesChangeKind.WEEKDAY,
                weekday=(first.start.astimezone(TORONTO).weekday() - 1) % 7,
            ),
            from_session=first,
        )
    assert refused.value.code == "in_the_past"
    assert not SeriesChange.objects.exists()


def test_quiet_hours_do_not_hold_texts_when_the_first_session_is_close(
    series, django_capture_on_commit_callbacks, sms_outbox, settings
):
    import time_machine

    event, past, upcoming, people = series
    # 23:00 the night before the first session: quiet hours, but it starts
    # within the urgent window.
    night = _local(upcoming[0].start.astimezone(TORONTO).date(), 8) - dt.timedelta(
        hours=9
    )
    settings.GATHER_QUIET_HOURS_START = "21:00"
    settings.GATHER_QUIET_HOURS_END = "08:00"
    settings.GATHER_URGENT_CHANGE_HOURS = 24
    with time_machine.travel(night, tick=False):
        _change(
            series,
            django_capture_on_commit_callbacks,
            RestOfSeriesChange(kind=SeriesChangeKind.CANCEL),
        )
    assert len(sms_outbox) == 1


# The admin screen ------------------------------------------------------------


def _form(**overrides):
    return {"change": "weekday", "weekday": "3", "preview": "1"} | overrides


def test_the_preview_lists_each_session_and_who_is_told_and_writes_nothing(
    series, admin_client
):
    event, past, upcoming, people = series
    url = reverse("event_sessions:rest_of_series", args=[upcoming[0].pk])
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, _form(from_session=upcoming[0].pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Preview: {SESSIONS} sessions would change" in html
    assert html.count("Thursday") >= SESSIONS
    assert "2 people with a place will be emailed." in html
    assert "1 person with a place will get a text message." in html
    assert "call list" in html
    assert 'name="apply"' in html
    assert not SeriesChange.objects.exists()
    assert [s.sequence for s in _reload(upcoming)] == [s.sequence for s in upcoming]
    assert mail.outbox == []


def test_apply_changes_the_rest(
    series, admin_client, django_capture_on_commit_callbacks
):
    event, past, upcoming, people = series
    url = reverse("event_sessions:rest_of_series", args=[upcoming[0].pk])
    data = _form(from_session=upcoming[0].pk, apply="1")
    del data["preview"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)
    assert response.status_code == 302
    assert all(s.start.astimezone(TORONTO).weekday() == 3 for s in _reload(upcoming))
    assert len(mail.outbox) == 2


def test_errors_show_next_to_the_field_and_keep_what_was_typed(series, admin_client):
    event, past, upcoming, people = series
    url = reverse("event_sessions:rest_of_series", args=[upcoming[0].pk])
    response = admin_client.post(
        url,
        {
            "from_session": upcoming[0].pk,
            "change": "time",
            "start_time": "20:00",
            "end_time": "",
            "preview": "1",
        },
    )
    form = response.context["form"]
    assert form.errors["end_time"] == ["Give the new end time."]
    assert 'value="20:00"' in response.content.decode()
    # A refusal of the workflow lands next to its field too.
    response = admin_client.post(url, _form(from_session=upcoming[0].pk, weekday="1"))
    assert "nothing would change" in response.context["form"].errors["change"][0]
    assert not SeriesChange.objects.exists()


def test_a_facilitator_of_another_event_is_refused(
    series, client, django_user_model, event_index, facilitators_group
):
    """Even with the permission to change sessions, someone who may not
    edit this event is sent back to the dashboard (the admin's answer to a
    refusal) and nothing changes."""
    event, past, upcoming, people = series
    facilitators_group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(
            content_type__app_label="events", codename="change_eventsession"
        ),
    )
    other = make_event(event_index)
    user = django_user_model.objects.create_user("fac", password="pw")
    user.groups.add(facilitators_group)
    other.facilitators.add(user)
    other.save()
    client.force_login(user)
    url = reverse("event_sessions:rest_of_series", args=[upcoming[0].pk])
    home = reverse("wagtailadmin_home")
    for response in (
        client.get(url),
        client.post(url, _form(from_session=upcoming[0].pk, apply="1")),
    ):
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert response.url == home
    assert not SeriesChange.objects.exists()
    assert [s.sequence for s in _reload(upcoming)] == [s.sequence for s in upcoming]


def test_the_session_edit_screen_links_to_it(series, admin_client):
    event, past, upcoming, people = series
    html = admin_client.get(
        reverse("event_sessions:edit", args=[upcoming[0].pk])
    ).content.decode()
    assert reverse("event_sessions:rest_of_series", args=[upcoming[0].pk]) in html
    assert re.search("Change the rest of the series", html)
