"""The call list ("Calls to make"): who sees which calls, marking a try,
the dashboard panel, the audit log, and its query count."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from events.admin_calls import reason_text
from events.calls import CallPreferences, call_preferences
from events.groups import COORDINATORS_GROUP, EDITORS_GROUP, FACILITATORS_GROUP
from events.models import (
    CallAttempt,
    CallReason,
    CallRequest,
    CallStatus,
    MessageKind,
)
from events.registration import cancel, register
from events.sessions import cancel_session, reschedule_session
from tests.conftest import make_registration_event, role_group, sign_up

pytestmark = [pytest.mark.django_db, pytest.mark.tasks]

PHONE = "416 555 0199"


def make_user(username, *groups):
    user = get_user_model().objects.create_user(username, password="pw")
    user.groups.add(*(role_group(name) for name in groups))
    return user


@pytest.fixture
def coordinator(db):
    return make_user("coord", COORDINATORS_GROUP)


@pytest.fixture
def editor(db):
    return make_user("editor", EDITORS_GROUP)


def facilitator_of(event, username="fac"):
    user = make_user(username, FACILITATORS_GROUP)
    event.facilitators.add(user)
    event.save()
    return user


def make_call(registration, reason=CallReason.PROMOTED, **fields):
    kind = fields.pop("kind", MessageKind.PROMOTED)
    return CallRequest.objects.create(
        registration=registration, reason=reason, kind=kind, **fields
    )


def phone_only(event, name, phone=PHONE, **answers):
    """Someone with a phone, no email, and no consent to texts."""
    return sign_up(event, name, email="", phone=phone, **answers)


@pytest.fixture
def promoted(event_index, django_capture_on_commit_callbacks):
    """Pat, phone only, gets a place from the waitlist when Ana cancels:
    through the real workflows and tasks."""
    event = make_registration_event(event_index, capacity=1, title="Tuesday circle")
    with django_capture_on_commit_callbacks(execute=True):
        ana = register(event=event, name="Ana", email="ana@example.org").registration
        pat = register(event=event, name="Pat Phoneonly", phone=PHONE).registration
    with django_capture_on_commit_callbacks(execute=True):
        cancel(registration=ana)
    pat.refresh_from_db()
    return event, pat


def calls_on_list(client, user, **query):
    client.force_login(user)
    response = client.get(reverse("event_calls"), query)
    assert response.status_code == 200
    return response


def listed_calls(response):
    return [
        row["call"]
        for group in response.context["groups"]
        for person in group["people"]
        for row in person["calls"]
    ]


def test_someone_promoted_with_only_a_phone_is_on_the_coordinators_list(
    client, coordinator, promoted
):
    event, pat = promoted
    assert pat.status == "confirmed"
    call = CallRequest.objects.get(registration=pat, reason=CallReason.PROMOTED)
    response = calls_on_list(client, coordinator)
    html = response.content.decode()
    # The call saying they were waitlisted is out of date: only the newer one.
    assert pat.call_requests.filter(reason=CallReason.WAITLISTED).exists()
    assert listed_calls(response) == [call]
    assert "Pat Phoneonly" in html
    assert 'href="tel:+14165550199"' in html
    assert "Tuesday circle" in html
    assert "Moved up from the waitlist" in html
    assert "Do not leave a voicemail." in html


def test_a_facilitator_sees_their_own_events_calls_only(client, promoted, event_index):
    event, pat = promoted
    other_event = make_registration_event(event_index, title="Thursday walk")
    theirs = make_call(phone_only(other_event, "Quinn Otherevent", "416 555 0111"))
    mine = facilitator_of(event)
    other = facilitator_of(other_event, "other")

    html = calls_on_list(client, mine).content.decode()
    assert "Pat Phoneonly" in html and "Quinn Otherevent" not in html
    response = calls_on_list(client, other)
    assert listed_calls(response) == [theirs]
    assert "Pat Phoneonly" not in response.content.decode()
    # The event filter offers only events with calls they may see.
    assert response.context["form"].fields["event"].choices == [
        ("", "All events"),
        (other_event.pk, "Thursday walk"),
    ]


def test_an_editor_may_not_open_or_mark_calls(client, editor, promoted):
    _event, pat = promoted
    call = pat.call_requests.get(reason=CallReason.PROMOTED)
    client.force_login(editor)
    response = client.get(reverse("event_calls"))
    assert response.status_code == 403
    assert "Pat Phoneonly" not in response.content.decode()
    mark = client.post(
        reverse("event_calls_mark", args=[call.pk]), {"outcome": "called"}
    )
    assert mark.status_code == 403
    assert not CallAttempt.objects.exists()
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Calls to make" not in home
    assert reverse("event_calls") not in home


def test_marking_a_call_of_another_event_is_refused(client, promoted, event_index):
    _event, pat = promoted
    call = pat.call_requests.get(reason=CallReason.PROMOTED)
    other = facilitator_of(make_registration_event(event_index), "other")
    client.force_login(other)
    response = client.post(
        reverse("event_calls_mark", args=[call.pk]), {"outcome": "called"}
    )
    assert response.status_code == 403
    assert not CallAttempt.objects.exists()


@pytest.mark.parametrize(
    "outcome,closed",
    [("called", True), ("no_answer", False), ("left_message", True)],
)
def test_each_outcome_writes_a_try_and_closes_or_keeps_the_call(
    client, coordinator, event_index, monkeypatch, outcome, closed
):
    event = make_registration_event(event_index)
    call = make_call(phone_only(event, "Pat", voicemail_ok=True))
    client.force_login(coordinator)
    url = reverse("event_calls_mark", args=[call.pk])
    query = {"event": str(event.pk), "reason": "promoted", "p": "2"}
    response = client.post(url, {"outcome": outcome, **query})
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("event_calls") + f"?event={event.pk}&reason=promoted&p=2"
    )
    attempt = CallAttempt.objects.get()
    assert (attempt.call_id, attempt.outcome, attempt.by) == (
        call.pk,
        outcome,
        coordinator,
    )
    call.refresh_from_db()
    assert (call.status == CallStatus.DONE) is closed
    assert (call.closed_at is not None) is closed
    assert (call in CallRequest.objects.to_make()) is not closed
    followed = client.get(response["Location"])
    assert "Marked:" in followed.content.decode()


def test_no_answer_keeps_the_call_and_shows_the_try(client, coordinator, event_index):
    event = make_registration_event(event_index)
    call = make_call(phone_only(event, "Pat"))
    client.force_login(coordinator)
    client.post(reverse("event_calls_mark", args=[call.pk]), {"outcome": "no_answer"})
    response = calls_on_list(client, coordinator)
    assert listed_calls(response) == [call]
    html = response.content.decode()
    assert "No answer: coord," in html


def test_without_voicemail_consent_there_is_no_button_and_a_forged_post_fails(
    client, coordinator, event_index
):
    event = make_registration_event(event_index)
    call = make_call(phone_only(event, "Pat"))
    html = calls_on_list(client, coordinator).content.decode()
    assert 'value="called"' in html and 'value="no_answer"' in html
    assert 'value="left_message"' not in html
    response = client.post(
        reverse("event_calls_mark", args=[call.pk]), {"outcome": "left_message"}
    )
    assert response.status_code == 400
    assert "did not agree to a voicemail" in response.content.decode()
    call.refresh_from_db()
    assert call.status == CallStatus.WAITING
    assert not CallAttempt.objects.exists()


def test_a_made_up_outcome_is_a_400(client, coordinator, event_index):
    call = make_call(phone_only(make_registration_event(event_index), "Pat"))
    client.force_login(coordinator)
    response = client.post(
        reverse("event_calls_mark", args=[call.pk]), {"outcome": "hung_up"}
    )
    assert response.status_code == 400
    assert "Choose how the call went" in response.content.decode()
    assert not CallAttempt.objects.exists()


def test_marking_is_post_only(client, coordinator, event_index):
    call = make_call(phone_only(make_registration_event(event_index), "Pat"))
    client.force_login(coordinator)
    url = reverse("event_calls_mark", args=[call.pk])
    assert client.get(url, {"outcome": "called"}).status_code == 405
    assert not CallAttempt.objects.exists()


def test_call_preferences_read_the_registration_fields_when_present(event_index):
    pat = phone_only(make_registration_event(event_index), "Pat")
    assert call_preferences(pat) == CallPreferences(times="", voicemail_ok=False)
    pat.call_times = " Weekday mornings "
    pat.voicemail_ok = True
    assert call_preferences(pat) == CallPreferences(
        times="Weekday mornings", voicemail_ok=True
    )
    pat.voicemail_ok = None  # not asked: no voicemail
    assert call_preferences(pat).voicemail_ok is False


def test_best_times_and_voicemail_show_on_the_list(
    client, coordinator, event_index, monkeypatch
):
    make_call(
        phone_only(
            make_registration_event(event_index),
            "Pat",
            call_times="Weekday mornings",
            voicemail_ok=True,
        )
    )
    html = calls_on_list(client, coordinator).content.decode()
    assert "Best times to call: Weekday mornings" in html
    assert "A voicemail may be left." in html
    assert "Do not leave a voicemail." not in html
    assert 'value="left_message"' in html


def test_cancelled_or_anonymised_people_drop_off_except_the_cancellation_call(
    client, coordinator, event_index
):
    event = make_registration_event(event_index, capacity=5)
    pat = phone_only(event, "Pat")
    promoted_call = make_call(pat)
    cancelled_call = make_call(
        pat, reason=CallReason.CANCELLED, kind=MessageKind.CANCELLED
    )
    sam = phone_only(event, "Sam", "416 555 0122")
    make_call(sam)
    cancel(registration=pat)
    type(sam).objects.filter(pk=sam.pk).update(anonymised_at="2026-01-01T00:00Z")
    response = calls_on_list(client, coordinator)
    assert listed_calls(response) == [cancelled_call]
    assert promoted_call.pk not in {c.pk for c in CallRequest.objects.to_make()}


def test_a_persons_calls_show_together_and_events_oldest_first(
    client, coordinator, event_index
):
    first = make_registration_event(event_index, title="First event")
    second = make_registration_event(event_index, title="Second event")
    ana = phone_only(first, "Ana", "416 555 0101")
    ben = phone_only(first, "Ben", "416 555 0102")
    cy = phone_only(second, "Cy", "416 555 0103")
    calls = [
        make_call(ana),
        make_call(cy),
        make_call(ben),
        make_call(ana, reason=CallReason.REMINDER, kind=MessageKind.REMINDER),
    ]
    response = calls_on_list(client, coordinator)
    assert listed_calls(response) == [calls[0], calls[3], calls[2], calls[1]]
    assert [g["event"].title for g in response.context["groups"]] == [
        "First event",
        "Second event",
    ]
    filtered = calls_on_list(client, coordinator, event=second.pk)
    assert listed_calls(filtered) == [calls[1]]
    by_reason = calls_on_list(client, coordinator, reason="reminder")
    assert listed_calls(by_reason) == [calls[3]]


def test_a_session_change_says_which_session_and_what_changed(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=5)
    session = event.sessions.get()
    with django_capture_on_commit_callbacks(execute=True):
        pat = register(event=event, name="Pat", phone=PHONE).registration
    new_start = timezone.localtime(session.start).replace(hour=20)
    with django_capture_on_commit_callbacks(execute=True):
        reschedule_session(
            session=session, start=new_start, end=new_start.replace(hour=22)
        )
    moved = pat.call_requests.get(reason=CallReason.SESSION_CHANGED)
    assert "moved to" in reason_text(moved) and "8 p.m." in reason_text(moved)
    assert "6 p.m." in reason_text(moved)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_session(session=session)
    text = reason_text(pat.call_requests.filter(kind="session_cancelled").get())
    assert ": cancelled" in text and "8 p.m." in text


def test_a_group_message_call_shows_the_message(event_index):
    from events.models import GroupMessage

    event = make_registration_event(event_index)
    message = GroupMessage.objects.create(
        event=event, audience="confirmed", body="Bring a mug."
    )
    call = make_call(
        phone_only(event, "Pat"),
        reason=CallReason.MESSAGE,
        kind=MessageKind.GROUP,
        group_message=message,
    )
    assert "Bring a mug." in reason_text(call)


def test_the_dashboard_counts_the_calls_the_user_may_see(
    client, coordinator, editor, promoted, event_index
):
    event, _pat = promoted
    other_event = make_registration_event(event_index)
    make_call(phone_only(other_event, "Quinn", "416 555 0111"))
    make_call(phone_only(other_event, "Ria", "416 555 0112"))
    mine = facilitator_of(event)

    client.force_login(coordinator)
    assert (
        "3 calls waiting" in client.get(reverse("wagtailadmin_home")).content.decode()
    )
    client.force_login(mine)
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "1 call waiting" in home
    assert reverse("event_calls") in home
    client.force_login(editor)
    assert (
        "calls waiting" not in client.get(reverse("wagtailadmin_home")).content.decode()
    )


def test_the_dashboard_panel_costs_one_query(rf, coordinator, event_index):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from events.admin_calls import CallsWaitingPanel

    make_call(phone_only(make_registration_event(event_index), "Pat"))
    request = rf.get("/")
    request.user = coordinator
    panel = CallsWaitingPanel()
    panel.render_html({"request": request})  # the user's groups, read once
    with CaptureQueriesContext(connection) as queries:
        html = panel.render_html({"request": request})
    assert "1 call waiting" in html
    assert len(queries) == 1


def test_audit_entries_hold_ids_not_names_or_numbers(client, coordinator, promoted):
    event, pat = promoted
    call = pat.call_requests.get(reason=CallReason.PROMOTED)
    calls_on_list(client, coordinator, event=event.pk)
    client.post(reverse("event_calls_mark", args=[call.pk]), {"outcome": "no_answer"})
    viewed = ModelLogEntry.objects.get(action="events.calls.viewed")
    assert viewed.user_id == coordinator.pk
    assert viewed.data["count"] == 1 and viewed.data["event"] == event.pk
    tried = ModelLogEntry.objects.get(action="events.call.attempted")
    assert (tried.user_id, tried.object_id) == (coordinator.pk, str(pat.pk))
    assert tried.data == {
        "by": "staff",
        "call": call.pk,
        "attempt": CallAttempt.objects.get().pk,
        "event": event.pk,
        "outcome": "no_answer",
        "closed": False,
    }
    # In the registration's history, for those who may see it.
    history = client.get(reverse("event_registrations:history", args=[pat.pk]))
    assert "Call tried" in history.content.decode()
    for entry in (viewed, tried):
        text = f"{entry.label} {entry.data}"
        assert "Pat" not in text and "Phoneonly" not in text
        assert "555" not in text and "0199" not in text


def test_the_list_costs_the_same_queries_for_many_calls(
    client, coordinator, event_index, django_assert_max_num_queries
):
    """Guards the N+1s of a row: its event, session, group message, and the
    tries with who made them."""
    event = make_registration_event(event_index, capacity=100)
    other = make_registration_event(event_index, capacity=100)

    def add_calls(count, start):
        for number in range(start, start + count):
            person = phone_only(
                event if number % 2 else other, f"P{number}", f"416 555 {number:04}"
            )
            call = make_call(person)
            CallAttempt.objects.create(call=call, outcome="no_answer", by=coordinator)

    add_calls(3, 0)
    client.force_login(coordinator)
    url = reverse("event_calls")
    with django_assert_max_num_queries(20) as few:
        assert client.get(url).status_code == 200
    add_calls(20, 3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(listed_calls(response)) == 23
