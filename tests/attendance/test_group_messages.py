"""Messages to a group: audiences, the preview, sending, the admin screens
and the person's own page (``attendance.group_messages``)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageLogEntry

from attendance import group_messages as rules
from attendance.errors import AttendanceError
from attendance.models import AttendanceRecord, AttendanceStatus
from core import sms
from events import consent as consent_rules
from events.groups import COORDINATORS_GROUP, EDITORS_GROUP, FACILITATORS_GROUP
from events.models import (
    CallRequest,
    Channel,
    Delivery,
    DeliveryStatus,
    GroupAudience,
    GroupMessage,
    MessageKind,
    Registration,
)
from events.registration import cancel, manage_token
from tests.conftest import make_registration_event, make_session, role_group, sign_up

pytestmark = [pytest.mark.django_db, pytest.mark.tasks]

TORONTO = ZoneInfo("America/Toronto")
#: A Tuesday morning: outside the quiet hours (21:00 to 08:00).
MORNING = dt.datetime(2026, 3, 10, 10, 0, tzinfo=TORONTO)
#: The same day at 22:30: inside them.
NIGHT = dt.datetime(2026, 3, 10, 22, 30, tzinfo=TORONTO)


@pytest.fixture(autouse=True)
def daytime(time_machine):
    """A fixed clock in the day, so no test depends on when it runs."""
    time_machine.move_to(MORNING, tick=False)
    return time_machine


@pytest.fixture
def event(event_index):
    return make_registration_event(event_index, capacity=10, title="Tuesday circle")


@pytest.fixture
def past_session(event, daytime):
    """A session of the event that started an hour ago."""
    return make_session(event, start=MORNING - dt.timedelta(hours=1))


def user_in(django_user_model, username, group=None, **fields):
    user = django_user_model.objects.create_user(username, password="pw", **fields)
    if group:
        user.groups.add(role_group(group))
    return user


@pytest.fixture
def coordinator(django_user_model):
    return user_in(django_user_model, "coordinator", COORDINATORS_GROUP)


@pytest.fixture
def facilitator(django_user_model, event):
    user = user_in(django_user_model, "fac", FACILITATORS_GROUP)
    event.facilitators.add(user)
    event.save()
    return user


@pytest.fixture
def mixed(event, run_tasks):
    """Five people, one per way of being reached (their confirmations sent
    and forgotten)."""
    people = {
        "email": sign_up(event, "Email Only", email="e@example.org"),
        "text": sign_up(
            event, "Text Only", email="", phone="+14165550101", consent=["text"]
        ),
        "call": sign_up(event, "Phone Only", email="", phone="+14165550102"),
        "withdrawn": sign_up(
            event, "Withdrew Email", email="w@example.org", phone="+14165550103"
        ),
        "both": sign_up(
            event, "Both", email="b@example.org", phone="+14165550104", consent=["text"]
        ),
    }
    consent_rules.withdraw(registration=people["withdrawn"], channel=Channel.EMAIL)
    run_tasks()
    mail.outbox.clear()
    sms.outbox.clear()
    return people


def ids(queryset):
    return sorted(queryset.values_list("pk", flat=True))


# Audiences ------------------------------------------------------------------------


def test_confirmed_and_waitlist_audiences(event_index):
    event = make_registration_event(event_index, capacity=1)
    placed = sign_up(event, "Placed")
    waiting = sign_up(event, "Waiting")
    gone = sign_up(event, "Gone")  # second on the waitlist, then leaves it
    cancel(registration=gone)
    anonymised = sign_up(event, "Anon")
    Registration.objects.filter(pk=anonymised.pk).update(anonymised_at=MORNING)

    assert ids(rules.group_message_audience(event, GroupAudience.CONFIRMED)) == [
        placed.pk
    ]
    waitlist = rules.group_message_audience(event, GroupAudience.WAITLIST)
    assert ids(waitlist) == [waiting.pk]


def test_attended_and_missed_audiences(event, past_session):
    came, late, left, absent, excused, unrecorded, after, gone, anon = (
        sign_up(event, name, by_coordinator=True) for name in "ABCDEFGHI"
    )
    Registration.objects.filter(event=event).update(
        created_at=past_session.start - dt.timedelta(days=1)
    )
    # Signed up after the session started: could not have missed it.
    Registration.objects.filter(pk=after.pk).update(created_at=MORNING)
    for person, status in [
        (came, AttendanceStatus.PRESENT),
        (late, AttendanceStatus.LATE),
        (left, AttendanceStatus.LEFT_EARLY),
        (absent, AttendanceStatus.ABSENT),
        (excused, AttendanceStatus.EXCUSED),
        (gone, AttendanceStatus.PRESENT),
        (anon, AttendanceStatus.PRESENT),
    ]:
        AttendanceRecord.objects.create(
            session=past_session, registration=person, status=status
        )
    AttendanceRecord.objects.create(
        session=past_session, walk_in_name="Walk In", status=AttendanceStatus.PRESENT
    )
    cancel(registration=gone)
    Registration.objects.filter(pk=anon.pk).update(anonymised_at=MORNING)

    attended = rules.group_message_audience(event, GroupAudience.ATTENDED, past_session)
    missed = rules.group_message_audience(event, GroupAudience.MISSED, past_session)

    assert ids(attended) == sorted([came.pk, late.pk, left.pk])
    assert ids(missed) == sorted([absent.pk, excused.pk, unrecorded.pk])


def test_a_session_audience_needs_a_session_of_the_event(
    event, past_session, event_index
):
    other = make_registration_event(event_index)
    other_session = make_session(other, start=MORNING - dt.timedelta(hours=2))
    with pytest.raises(AttendanceError) as error:
        rules.group_message_audience(event, GroupAudience.MISSED)
    assert error.value.code == "session"
    with pytest.raises(AttendanceError):
        rules.group_message_audience(event, GroupAudience.ATTENDED, other_session)


def test_sessions_offered_have_started_and_were_not_cancelled(event, past_session):
    from events.sessions import cancel_session

    cancelled = make_session(event, start=MORNING - dt.timedelta(days=7))
    cancel_session(session=cancelled, notify=False)
    offered = list(rules.sessions_to_message_about(event))
    # The event's own session (tomorrow) has not started.
    assert offered == [past_session]


# Preview --------------------------------------------------------------------------


def test_preview_counts_each_channel_for_a_mixed_group(event, mixed):
    preview = rules.preview_group_message(
        event=event,
        audience=GroupAudience.CONFIRMED,
        session=None,
        body="The room has changed to 204.",
    )
    assert preview.people == 5
    assert preview.by_email == 2  # email only, and both
    assert preview.by_text == 2  # text only, and both
    assert preview.on_call_list == 2  # phone only, and email withdrawn
    assert preview.held == 0
    assert preview.unreachable == 0
    assert preview.segments == 1
    assert "The room has changed to 204." in preview.text
    assert "The room has changed to 204." in preview.email_body
    # The stand-in, never anyone in the group.
    for person in mixed.values():
        assert person.name not in preview.email_body
        assert manage_token(person) not in preview.email_body


def test_preview_counts_in_a_constant_number_of_queries(
    event, django_assert_max_num_queries
):
    def preview():
        rules.preview_group_message(
            event=event,
            audience=GroupAudience.CONFIRMED,
            session=None,
            body="Hello all.",
        )

    sign_up(event, phone="+14165550100", consent=["text"])
    preview()  # site settings and URL caches warm up
    with django_assert_max_num_queries(8) as few:
        preview()
    for n in range(8):
        sign_up(event, phone=f"+141655501{n:02d}", consent=["text", "email"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        preview()


def test_preview_counts_the_segments_and_says_when_characters_change(event, mixed):
    long_body = "Please bring a pen and your notebook. " * 8  # 304 characters
    preview = rules.preview_group_message(
        event=event, audience=GroupAudience.CONFIRMED, session=None, body=long_body
    )
    assert preview.segments == 3
    assert not preview.too_long
    assert not preview.replaced_characters

    curly = rules.preview_group_message(
        event=event,
        audience=GroupAudience.CONFIRMED,
        session=None,
        body="We\u2019re meeting at the f\u00eate \u2014 see you.",
    )
    assert curly.replaced_characters
    assert "We're meeting at the fete - see you." in curly.text

    too_long = rules.preview_group_message(
        event=event,
        audience=GroupAudience.CONFIRMED,
        session=None,
        body="x" * 600,
    )
    assert too_long.segments == 5
    assert too_long.too_long


def test_preview_at_night_says_the_texts_wait_for_morning(event, mixed, daytime):
    daytime.move_to(NIGHT, tick=False)
    preview = rules.preview_group_message(
        event=event, audience=GroupAudience.CONFIRMED, session=None, body="Hi."
    )
    assert preview.held == 2
    assert preview.held_until == dt.datetime(2026, 3, 11, 8, 0, tzinfo=TORONTO)


# Sending ----------------------------------------------------------------------------


def test_sending_emails_texts_and_fills_the_call_list(
    event, mixed, coordinator, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = rules.send_group_message(
            event=event,
            audience=GroupAudience.CONFIRMED,
            session=None,
            body="The room has changed to 204.",
            user=coordinator,
        )
    assert message.recipients == 5
    assert message.author == coordinator
    assert sorted(m.to[0] for m in mail.outbox) == ["b@example.org", "e@example.org"]
    assert all("The room has changed to 204." in m.body for m in mail.outbox)
    assert sorted(t.to for t in sms_outbox) == ["+14165550101", "+14165550104"]
    assert all("The room has changed to 204." in t.body for t in sms_outbox)
    deliveries = Delivery.objects.filter(group_message=message)
    assert deliveries.count() == 4
    assert set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert set(deliveries.values_list("kind", flat=True)) == {MessageKind.GROUP}
    calls = CallRequest.objects.filter(group_message=message)
    assert sorted(calls.values_list("registration", flat=True)) == sorted(
        [mixed["call"].pk, mixed["withdrawn"].pk]
    )


def test_at_night_texts_are_held_and_emails_go(
    event, mixed, coordinator, sms_outbox, daytime, django_capture_on_commit_callbacks
):
    daytime.move_to(NIGHT, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        message = rules.send_group_message(
            event=event,
            audience=GroupAudience.CONFIRMED,
            session=None,
            body="See you tomorrow.",
            user=coordinator,
        )
    assert len(mail.outbox) == 2
    assert sms_outbox == []
    held = Delivery.objects.filter(group_message=message, channel=Channel.TEXT)
    assert {d.status for d in held} == {DeliveryStatus.PENDING}
    morning = dt.datetime(2026, 3, 11, 8, 0, tzinfo=TORONTO)
    assert {d.send_after for d in held} == {morning}


def test_an_empty_audience_sends_nothing(event, past_session, coordinator):
    with pytest.raises(AttendanceError) as error:
        rules.send_group_message(
            event=event,
            audience=GroupAudience.ATTENDED,
            session=past_session,
            body="Thanks for coming.",
            user=coordinator,
        )
    assert error.value.code == "empty_audience"
    assert not GroupMessage.objects.exists()


def test_a_message_over_four_texts_is_refused(event, mixed, coordinator):
    with pytest.raises(AttendanceError) as error:
        rules.send_group_message(
            event=event,
            audience=GroupAudience.CONFIRMED,
            session=None,
            body="x" * 600,
            user=coordinator,
        )
    assert error.value.code == "too_many_segments"
    assert not GroupMessage.objects.exists()


def test_sending_is_audited_without_personal_data(event, mixed, coordinator):
    body = "Private words the writer chose."
    message = rules.send_group_message(
        event=event,
        audience=GroupAudience.CONFIRMED,
        session=None,
        body=body,
        user=coordinator,
    )
    entry = PageLogEntry.objects.get(action=rules.GROUP_MESSAGE_SENT)
    assert entry.page_id == event.pk
    assert entry.user_id == coordinator.pk
    assert entry.data == {
        "by": "staff",
        "group_message": message.pk,
        "audience": "confirmed",
        "session": None,
        "recipients": 5,
    }
    logged = f"{entry.data} {entry.label}"
    assert body not in logged
    for person in mixed.values():
        assert person.name not in logged
        assert str(person.phone) not in logged or not person.phone


# Admin screens --------------------------------------------------------------------


def compose_url(event):
    return reverse("attendance_group_message_compose", args=[event.pk])


def test_preview_screen_shows_the_text_counts_and_warnings(
    client, event, mixed, coordinator
):
    client.force_login(coordinator)
    body = "Bring a pen and your notebook, please. " * 8
    response = client.post(
        compose_url(event), {"audience": "confirmed", "body": body, "preview": "1"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This will go as 3 text messages." in html
    assert "By email" in html and "On the call list" in html
    assert 'name="confirm"' in html
    assert "Send to 5 people" in html
    # What was typed stays in the form.
    assert "Bring a pen and your notebook, please." in html
    for person in mixed.values():
        assert person.name not in html


def test_the_screen_refuses_to_send_over_four_texts(client, event, mixed, coordinator):
    client.force_login(coordinator)
    response = client.post(
        compose_url(event), {"audience": "confirmed", "body": "\u00ea" * 600}
    )
    html = response.content.decode()
    assert "more than 4" in html
    assert "Some characters will be replaced" in html
    assert 'name="confirm"' not in html


def test_the_screen_sends_what_was_previewed_and_lists_it(
    client, event, mixed, coordinator, sms_outbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    data = {"audience": "confirmed", "body": "Room 204 today."}
    preview = client.post(compose_url(event), {**data, "preview": "1"})
    previewed = preview.context["previewed"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            compose_url(event), {**data, "confirm": "1", "previewed": previewed}
        )
    sent_url = reverse("attendance_group_messages", args=[event.pk])
    assert response.status_code == 302
    assert response["Location"] == sent_url
    assert GroupMessage.objects.get().recipients == 5
    listing = client.get(sent_url).content.decode()
    assert "Room 204 today." in listing
    assert "2 sent, 0 waiting, 0 failed" in listing  # emails and texts
    assert "2 to call, 0 done" in listing


def test_a_second_click_on_send_sends_nothing_more(
    client, event, mixed, coordinator, sms_outbox, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    data = {"audience": "confirmed", "body": "Room 204 today."}
    previewed = client.post(compose_url(event), {**data, "preview": "1"}).context[
        "previewed"
    ]
    confirm = {**data, "confirm": "1", "previewed": previewed}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(compose_url(event), confirm)
    sent = (len(mail.outbox), len(sms_outbox), CallRequest.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(compose_url(event), confirm, follow=True)
    assert GroupMessage.objects.count() == 1
    assert (len(mail.outbox), len(sms_outbox), CallRequest.objects.count()) == sent
    assert again.redirect_chain[-1][0] == reverse(
        "attendance_group_messages", args=[event.pk]
    )
    assert "it was not sent again" in again.content.decode()


def test_the_same_words_later_are_a_new_message(event, mixed, coordinator):
    first = rules.send_group_message(
        event=event, audience="confirmed", session=None, body="Hi", user=coordinator
    )
    GroupMessage.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - rules.REPEAT_WINDOW - dt.timedelta(minutes=1)
    )
    rules.send_group_message(
        event=event, audience="confirmed", session=None, body="Hi", user=coordinator
    )
    assert GroupMessage.objects.count() == 2


def test_a_changed_message_is_previewed_again_not_sent(
    client, event, mixed, coordinator
):
    client.force_login(coordinator)
    preview = client.post(
        compose_url(event), {"audience": "confirmed", "body": "First words."}
    )
    response = client.post(
        compose_url(event),
        {
            "audience": "confirmed",
            "body": "Second words.",
            "confirm": "1",
            "previewed": preview.context["previewed"],
        },
    )
    assert response.status_code == 200
    assert not GroupMessage.objects.exists()
    assert "Second words." in response.content.decode()


def test_an_empty_audience_is_said_plainly(client, event, past_session, coordinator):
    client.force_login(coordinator)
    response = client.post(
        compose_url(event),
        {"audience": "attended", "session": past_session.pk, "body": "Thanks!"},
    )
    html = response.content.decode()
    assert "Nobody is in this group" in html
    assert 'name="confirm"' not in html


def test_a_session_audience_without_a_session_keeps_the_text(
    client, event, coordinator
):
    client.force_login(coordinator)
    response = client.post(
        compose_url(event), {"audience": "missed", "body": "We missed you."}
    )
    html = response.content.decode()
    assert "Choose the session the message is about." in html
    assert "We missed you." in html


def test_facilitator_may_message_their_own_event_only(
    client, event, facilitator, event_index, mixed
):
    other = make_registration_event(event_index, title="Thursday walk")
    client.force_login(facilitator)
    assert client.get(compose_url(event)).status_code == 200
    assert client.get(compose_url(other)).status_code == 403
    refused = client.post(
        compose_url(other), {"audience": "confirmed", "body": "Hi", "confirm": "1"}
    )
    assert refused.status_code == 403
    url = reverse("attendance_group_message_choose")
    choose = client.get(url).content.decode()
    # The event is picked in the chooser, whose modal lists their own only.
    assert reverse("event_chooser:choose") in choose
    assert "Tuesday circle" not in choose and "Thursday walk" not in choose
    modal = client.get(reverse("event_chooser:choose")).content.decode()
    assert "Tuesday circle" in modal and "Thursday walk" not in modal
    # A forged id (or not an id) is a form error that names no event.
    for value in [other.pk, "abc", "99999999999999999999999"]:
        refused = client.get(url, {"event": value})
        assert refused.status_code == 200, value
        assert "event" in refused.context["form"].errors
        assert "Thursday walk" not in refused.content.decode()
    chosen = client.get(url, {"event": event.pk})
    assert chosen.status_code == 302 and chosen["Location"] == compose_url(event)


def test_editor_is_refused(client, event, django_user_model):
    editor = user_in(django_user_model, "editor", EDITORS_GROUP)
    client.force_login(editor)
    assert client.get(reverse("attendance_group_message_choose")).status_code == 403
    assert client.get(compose_url(event)).status_code == 403
    sent = reverse("attendance_group_messages", args=[event.pk])
    assert client.get(sent).status_code == 403


def test_event_page_header_and_listing_offer_the_screen(client, event, coordinator):
    client.force_login(coordinator)
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[event.pk]))
    assert compose_url(event) in edit.content.decode()
    listing = client.get(reverse("wagtailadmin_explore", args=[event.get_parent().pk]))
    assert compose_url(event) in listing.content.decode()


# The person's own page -------------------------------------------------------------


def test_manage_page_shows_the_messages_sent_to_the_person(
    client, event, mixed, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rules.send_group_message(
            event=event,
            audience=GroupAudience.CONFIRMED,
            session=None,
            body="Room 204 today.",
            user=coordinator,
        )
    waiting_only = GroupMessage.objects.create(
        event=event, audience=GroupAudience.WAITLIST, body="Not for you."
    )
    for person in (mixed["email"], mixed["call"]):
        page = client.get(reverse("registration_manage", args=[manage_token(person)]))
        html = page.content.decode()
        assert "Messages from the organisers" in html
        assert "Room 204 today." in html
        assert waiting_only.body not in html
    newcomer = sign_up(event, "Newcomer")
    page = client.get(reverse("registration_manage", args=[manage_token(newcomer)]))
    assert "Messages from the organisers" not in page.content.decode()


def test_what_came_of_each_text_is_recorded(
    event, mixed, coordinator, settings, django_capture_on_commit_callbacks
):
    """The results of a batch are saved per outcome (``messaging._record``):
    sent with the provider's id, refused for good, or to be tried again."""
    from core.sms.backends import locmem

    locmem.fail_for("+14165550101", retryable=False, error="unknown number")
    locmem.fail_for("+14165550104", retryable=True, error="provider busy")
    with django_capture_on_commit_callbacks(execute=True):
        message = rules.send_group_message(
            event=event,
            audience=GroupAudience.CONFIRMED,
            session=None,
            body="Room 204.",
            user=coordinator,
        )
    texts = {
        d.registration_id: d
        for d in Delivery.objects.filter(group_message=message, channel=Channel.TEXT)
    }
    refused, retried = texts[mixed["text"].pk], texts[mixed["both"].pk]
    assert (refused.status, refused.error, refused.attempts) == (
        DeliveryStatus.FAILED,
        "unknown number",
        1,
    )
    first_delay = dt.timedelta(minutes=settings.GATHER_MESSAGE_RETRY_MINUTES[0])
    assert (retried.status, retried.attempts) == (DeliveryStatus.PENDING, 1)
    assert retried.send_after == MORNING + first_delay
    emails = Delivery.objects.filter(group_message=message, channel=Channel.EMAIL)
    assert {(d.status, d.attempts) for d in emails} == {(DeliveryStatus.SENT, 1)}
    assert all(d.sent_at == MORNING for d in emails)


def test_sent_texts_keep_the_provider_s_id(
    event, mixed, coordinator, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = rules.send_group_message(
            event=event,
            audience=GroupAudience.CONFIRMED,
            session=None,
            body="Room 204.",
            user=coordinator,
        )
    texts = Delivery.objects.filter(group_message=message, channel=Channel.TEXT)
    provider_ids = {d.provider_id for d in texts}
    assert len(provider_ids) == 2 and all(provider_ids)


def test_sent_messages_are_counted_in_three_queries(
    event,
    mixed,
    coordinator,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    """Guards the sent list against a query per message or per delivery."""
    for words in ("One.", "Two.", "Three."):
        with django_capture_on_commit_callbacks(execute=True):
            rules.send_group_message(
                event=event,
                audience=GroupAudience.CONFIRMED,
                session=None,
                body=words,
                user=coordinator,
            )
    with django_assert_num_queries(3):
        sent = rules.sent_group_messages(event)
        summary = [(s.message.body, s.emails_sent, s.calls_waiting) for s in sent]
    assert summary == [("Three.", 2, 2), ("Two.", 2, 2), ("One.", 2, 2)]
