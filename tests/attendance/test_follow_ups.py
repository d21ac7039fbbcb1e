"""The coordinators' follow-up inbox: what lands in it (flagged notes, calls
waiting, messages not delivered), what coordinators do with it, who may see
it, the emails coordinators choose, and what erasure leaves of it."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from wagtail.models import ModelLogEntry

from attendance import follow_ups
from attendance.models import FollowUp, FollowUpKind, StaffNotificationPreference
from core.sms.backends import locmem as sms_locmem
from events import messaging
from events.groups import COORDINATORS_GROUP, EDITORS_GROUP, FACILITATORS_GROUP
from events.models import CallRequest, CallStatus, Delivery, DeliveryStatus
from events.privacy import erase
from events.registration import cancel
from events.tasks import send_messages
from tests.conftest import make_registration_event, role_group, sign_up

pytestmark = [pytest.mark.django_db, pytest.mark.tasks]

PHONE = "+14165550199"
NAME = "Robin Fairweather"


def _user(django_user_model, username, group, **fields):
    user = django_user_model.objects.create_user(
        username, password="pw", email=f"{username}@example.org", **fields
    )
    user.groups.add(role_group(group))
    return user


@pytest.fixture
def coordinator(django_user_model):
    return _user(django_user_model, "coord", COORDINATORS_GROUP, first_name="Cora")


@pytest.fixture
def other_coordinator(django_user_model):
    return _user(django_user_model, "coord2", COORDINATORS_GROUP, first_name="Dev")


@pytest.fixture
def facilitator(django_user_model):
    return _user(django_user_model, "fac", FACILITATORS_GROUP)


@pytest.fixture
def editor(django_user_model):
    return _user(django_user_model, "editor", EDITORS_GROUP)


@pytest.fixture
def event(event_index, facilitator):
    event = make_registration_event(event_index, capacity=5, title="WRAP group")
    event.facilitators.add(facilitator)
    event.save_revision().publish()
    return event


def _started(session):
    """Move ``session`` to have started an hour ago."""
    start = timezone.now() - dt.timedelta(hours=1)
    type(session).objects.filter(pk=session.pk).update(
        start=start, end=start + dt.timedelta(hours=2)
    )
    session.refresh_from_db()
    return session


def _flag(client, facilitator, session, text="The room was too cold"):
    client.force_login(facilitator)
    response = client.post(
        reverse("facilitate_note", args=[session.pk]),
        {
            "covered": "Wellness toolbox",
            "attendance_summary": "6 came",
            "follow_ups": text,
            "needs_follow_up": "on",
        },
    )
    assert response.status_code == 302
    client.logout()


def _inbox(client, user, query=""):
    client.force_login(user)
    response = client.get(reverse("follow_ups") + query)
    assert response.status_code == 200
    return response.content.decode()


def _act(client, user, follow_up, action, **data):
    client.force_login(user)
    return client.post(
        reverse("follow_up_action", args=[follow_up.pk]), {"action": action, **data}
    )


def _texting(event, name=NAME, phone=PHONE):
    """Someone reached by text only (no email, consent to texts)."""
    return sign_up(event, name, email="", phone=phone, consent=["text"])


# What lands in the inbox ------------------------------------------------------


def test_a_flagged_note_lands_in_the_coordinators_inbox(
    client, event, facilitator, coordinator
):
    session = event.sessions.get()
    _flag(client, facilitator, session)

    [follow_up] = FollowUp.objects.all()
    assert follow_up.kind == FollowUpKind.FLAGGED_NOTE
    assert follow_up.event_id == event.pk
    page = _inbox(client, coordinator)
    assert "A facilitator flagged a session note" in page
    assert "The room was too cold" in page
    assert "WRAP group" in page

    # Saved again, still flagged: still one open follow-up.
    _flag(client, facilitator, session)
    _flag(client, facilitator, session, text="The room was too cold, and dark")
    assert FollowUp.objects.count() == 1


def test_a_note_flagged_again_after_it_was_resolved_opens_a_new_follow_up(
    client, event, facilitator, coordinator
):
    session = event.sessions.get()
    _flag(client, facilitator, session)
    follow_up = FollowUp.objects.get()
    _act(client, coordinator, follow_up, "resolve")
    _flag(client, facilitator, session)  # the same words: nothing new
    assert FollowUp.objects.open().count() == 0
    _flag(client, facilitator, session, text="The heating is still broken")
    assert FollowUp.objects.open().count() == 1
    # The older one cannot be reopened while the newer one is open.
    _act(client, coordinator, follow_up, "reopen")
    follow_up.refresh_from_db()
    assert follow_up.resolved_at is not None


def test_a_text_that_fails_for_good_lands_in_the_inbox(
    client, event, coordinator, settings
):
    settings.GATHER_MESSAGE_RETRY_MINUTES = []  # the first failure is final
    person = _texting(event)
    sms_locmem.fail_next(1, retryable=True, error="Unreachable handset")

    send_messages.call([person.pk], "confirmed")

    [follow_up] = FollowUp.objects.all()
    assert follow_up.kind == FollowUpKind.FAILED_DELIVERY
    assert follow_up.delivery.status == DeliveryStatus.FAILED
    assert follow_up.delivery.error == "Unreachable handset", follow_up.delivery.error
    page = _inbox(client, coordinator)
    assert "A message could not be delivered" in page
    for words in ("Robin F.", "Text message", "Place booked", "Unreachable handset"):
        assert words in page
    assert "Fairweather" not in page and PHONE not in page


def test_a_retryable_failure_lands_only_after_the_last_try(
    event, settings, time_machine
):
    settings.GATHER_MESSAGE_RETRY_MINUTES = [5]
    time_machine.move_to(timezone.now(), tick=False)
    person = _texting(event)
    sms_locmem.fail_next(2, retryable=True)

    send_messages.call([person.pk], "confirmed")

    delivery = Delivery.objects.get(registration=person)
    assert delivery.status == DeliveryStatus.PENDING
    assert not FollowUp.objects.exists()

    time_machine.shift(dt.timedelta(minutes=6))
    messaging.send_due_messages()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert FollowUp.objects.get().delivery == delivery


@pytest.mark.parametrize("kind", ["confirmed", "promoted"])
def test_someone_only_a_call_reaches_lands_as_a_call(client, event, coordinator, kind):
    person = sign_up(event, NAME, email="", phone=PHONE)  # no consent to texts

    send_messages.call([person.pk], kind)

    [follow_up] = FollowUp.objects.all()
    assert follow_up.kind == FollowUpKind.CALL
    assert follow_up.call_request.registration == person
    page = _inbox(client, coordinator)
    assert "Someone is waiting for a call" in page
    assert "Robin F." in page
    assert follow_up.call_request.get_reason_display() in page
    assert reverse("wagtailadmin_pages:edit", args=[event.pk]) in page
    assert "Fairweather" not in page and PHONE not in page


def test_a_call_closed_on_the_call_list_shows_as_resolved(client, event, coordinator):
    person = sign_up(event, NAME, email="", phone=PHONE)
    send_messages.call([person.pk], "confirmed")
    assert FollowUp.objects.open().count() == 1

    CallRequest.objects.update(status=CallStatus.DONE, closed_at=timezone.now())

    assert FollowUp.objects.open().count() == 0
    page = _inbox(client, coordinator, "?show=resolved")
    assert "Closed on the call list." in page
    assert "Robin F." in page
    assert "Robin F." not in _inbox(client, coordinator, "?show=open")


# What coordinators do with it -------------------------------------------------


def test_assign_acknowledge_resolve_and_reopen(
    client, event, coordinator, other_coordinator, facilitator
):
    session = event.sessions.get()
    _flag(client, facilitator, session)
    follow_up = FollowUp.objects.get()

    _act(client, coordinator, follow_up, "assign_me")
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == coordinator
    assert "The room was too cold" in _inbox(client, coordinator, "?mine=on")
    assert "The room was too cold" not in _inbox(client, other_coordinator, "?mine=on")

    _act(client, coordinator, follow_up, "assign", assignee=str(other_coordinator.pk))
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == other_coordinator
    # Only a coordinator can be given a follow-up.
    _act(client, coordinator, follow_up, "assign", assignee=str(facilitator.pk))
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == other_coordinator

    _act(client, coordinator, follow_up, "acknowledge")
    follow_up.refresh_from_db()
    assert (follow_up.acknowledged_by, follow_up.resolved_at) == (coordinator, None)

    response = _act(client, other_coordinator, follow_up, "resolve")
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.resolved_by == other_coordinator
    assert FollowUp.objects.open().count() == 0

    _act(client, coordinator, follow_up, "reopen")
    follow_up.refresh_from_db()
    assert follow_up.resolved_at is None
    assert FollowUp.objects.open().count() == 1

    entries = ModelLogEntry.objects.filter(action__startswith="attendance.follow_up.")
    assert sorted(e.action for e in entries) == sorted(
        [follow_ups.ASSIGNED] * 2
        + [follow_ups.ACKNOWLEDGED, follow_ups.RESOLVED, follow_ups.REOPENED]
    )
    assigned = entries.filter(action=follow_ups.ASSIGNED).order_by("pk").last()
    assert assigned.data["assigned_to"] == other_coordinator.pk
    assert assigned.data["follow_up"] == follow_up.pk


def test_open_items_come_first_and_filters_narrow_the_list(
    client, event, event_index, coordinator, facilitator
):
    other = make_registration_event(event_index, title="Tuesday walk")
    person = sign_up(other, NAME, email="", phone=PHONE)
    send_messages.call([person.pk], "confirmed")
    call = FollowUp.objects.get()
    _act(client, coordinator, call, "resolve")
    _flag(client, facilitator, event.sessions.get())

    page = _inbox(client, coordinator)
    assert page.index("The room was too cold") < page.index("Robin F.")
    page = _inbox(client, coordinator, "?kind=call")
    assert "Robin F." in page and "The room was too cold" not in page
    # The event filter offers the events with open items only.
    page = _inbox(client, coordinator, f"?event={event.pk}")
    assert f'<option value="{other.pk}"' not in page
    assert f'<option value="{event.pk}" selected' in page
    assert "Robin F." not in page


def test_try_again_resets_the_delivery_and_sends_it(
    client,
    event,
    coordinator,
    settings,
    sms_outbox,
    django_capture_on_commit_callbacks,
    task_backend,
    run_tasks,
):
    settings.GATHER_MESSAGE_RETRY_MINUTES = []
    person = _texting(event)
    if task_backend == "db":  # the sign-up's own confirmation, left out
        DBTaskResult.objects.all().delete()
    sms_locmem.fail_next(1, retryable=False)
    send_messages.call([person.pk], "confirmed")
    follow_up = FollowUp.objects.get()
    assert sms_outbox == []

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _act(client, coordinator, follow_up, "try_again")
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.error) == ("pending", 0, "")
    assert delivery.send_after <= timezone.now()
    # The database backend writes the task row in the transaction instead.
    assert len(callbacks) == (0 if task_backend == "db" else 1)

    for callback in callbacks:
        callback()  # the commit queues send_due_messages
    run_tasks()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert len(sms_outbox) == 1
    assert FollowUp.objects.open().count() == 0
    assert "Sent when tried again." in _inbox(client, coordinator)
    [entry] = ModelLogEntry.objects.filter(action=follow_ups.RETRIED)
    assert entry.data["delivery"] == delivery.pk


def test_a_message_that_fails_again_reopens_its_follow_up(
    client, event, coordinator, settings
):
    settings.GATHER_MESSAGE_RETRY_MINUTES = []
    person = _texting(event)
    sms_locmem.fail_next(1, retryable=False)
    send_messages.call([person.pk], "confirmed")
    follow_up = FollowUp.objects.get()
    follow_ups.resolve(follow_up=follow_up, user=coordinator)
    follow_ups.try_again(follow_up=follow_up, user=coordinator)
    sms_locmem.fail_next(1, retryable=False)

    messaging.send_due_messages()

    assert FollowUp.objects.count() == 1
    assert FollowUp.objects.open().get() == follow_up


def test_audit_entries_hold_no_names_or_phone_numbers(
    client, event, coordinator, settings
):
    settings.GATHER_MESSAGE_RETRY_MINUTES = []
    person = _texting(event)
    sms_locmem.fail_next(1, retryable=False)
    send_messages.call([person.pk], "confirmed")
    follow_up = FollowUp.objects.get()
    for action in ("assign_me", "acknowledge", "try_again", "resolve"):
        _act(client, coordinator, follow_up, action)

    entries = ModelLogEntry.objects.filter(action__startswith="attendance.follow_up.")
    assert entries.count() == 4
    for entry in entries:
        text = f"{entry.label} {entry.data}"
        assert "Robin" not in text and "Fairweather" not in text
        assert "555" not in text and "0199" not in text


# Who may see it ------------------------------------------------------------------


def test_facilitators_and_editors_get_403_and_no_menu_item(
    client, event, coordinator, facilitator, editor
):
    person = sign_up(event, NAME, email="", phone=PHONE)
    send_messages.call([person.pk], "confirmed")
    follow_up = FollowUp.objects.get()
    for user in (facilitator, editor):
        client.force_login(user)
        response = client.get(reverse("follow_ups"))
        assert response.status_code == 403
        assert "Robin" not in response.content.decode()
        assert _act(client, user, follow_up, "resolve").status_code == 403
        assert (
            reverse("follow_ups")
            not in client.get(reverse("wagtailadmin_home")).content.decode()
        )
    follow_up.refresh_from_db()
    assert follow_up.resolved_at is None
    client.force_login(coordinator)
    assert (
        reverse("follow_ups")
        in client.get(reverse("wagtailadmin_home")).content.decode()
    )


# Emails coordinators chose --------------------------------------------------------


def test_the_flag_email_goes_only_to_coordinators_who_chose_it(
    client,
    event,
    coordinator,
    other_coordinator,
    facilitator,
    django_capture_on_commit_callbacks,
):
    client.force_login(coordinator)
    client.post(reverse("follow_up_preferences"), {"email_on_flagged_note": "on"})
    preference = StaffNotificationPreference.objects.get(user=coordinator)
    assert preference.email_on_flagged_note and not preference.daily_digest
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        _flag(client, facilitator, event.sessions.get(), text="Ask Robin about it")

    [message] = mail.outbox
    assert message.to == [coordinator.email]
    assert message.subject == "A session note was flagged for follow-up"
    assert "WRAP group" in message.body
    assert "http://testserver" + reverse("follow_ups") in message.body
    assert "Robin" not in message.body  # the note's words stay in the inbox


def _digest_preference(user):
    StaffNotificationPreference.objects.create(user=user, daily_digest=True)


def test_the_daily_digest_counts_per_event_once_a_day(
    event, event_index, coordinator, other_coordinator, time_machine
):
    time_machine.move_to(dt.datetime(2026, 11, 10, 14, tzinfo=dt.UTC), tick=False)
    quiet = make_registration_event(event_index, title="Quiet group")
    sign_up(quiet, "Old Person")
    time_machine.shift(dt.timedelta(hours=30))
    ana = sign_up(event, "Ana Alvarez")
    sign_up(event, "Ben Brook")
    cancel(registration=ana)
    _digest_preference(coordinator)
    mail.outbox.clear()

    call_command("send_staff_digest", stdout=io.StringIO())

    [message] = mail.outbox
    assert message.to == [coordinator.email]
    assert "WRAP group: 2 new sign-ups, 1 cancellation" in message.body
    assert "Quiet group" not in message.body
    assert "0 follow-ups are open." in message.body
    assert "Ana" not in message.body and "Ben" not in message.body

    mail.outbox.clear()
    call_command("send_staff_digest", stdout=io.StringIO())
    assert mail.outbox == []  # once a day

    time_machine.shift(dt.timedelta(days=2))
    call_command("send_staff_digest", stdout=io.StringIO())
    assert mail.outbox == []  # nothing to say
    assert StaffNotificationPreference.objects.get(
        user=coordinator
    ).digest_sent_on == dt.date(2026, 11, 11)


def test_the_digest_counts_open_follow_ups(event, coordinator, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 10, 14, tzinfo=dt.UTC), tick=False)
    person = sign_up(event, NAME, email="", phone=PHONE)
    send_messages.call([person.pk], "confirmed")
    time_machine.shift(dt.timedelta(days=2))
    _digest_preference(coordinator)

    from attendance.notifications import send_staff_digest

    assert send_staff_digest() == 1
    assert "1 follow-up is open." in mail.outbox[-1].body


# Erasure and the retention period -------------------------------------------------


def test_erasing_the_person_keeps_the_follow_up_without_their_details(
    client, event, coordinator
):
    """Erasure anonymises the registration: the follow-up is kept, says
    nothing of who it was, and counts as closed."""
    person = sign_up(event, NAME, email="", phone=PHONE)
    send_messages.call([person.pk], "confirmed")
    follow_up = FollowUp.objects.get()

    erase(registration_ids=[person.pk], phone=PHONE, user=coordinator)

    assert FollowUp.objects.filter(pk=follow_up.pk).exists()
    assert FollowUp.objects.open().count() == 0
    page = _inbox(client, coordinator)
    assert "The person&#x27;s details were removed." in page
    assert "Robin" not in page


# Query count ---------------------------------------------------------------------


def _queries_for_inbox(client, user) -> int:
    client.force_login(user)
    client.get(reverse("follow_ups"))  # the session and user, once
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("follow_ups")).status_code == 200
    return len(queries)


def test_the_inbox_query_count_does_not_grow_with_rows(
    client, coordinator, settings, event_index
):
    """Guards the N+1 of reading each row's source (note, session, call,
    delivery, person) and who it is assigned to."""
    settings.GATHER_MESSAGE_RETRY_MINUTES = []

    def one_of_each(index):
        other = make_registration_event(event_index, capacity=10)
        caller = sign_up(other, f"Caller {index}", email="", phone=PHONE)
        texter = _texting(other, f"Texter {index}", phone="+14165550100")
        sms_locmem.fail_next(1, retryable=False)
        send_messages.call([caller.pk, texter.pk], "confirmed")
        _flag(client, coordinator, other.sessions.get())
        for follow_up in FollowUp.objects.filter(event=other):
            follow_ups.assign(follow_up=follow_up, to=coordinator, user=coordinator)

    one_of_each(0)
    few = _queries_for_inbox(client, coordinator)
    for index in range(1, 5):
        one_of_each(index)
    assert sorted(FollowUp.objects.values_list("kind", flat=True)) == sorted(
        ["call", "failed_delivery", "flagged_note"] * 5
    )
    assert _queries_for_inbox(client, coordinator) == few


def test_the_retention_period_keeps_follow_ups_and_closes_them(
    event_index, coordinator
):
    """Retention anonymises the people of an event long over: its follow-ups
    stay, about nobody, and are no longer open."""
    from attendance.retention import apply_retention
    from tests.conftest import make_event, make_session

    past = make_event(event_index, registration_mode="required", capacity=5)
    person = sign_up(past, NAME, email="", phone=PHONE, by_coordinator=True)
    make_session(past, start=timezone.now() - dt.timedelta(days=400))
    FollowUp.objects.create(
        kind=FollowUpKind.CALL,
        event=past,
        call_request=CallRequest.objects.create(
            registration=person, reason="new_sign_up", kind="confirmed"
        ),
    )
    assert FollowUp.objects.open().count() == 1

    result = apply_retention(days=365)

    assert result.registrations == 1
    assert FollowUp.objects.count() == 1
    assert FollowUp.objects.open().count() == 0


def test_coordinators_read_the_inbox_s_audit_entries_in_site_history(
    client, event, coordinator, facilitator
):
    _flag(client, facilitator, event.sessions.get())
    _act(client, coordinator, FollowUp.objects.get(), "resolve")
    client.force_login(coordinator)
    page = client.get(reverse("wagtailadmin_reports:site_history")).content.decode()
    assert "Follow-up resolved" in page
