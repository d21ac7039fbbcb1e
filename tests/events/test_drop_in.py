"""Drop-in sign-up: places, waitlists and lists per session of an event."""

import datetime as dt
import re

import icalendar
import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attendance import pdfs, records
from attendance.errors import AttendanceError
from attendance.reports import ReportFilters, build_reports
from events import drop_in
from events.errors import EventsError
from events.models import (
    Channel,
    MessageKind,
    Registration,
    RegistrationStatus,
    SentReminder,
)
from events.registration import cancel, manage_token, promote_waitlist, register
from events.sessions import cancel_session
from tests.conftest import make_event, make_session, sign_up

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Sam Rivera",
    "email": "sam@example.org",
    "phone": "",
    "support_needs": "",
    "consent_email": "on",
    "website": "",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


def _at(days, hour=18):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def make_drop_in(index, *, capacity=2, waitlist=True, dates=3, **overrides):
    """A published per-session event with ``dates`` weekly sessions from
    tomorrow; returns the event and its sessions in date order."""
    event = make_event(
        index,
        registration_mode="required",
        capacity=capacity,
        waitlist_enabled=waitlist,
        sign_up_per="session",
        **overrides,
    )
    sessions = [make_session(event, start=_at(1 + 7 * week)) for week in range(dates)]
    return event, sessions


def book(event, sessions, name="Sam", email=None, **fields):
    """``register_sessions`` for one person; returns their registrations."""
    email = email or f"{name.lower().replace(' ', '.')}@example.org"
    results = drop_in.register_sessions(
        event=event,
        session_ids=[s.pk for s in sessions],
        name=name,
        email=email,
        **fields,
    )
    return [result.registration for result in results]


def statuses(session):
    return list(
        Registration.objects.filter(session=session)
        .order_by("pk")
        .values_list("status", "waitlist_position")
    )


# Capacity and waitlist per session ------------------------------------------


def test_capacity_and_waitlist_count_per_session(event_index):
    event, (first, second, _third) = make_drop_in(event_index, capacity=2)

    for name in ("Ana", "Ben", "Cal", "Dee"):
        book(event, [first], name=name)
    book(event, [second], name="Eve")

    assert statuses(first) == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    # The other date still has its own places: the first one's people do
    # not count against it.
    assert statuses(second) == [("confirmed", None)]
    places = drop_in.places_by_session([first, second])
    assert places[first.pk].label == "Full, join the waitlist"
    assert places[second.pk].label == "1 place left"


def test_a_full_date_without_a_waitlist_is_refused_and_nothing_is_kept(event_index):
    event, (first, second, _third) = make_drop_in(
        event_index, capacity=1, waitlist=False
    )
    book(event, [first], name="Ana")

    with pytest.raises(EventsError) as refused:
        book(event, [second, first], name="Ben")

    assert refused.value.code == "session_full"
    assert not Registration.objects.filter(email="ben@example.org").exists()


def test_several_dates_in_one_go_each_with_its_own_link_and_one_message(
    event_index, site_client, django_capture_on_commit_callbacks
):
    event, (first, second, third) = make_drop_in(event_index, capacity=1)
    book(event, [second], name="Ana")  # the second date is now full

    with django_capture_on_commit_callbacks(execute=True):
        response = site_client.post(
            event.sign_up_url, VALID | {"sessions": [str(first.pk), str(second.pk)]}
        )

    assert response.status_code == 302
    mine = list(
        Registration.objects.filter(email="sam@example.org").order_by("session__start")
    )
    assert [(r.session_id, r.status, r.waitlist_position) for r in mine] == [
        (first.pk, "confirmed", None),
        (second.pk, "waitlisted", 1),
    ]
    assert len({r.manage_token_hash for r in mine}) == 2
    assert third.pk not in {r.session_id for r in mine}
    # One message lists both dates and where each stands, with each link.
    [message] = [m for m in mail.outbox if m.to == ["sam@example.org"]]
    assert message.subject == "Your dates"
    assert "you have a place" in message.body
    assert "number 1 on the waitlist" in message.body
    for registration in mine:
        assert f"/manage/{manage_token(registration)}/" in message.body
    # Discreet: the subject names no group.
    assert event.title not in message.subject
    # Its calendar file has the date with a place only.
    [(_name, ics, _type)] = message.attachments
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")]
    assert uids == [first.uid]


def test_a_repeat_sign_up_for_a_date_already_held_adds_no_second_place(
    event_index, django_capture_on_commit_callbacks
):
    event, (first, second, _third) = make_drop_in(event_index, capacity=5)
    with django_capture_on_commit_callbacks(execute=True):
        [held] = book(event, [first], name="Sam Rivera", email="Sam@Example.org")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        again = book(event, [first, second], name="Sam", email="sam@example.org")

    assert again[0].pk == held.pk
    assert Registration.objects.filter(session=first).count() == 1
    assert Registration.objects.filter(session=second).count() == 1
    # The message lists both dates, the one held before too.
    [message] = mail.outbox
    assert message.body.count("See or cancel this date") == 2

    # Everything already held: nothing new, and no second message today.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        book(event, [first, second], name="Sam", email="sam@example.org")
        book(event, [first, second], name="Sam", email="sam@example.org")
    assert Registration.objects.filter(event=event).count() == 2
    assert len(mail.outbox) == 1


def test_cancelling_one_date_promotes_only_that_dates_waitlist(
    event_index, django_capture_on_commit_callbacks
):
    event, (first, second, _third) = make_drop_in(event_index, capacity=1)
    [ana_first, _ana_second] = book(event, [first, second], name="Ana")
    [ben_first, ben_second] = book(event, [first, second], name="Ben")
    [cal_first, cal_second] = book(event, [first, second], name="Cal")

    with django_capture_on_commit_callbacks(execute=True):
        cancelled = cancel(registration=ana_first)

    assert [r.pk for r in cancelled.promoted] == [ben_first.pk]
    ben_first.refresh_from_db()
    cal_first.refresh_from_db()
    assert (ben_first.status, ben_first.waitlist_position) == ("confirmed", None)
    assert (cal_first.status, cal_first.waitlist_position) == ("waitlisted", 1)
    # The other date is untouched: Ana keeps it, Ben and Cal still wait.
    assert statuses(second) == [
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    ben_second.refresh_from_db()
    assert ben_second.waitlist_position == 1
    # Ben is told of the date that opened, not of the other one.
    promoted = [m for m in mail.outbox if m.subject.startswith("Good news")]
    assert [m.to for m in promoted] == [["ben@example.org"]]
    [(_name, ics, _type)] = promoted[0].attachments
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")]
    assert uids == [first.uid]

    # Leaving one date's waitlist closes the gap on that date only.
    cancel(registration=cal_second)
    assert statuses(second)[1:] == [("waitlisted", 1), ("cancelled", None)]


def test_raising_capacity_promotes_each_dates_waitlist(event_index):
    from events.registration import change_capacity

    event, (first, second, _third) = make_drop_in(event_index, capacity=1)
    book(event, [first, second], name="Ana")
    book(event, [first, second], name="Ben")
    book(event, [first], name="Cal")

    promoted = change_capacity(event=event, capacity=2)

    assert sorted((r.session_id, r.name) for r in promoted) == [
        (first.pk, "Ben"),
        (second.pk, "Ben"),
    ]
    assert statuses(first)[2] == ("waitlisted", 1)
    assert promote_waitlist(event=event) == []


# Forged and stale choices ------------------------------------------------------


def _dates_error(response):
    html = response.content.decode()
    match = re.search(r'<p class="field__error" id="id_sessions_error">(.*?)</p>', html)
    return match.group(1) if match else None


def test_forged_and_stale_dates_are_refused_next_to_the_dates(event_index, site_client):
    event, (first, second, third) = make_drop_in(event_index)
    other_event, (other_session, *_rest) = make_drop_in(event_index)
    past = make_session(event, start=timezone.now() - dt.timedelta(days=2))
    cancel_session(session=third)

    for forged in (str(other_session.pk), str(past.pk), str(third.pk), "abc", "-1"):
        response = site_client.post(
            event.sign_up_url, VALID | {"sessions": [str(first.pk), forged]}
        )
        assert response.status_code == 200
        assert "not open for sign-up" in _dates_error(response)
        # What was typed is kept.
        assert 'value="Sam Rivera"' in response.content.decode()
    response = site_client.post(event.sign_up_url, VALID)
    assert "Please choose at least one date." in _dates_error(response)
    assert not Registration.objects.filter(event__in=[event, other_event]).exists()


def test_the_workflow_refuses_dates_of_another_event_past_and_cancelled(
    event_index,
):
    """The form's list is checked again under the lock: a date can be
    cancelled or start between showing the form and sending it."""
    event, (first, second, third) = make_drop_in(event_index)
    _other, (other_session, *_rest) = make_drop_in(event_index)
    cancel_session(session=third)

    cases = [
        ([other_session], "bad_session"),
        ([third], "session_cancelled"),
        (["x"], "bad_session"),
        ([], "no_session"),
    ]
    for sessions, code in cases:
        with pytest.raises(EventsError) as refused:
            drop_in.register_sessions(
                event=event,
                session_ids=[getattr(s, "pk", s) for s in sessions],
                name="Sam",
                email="sam@example.org",
            )
        assert refused.value.code == code
    with time_machine.travel(second.start + dt.timedelta(minutes=1)):
        with pytest.raises(EventsError) as refused:
            book(event, [first, second])
    assert refused.value.code in {"session_past", "closed"}
    assert not Registration.objects.filter(event=event).exists()


def test_a_drop_in_takes_no_whole_series_sign_up(event_index):
    event, _sessions = make_drop_in(event_index)
    with pytest.raises(EventsError) as refused:
        register(event=event, name="Sam", email="sam@example.org")
    assert refused.value.code == "session_missing"


def test_sign_up_stays_open_after_the_first_date(event_index, site_client):
    event, (first, second, _third) = make_drop_in(event_index)
    with time_machine.travel(first.end + dt.timedelta(hours=1)):
        response = site_client.get(event.sign_up_url)
        html = response.content.decode()
        assert f'value="{second.pk}"' in html
        assert f'value="{first.pk}"' not in html


def test_sign_up_per_cannot_change_once_people_signed_up(event_index):
    event, (first, *_rest) = make_drop_in(event_index)
    book(event, [first])
    event.sign_up_per = "series"
    with pytest.raises(ValidationError) as refused:
        event.full_clean()
    assert "sign_up_per" in refused.value.message_dict


# Lists of a session: roster, check-in, sheets, reminders, calendars ----------


def test_each_sessions_lists_hold_only_its_own_people(event_index):
    event, (first, second, _third) = make_drop_in(event_index, capacity=1)
    book(event, [first], name="Ana First")
    book(event, [second], name="Ben Second")
    book(event, [second], name="Cal Waiting")

    confirmed, waitlist = records.roster(first)
    assert [r.name for r in confirmed] == ["Ana First"]
    assert waitlist == []
    confirmed, waitlist = records.roster(second)
    assert [r.name for r in confirmed] == ["Ben Second"]
    assert [r.name for r in waitlist] == ["Cal Waiting"]

    sheet = pdfs.sign_in_sheet_pdf(first, full_names=True)
    from tests.attendance.test_pdfs import text_of

    text = text_of(sheet)
    assert "Ana First" in text
    assert "Ben Second" not in text and "Cal Waiting" not in text

    # Check-in and attendance accept only the session's own people.
    ben = Registration.objects.get(name="Ben Second")
    with time_machine.travel(first.start):
        with pytest.raises(AttendanceError):
            records.check_in(session=first, registration=ben)
        with pytest.raises(AttendanceError):
            records.record_attendance(
                session=first, statuses={str(ben.pk): "present"}, user=None
            )
        assert records.mark_everyone_present(session=first, user=None) == 1


def test_series_events_lists_are_unchanged(event_index):
    """Whole-series places cover every session, as before."""
    event = make_event(event_index, registration_mode="required", capacity=5)
    first = make_session(event, start=_at(1))
    second = make_session(event, start=_at(8))
    sign_up(event, name="Sam Series")

    for session in (first, second):
        confirmed, _waitlist = records.roster(session)
        assert [r.name for r in confirmed] == ["Sam Series"]
    assert Registration.objects.for_session(second).count() == 1


def test_reminders_go_only_to_the_people_of_that_session(
    event_index, django_capture_on_commit_callbacks
):
    from events.reminders import send_due_reminders

    event, (first, second, _third) = make_drop_in(event_index)
    [ana] = book(event, [first], name="Ana", consent=[Channel.EMAIL])
    [ben] = book(event, [second], name="Ben", consent=[Channel.EMAIL])
    mail.outbox.clear()

    with time_machine.travel(first.start - dt.timedelta(hours=9), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            queued = send_due_reminders(hours=24)

    assert queued == 1
    assert list(SentReminder.objects.values_list("registration", "session")) == [
        (ana.pk, first.pk)
    ]
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]
    assert ben.pk not in SentReminder.objects.values_list("registration", flat=True)


def test_a_drop_in_places_manage_page_and_calendar_cover_its_date_only(
    event_index, site_client
):
    event, (first, second, third) = make_drop_in(event_index)
    mine = book(event, [first, second], name="Sam Rivera", email="sam@example.org")
    token = manage_token(mine[0])

    page = site_client.get(f"/manage/{token}/").content.decode()
    assert timezone.localtime(first.start).strftime("%B") in page
    assert "Your other dates" in page
    assert f"/manage/{manage_token(mine[1])}/" in page
    assert "Cancel my place on this date" in page

    response = site_client.get(f"/manage/{token}/calendar.ics")
    uids = [
        str(e["UID"])
        for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    ]
    assert uids == [first.uid]

    site_client.post(f"/manage/{token}/cancel/")
    statuses_now = dict(
        Registration.objects.filter(pk__in=[r.pk for r in mine]).values_list(
            "session_id", "status"
        )
    )
    assert statuses_now == {first.pk: "cancelled", second.pk: "confirmed"}


def test_session_change_messages_go_to_that_sessions_people(
    event_index, django_capture_on_commit_callbacks
):
    event, (first, second, _third) = make_drop_in(event_index)
    book(event, [first], name="Ana")
    book(event, [second], name="Ben")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=first)

    assert [m.to for m in mail.outbox] == [["ana@example.org"]]


# Listing, event page, reports --------------------------------------------------


def test_listing_and_event_page_show_places_per_date_in_constant_queries(
    event_index, site_client
):
    event, (first, second, third) = make_drop_in(event_index, capacity=2)
    book(event, [first], name="Ana")
    book(event, [first], name="Ben")
    book(event, [second], name="Cal")

    def listing_queries():
        with CaptureQueriesContext(connection) as queries:
            html = site_client.get(event_index.url).content.decode()
        return html, len(queries)

    listing_queries()  # the site, its settings: read once
    html, before = listing_queries()
    assert "Full, join the waitlist" in html
    assert "1 place left" in html
    assert "2 places left" in html
    # More dates and more events cost no more queries.
    more, _ = make_drop_in(event_index, capacity=3, dates=4)
    book(more, list(more.sessions.all())[:2], name="Dee")
    html, after = listing_queries()
    assert after == before
    assert html.count("3 places left") == 2

    page = site_client.get(event.url).content.decode()
    assert "Full, join the waitlist" in page and "1 place left" in page
    assert "Choose your dates" in page

    form = site_client.get(event.sign_up_url).content.decode()
    assert "(Full, join the waitlist)" in form
    assert "(1 place left)" in form


def test_waitlist_report_counts_each_date_under_its_session(event_index):
    event, (first, second, _third) = make_drop_in(event_index, capacity=1)
    book(event, [first], name="Ana")
    book(event, [first], name="Ben")
    book(event, [second], name="Cal")
    filters = ReportFilters(
        date_from=timezone.localdate(),
        date_to=timezone.localdate() + dt.timedelta(days=30),
    )

    [report] = build_reports(filters, only={"waitlist"})

    rows = {row[0]: row[1:] for row in report.rows}
    day = timezone.localtime(first.start).strftime("%a %-d %b")
    assert rows[f"{event.title}, {day}"] == [1, 1, 1]


def test_a_whole_series_registration_still_counts_the_event(event_index):
    """Series places are counted as before: ``in_scope`` of no session."""
    event = make_event(event_index, registration_mode="required", capacity=1)
    make_session(event, start=_at(1))
    sign_up(event, name="Ana")
    second = sign_up(event, name="Ben")
    assert second.status == RegistrationStatus.WAITLISTED
    assert second.session_id is None and second.waitlist_position == 1
    assert MessageKind.DATES_BOOKED not in set(
        Registration.objects.filter(event=event).values_list(
            "deliveries__kind", flat=True
        )
    )


# Admin and spreadsheets ----------------------------------------------------------


def test_admin_lists_and_filters_by_date_and_adds_to_one_date(
    client, admin_user, event_index
):
    from django.urls import reverse

    client.force_login(admin_user)
    event, (first, second, _third) = make_drop_in(event_index, capacity=1)
    book(event, [first], name="Ana Early")
    book(event, [second], name="Ben Later")
    index = reverse("event_registrations:index")

    html = client.get(index, {"event": event.pk}).content.decode()
    assert timezone.localtime(first.start).strftime("%Y-%m-%d %H:%M") in html
    day = timezone.localdate(first.start).isoformat()
    filtered = client.get(index, {"event": event.pk, "date": day}).content.decode()
    assert "Ana Early" in filtered and "Ben Later" not in filtered

    add = reverse("event_registrations:add")
    data = {"event": event.pk, "name": "Cal", "email": "cal@example.org", "phone": ""}
    response = client.post(add, data)
    assert "single dates" in response.content.decode()  # a date is needed
    assert client.post(add, data | {"session": first.pk}).status_code == 302
    assert statuses(first) == [("confirmed", None), ("waitlisted", 1)]
    again = client.post(add, data | {"session": first.pk}).content.decode()
    assert "already registered for this date" in again


def test_spreadsheet_rows_of_a_drop_in_carry_their_date(admin_user, event_index):
    from tests.spreadsheets.support import csv_bytes, errors, import_file

    event, (first, second, _third) = make_drop_in(event_index, capacity=1)
    header = ["event_id", "name", "email", "status", "session_id"]
    rows = [
        [event.pk, "Ana", "ana@example.org", "confirmed", first.pk],
        [event.pk, "Ana", "ana@example.org", "confirmed", second.pk],
        [event.pk, "Ben", "ben@example.org", "confirmed", first.pk],
    ]

    job = import_file(admin_user, "registrations", csv_bytes([header, *rows]))

    assert errors(job) == {}
    assert statuses(first) == [("confirmed", None), ("waitlisted", 1)]
    assert statuses(second) == [("confirmed", None)]
    missing = import_file(
        admin_user,
        "registrations",
        csv_bytes([header, [event.pk, "Cal", "cal@example.org", "confirmed", ""]]),
    )
    assert "session_id" in next(iter(errors(missing).values()))
    assert not Registration.objects.filter(email="cal@example.org").exists()


def test_a_date_with_drop_in_places_cannot_be_deleted_even_once_cancelled(
    event_index,
):
    from events.sessions import deletion_refusal

    event, (first, second, _third) = make_drop_in(event_index)
    [ana] = book(event, [first], name="Ana")
    cancel(registration=ana)

    refusal = deletion_refusal(first)
    assert refusal is not None and refusal.code == "cannot_delete"
    assert deletion_refusal(second) is None


def test_offer_hours_on_a_drop_in_still_fill_a_date_at_once(event_index):
    """Offers hold places of the whole series; a drop-in date's freed place
    goes to the first person on that date's waitlist straight away."""
    from events.models import PlaceOffer

    event, (first, _second) = make_drop_in(
        event_index, capacity=1, dates=2, waitlist_offer_hours=24
    )
    [ana] = book(event, [first], name="Ana")
    [ben] = book(event, [first], name="Ben")

    cancelled = cancel(registration=ana)

    assert [r.pk for r in cancelled.promoted] == [ben.pk]
    ben.refresh_from_db()
    assert ben.status == "confirmed"
    assert not PlaceOffer.objects.filter(registration__event=event).exists()


def test_answers_go_on_every_date_and_demographic_ones_on_the_first_only(
    event_index, site_client
):
    """Each date's roster shows the person's answers; the totals count a
    person booking several dates once."""
    from events.models import RegistrationAnswer, RegistrationQuestion

    event, (first, second, _third) = make_drop_in(event_index, capacity=5)
    needs = RegistrationQuestion.objects.create(
        event=event, label="Anything we should know?", kind="text"
    )
    heard = RegistrationQuestion.objects.create(
        event=event,
        label="How did you hear about us?",
        kind="choice",
        choices="A friend\nA poster",
        demographic=True,
        sort_order=1,
    )
    response = site_client.post(
        event.sign_up_url,
        {
            "name": "Ana",
            "email": "ana@example.org",
            "sessions": [first.pk, second.pk],
            f"question_{needs.pk}": "A quiet seat",
            f"question_{heard.pk}": "A poster",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    answers = RegistrationAnswer.objects.filter(registration__event=event)
    by_date = {
        session.pk: sorted(
            (a.question.label, a.value)
            for a in answers.filter(registration__session=session)
        )
        for session in (first, second)
    }
    assert by_date[first.pk] == [
        ("Anything we should know?", "A quiet seat"),
        ("How did you hear about us?", "A poster"),
    ]
    assert by_date[second.pk] == [("Anything we should know?", "A quiet seat")]
