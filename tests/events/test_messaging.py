"""Messages by each person's channels: routing, quiet hours, retries, texts
that fit one segment, discreet wording, short links, delivery reports."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from core import sms
from core.models import SiteSettings
from core.sms.backends import locmem
from events import messaging
from events.consent import record_given
from events.models import (
    CallRequest,
    Channel,
    Consent,
    Delivery,
    DeliveryStatus,
    GroupMessage,
    MessageKind,
    Registration,
)
from events.registration import cancel, register
from events.sessions import cancel_session
from events.tasks import send_messages
from tests.conftest import make_registration_event, make_session

pytestmark = [pytest.mark.django_db, pytest.mark.tasks]
TORONTO = ZoneInfo("America/Toronto")
PHONE = "+14165550123"


def _person(event, *, email="", phone="", consent=(), withdrawn=(), **fields):
    registration = register(
        event=event,
        name="Sam Rivera",
        email=email,
        phone=phone,
        consent=consent,
        notify=False,
        **fields,
    ).registration
    for channel in withdrawn:
        Consent.objects.update_or_create(
            registration=registration,
            channel=channel,
            defaults={"withdrawn_at": timezone.now()},
        )
    return Registration.objects.prefetch_related("consents").get(pk=registration.pk)


# Routing ----------------------------------------------------------------------

CONTACTS = {
    "email only": {"email": "sam@example.org"},
    "phone only": {"phone": PHONE},
    "both": {"email": "sam@example.org", "phone": PHONE},
}
CONSENTS = {
    "none": ((), ()),
    "email": ((Channel.EMAIL,), ()),
    "text": ((Channel.TEXT,), ()),
    "call": ((Channel.CALL,), ()),
    "email withdrawn": ((), (Channel.EMAIL,)),
    "text and call withdrawn": ((Channel.TEXT,), (Channel.TEXT, Channel.CALL)),
}


def _expected(contact, consent, kind):
    """The routing rule, written out plainly."""
    given, withdrawn = CONSENTS[consent]
    has_email = "email" in CONTACTS[contact]
    has_phone = "phone" in CONTACTS[contact]
    reminder = kind == MessageKind.REMINDER
    email = (
        has_email
        and Channel.EMAIL not in withdrawn
        and (not reminder or Channel.EMAIL in given)
    )
    text = has_phone and Channel.TEXT in given and Channel.TEXT not in withdrawn
    call = (
        not email
        and not text
        and has_phone
        and Channel.CALL not in withdrawn
        and (not reminder or Channel.CALL in given)
    )
    return messaging.Route(email=email, text=text, call=call)


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_goes_by_the_channels_each_person_chose(event_index, kind):
    event = make_registration_event(event_index, capacity=None)
    for n, (contact, consent) in enumerate(itertools.product(CONTACTS, CONSENTS)):
        given, withdrawn = CONSENTS[consent]
        details = {  # each person their own, or they are one repeat sign-up
            field: f"sam{n}@example.org" if field == "email" else f"+1416555{n:04d}"
            for field in CONTACTS[contact]
        }
        person = _person(event, **details, consent=given, withdrawn=withdrawn)
        assert messaging.route(person, kind) == _expected(contact, consent, kind), (
            contact,
            consent,
        )


def test_nobody_with_a_phone_is_left_without_a_way_to_hear(event_index):
    event = make_registration_event(event_index, capacity=None)
    person = _person(event, phone=PHONE)
    for kind in set(MessageKind) - {MessageKind.REMINDER}:
        way = messaging.route(person, kind)
        assert way.email or way.text or way.call


def test_a_phone_only_sign_up_with_text_consent_gets_a_text(
    event_index, django_capture_on_commit_callbacks, sms_outbox
):
    event = make_registration_event(event_index)
    with django_capture_on_commit_callbacks(execute=True):
        result = register(event=event, name="Sam", phone=PHONE, consent=[Channel.TEXT])
    [text] = sms_outbox
    assert text.to == PHONE
    assert "you have a place" in text.body
    assert sms.segments(text.body) == 1
    assert messaging.short_link(result.registration) in text.body
    delivery = Delivery.objects.get(registration=result.registration)
    assert (delivery.channel, delivery.status, delivery.attempts) == (
        Channel.TEXT,
        DeliveryStatus.SENT,
        1,
    )
    assert mail.outbox == []
    assert not CallRequest.objects.exists()


def test_a_phone_only_sign_up_without_text_consent_goes_on_the_call_list(
    event_index, django_capture_on_commit_callbacks, sms_outbox
):
    event = make_registration_event(event_index)
    with django_capture_on_commit_callbacks(execute=True):
        result = register(event=event, name="Sam", phone=PHONE)
    [call] = CallRequest.objects.all()
    assert (call.registration, call.reason, call.kind) == (
        result.registration,
        "new_sign_up",
        MessageKind.CONFIRMED,
    )
    assert sms_outbox == []
    assert not Delivery.objects.exists()


def test_a_phone_only_person_promoted_from_the_waitlist_goes_on_the_call_list(
    event_index, django_capture_on_commit_callbacks
):
    event = make_registration_event(event_index, capacity=1)
    first = register(event=event, name="Ana", email="ana@example.org").registration
    with django_capture_on_commit_callbacks(execute=True):
        waiting = register(event=event, name="Sam", phone=PHONE).registration
    assert waiting.status == "waitlisted"
    with django_capture_on_commit_callbacks(execute=True):
        cancel(registration=first)
    reasons = list(
        CallRequest.objects.filter(registration=waiting).values_list(
            "reason", flat=True
        )
    )
    assert reasons == ["waitlisted", "promoted"]


def test_reminders_go_by_text_to_people_who_agreed_and_never_to_the_others(
    event_index, django_capture_on_commit_callbacks, sms_outbox
):
    from events.reminders import send_due_reminders

    event = make_registration_event(event_index, capacity=None)
    texted = _person(event, phone=PHONE, consent=[Channel.TEXT])
    _person(event, phone="+14165550124")  # no consent to reminders: nothing
    called = _person(event, phone="+14165550125", consent=[Channel.CALL])
    session = event.sessions.get()
    # Nine hours before 6 p.m.: a reminder's time, outside quiet hours.
    with time_machine.travel(session.start - dt.timedelta(hours=9), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            send_due_reminders()
    assert [t.to for t in sms_outbox] == [str(texted.phone)]
    assert "a reminder of your place" in sms_outbox[0].body
    assert list(CallRequest.objects.values_list("registration", "reason")) == [
        (called.pk, "reminder")
    ]


# Quiet hours ----------------------------------------------------------------


def _local(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TORONTO)


@pytest.mark.parametrize(
    ("hour", "held_until_hour"),
    [(20, None), (21, 8), (23, 8), (2, 8), (7, 8), (8, None), (12, None)],
)
def test_quiet_hours_hold_texts_until_eight(hour, held_until_hour):
    day = dt.date(2026, 12, 3)
    now = _local(day, hour, 30 if hour == 7 else 0)
    end = messaging.quiet_hours_end(now)
    if held_until_hour is None:
        assert end is None
    else:
        expected_day = day + dt.timedelta(days=1) if hour >= 21 else day
        assert end == _local(expected_day, held_until_hour)


def test_quiet_hours_follow_the_settings(settings):
    settings.GATHER_QUIET_HOURS_START = "13:00"
    settings.GATHER_QUIET_HOURS_END = "14:00"
    day = dt.date(2026, 12, 3)
    assert messaging.quiet_hours_end(_local(day, 13, 30)) == _local(day, 14)
    assert messaging.quiet_hours_end(_local(day, 14)) is None


def test_quiet_hours_end_at_eight_local_across_a_daylight_saving_change():
    # Clocks go back at 2:00 on 1 November 2026 in Toronto.
    now = _local(dt.date(2026, 10, 31), 22)
    end = messaging.quiet_hours_end(now)
    assert end == _local(dt.date(2026, 11, 1), 8)
    assert end.astimezone(dt.UTC) - now.astimezone(dt.UTC) == dt.timedelta(hours=11)


def test_a_text_at_night_is_held_and_sent_in_the_morning(
    event_index, django_capture_on_commit_callbacks, sms_outbox
):
    event = make_registration_event(event_index, capacity=None)
    person = _person(event, phone=PHONE, consent=[Channel.TEXT])
    message = GroupMessage.objects.create(
        event=event, audience="confirmed", body="Bring your workbook."
    )
    night = _local(dt.date(2026, 12, 3), 22, 15)
    with time_machine.travel(night, tick=False):
        send_messages.call([person.pk], MessageKind.GROUP, group_message_id=message.pk)
    assert sms_outbox == []
    held = Delivery.objects.get()
    assert held.status == DeliveryStatus.PENDING
    assert held.send_after == _local(dt.date(2026, 12, 4), 8)

    with time_machine.travel(_local(dt.date(2026, 12, 4), 7, 50), tick=False):
        assert messaging.send_due_messages() == 0
    with time_machine.travel(_local(dt.date(2026, 12, 4), 8, 5), tick=False):
        assert messaging.send_due_messages() == 1
        assert messaging.send_due_messages() == 0  # sent once
    [text] = sms_outbox
    assert "Bring your workbook." in text.body
    held.refresh_from_db()
    assert held.status == DeliveryStatus.SENT


def test_a_reply_to_a_sign_up_goes_at_once_even_at_night(
    event_index, django_capture_on_commit_callbacks, sms_outbox
):
    with time_machine.travel(_local(dt.date(2026, 12, 3), 23), tick=False):
        event = make_registration_event(event_index)
        with django_capture_on_commit_callbacks(execute=True):
            register(event=event, name="Sam", phone=PHONE, consent=[Channel.TEXT])
    assert len(sms_outbox) == 1


def _event_with_session_at(event_index, start):
    event = make_registration_event(event_index, capacity=None)
    event.sessions.all().delete()
    return event, make_session(event, start=start)


@pytest.mark.parametrize(("hours_ahead", "sent_now"), [(10, True), (30, False)])
def test_a_change_to_a_session_soon_is_sent_at_once_at_night(
    event_index, django_capture_on_commit_callbacks, sms_outbox, hours_ahead, sent_now
):
    night = _local(dt.date(2026, 12, 3), 22)
    with time_machine.travel(night, tick=False):
        event, session = _event_with_session_at(
            event_index, night + dt.timedelta(hours=hours_ahead)
        )
        _person(event, phone=PHONE, consent=[Channel.TEXT])
        with django_capture_on_commit_callbacks(execute=True):
            cancel_session(session=session, public_note="")
    assert len(sms_outbox) == (1 if sent_now else 0)
    if sent_now:
        assert "is cancelled" in sms_outbox[0].body


# Failures and retries ----------------------------------------------------------


def test_a_passing_failure_is_tried_again_then_lands_as_failed(
    event_index, settings, sms_outbox
):
    settings.GATHER_MESSAGE_RETRY_MINUTES = [5, 30]
    failed = []

    def receiver(sender, deliveries, **kwargs):
        failed.extend(d.pk for d in deliveries)

    from events.signals import delivery_failed

    delivery_failed.connect(receiver)
    try:
        event = make_registration_event(event_index, capacity=None)
        person = _person(event, phone=PHONE, consent=[Channel.TEXT])
        start = _local(dt.date(2026, 12, 3), 12)
        locmem.fail_next(3, retryable=True)
        with time_machine.travel(start, tick=False):
            send_messages.call([person.pk], MessageKind.CONFIRMED)
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
        assert delivery.send_after == start + dt.timedelta(minutes=5)

        with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
            messaging.send_due_messages()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 2)
        assert delivery.send_after == start + dt.timedelta(minutes=36)
        assert failed == []

        with time_machine.travel(start + dt.timedelta(minutes=40), tick=False):
            messaging.send_due_messages()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
        assert failed == [delivery.pk]
        assert sms_outbox == []
    finally:
        delivery_failed.disconnect(receiver)


def test_a_refused_number_fails_at_once(event_index, sms_outbox):
    event = make_registration_event(event_index, capacity=None)
    person = _person(event, phone=PHONE, consent=[Channel.TEXT])
    locmem.fail_for(PHONE, retryable=False)
    send_messages.call([person.pk], MessageKind.CONFIRMED)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.error
    assert PHONE not in delivery.error


def test_a_held_message_is_not_sent_once_consent_is_withdrawn(event_index, sms_outbox):
    event = make_registration_event(event_index, capacity=None)
    person = _person(event, phone=PHONE, consent=[Channel.TEXT])
    message = GroupMessage.objects.create(event=event, audience="confirmed", body="Hi")
    night = _local(dt.date(2026, 12, 3), 23)
    with time_machine.travel(night, tick=False):
        send_messages.call([person.pk], MessageKind.GROUP, group_message_id=message.pk)
    Consent.objects.filter(registration=person, channel=Channel.TEXT).update(
        withdrawn_at=night
    )
    with time_machine.travel(night + dt.timedelta(hours=10), tick=False):
        messaging.send_due_messages()
    assert sms_outbox == []
    assert Delivery.objects.get().status == DeliveryStatus.NOT_SENT


def test_a_delivery_report_marks_a_text_delivered_or_failed(event_index, sms_outbox):
    event = make_registration_event(event_index, capacity=None)
    person = _person(event, phone=PHONE, consent=[Channel.TEXT])
    send_messages.call([person.pk], MessageKind.CONFIRMED)
    delivery = Delivery.objects.get()
    assert delivery.provider_id
    sms.text_status_changed.send(
        sender=None, provider_id=delivery.provider_id, status="delivered", error=""
    )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    sms.text_status_changed.send(
        sender=None, provider_id=delivery.provider_id, status="failed", error="30003"
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error) == (DeliveryStatus.FAILED, "30003")


def test_group_batches_use_a_constant_number_of_queries(
    event_index, django_assert_max_num_queries, sms_outbox
):
    event = make_registration_event(event_index, capacity=None)
    message = GroupMessage.objects.create(event=event, audience="confirmed", body="Hi")

    def people(n):
        return [
            _person(
                event,
                email=f"p{i}-{n}@example.org" if i % 2 else "",
                phone=f"+1416555{1000 + n * 10 + i:04d}" if not i % 2 else "",
                consent=[Channel.TEXT],
            ).pk
            for i in range(n)
        ]

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    send_messages.call(people(2), MessageKind.GROUP, group_message_id=message.pk)
    counts = []
    for n in (4, 12):
        ids = people(n)
        with CaptureQueriesContext(connection) as queries:
            send_messages.call(ids, MessageKind.GROUP, group_message_id=message.pk)
        counts.append(len(queries))
    assert counts[0] == counts[1]


# Words ------------------------------------------------------------------------

#: A long, realistic site address for the short link.
LONG_SITE = "https://groups.peersupport-example-region.ca"


@pytest.fixture
def longest(event_index, settings, home_page):
    """An event and a person with the longest realistic values a text carries."""
    site_settings = SiteSettings.for_site(home_page.get_site())
    site_settings.organisation_name = "Regional Peer Support and Recovery Services"
    site_settings.short_name = "PeerSupport"
    site_settings.messages_name_the_group = True
    site_settings.save()
    settings.BASE_URL = LONG_SITE
    event = make_registration_event(
        event_index,
        title="Hearing Voices Peer Support Group (Wednesday evenings, downtown)",
    )
    # The longest date and time: Wednesday 30 September, 12:30 p.m.
    event.sessions.all().delete()
    start = dt.datetime(2027, 9, 29, 12, 30, tzinfo=TORONTO)
    session = make_session(event, start=start)
    session.previous_start = dt.datetime(2027, 9, 30, 12, 30, tzinfo=TORONTO)
    person = _person(event, phone=PHONE, consent=[Channel.TEXT])
    person.waitlist_position = 100
    person.pk = 1_000_000_000  # a short link for a very large id
    return site_settings, event, session, person


@pytest.mark.parametrize("kind", sorted(set(MessageKind) - {MessageKind.GROUP}))
@pytest.mark.parametrize("naming", [True, False])
def test_every_text_fits_one_segment_with_the_longest_values(longest, kind, naming):
    site_settings, event, session, person = longest
    site_settings.messages_name_the_group = naming
    text = messaging.build_text(
        person,
        kind,
        session=session,
        organisation=site_settings,
        upcoming=session,
    )
    assert sms.is_gsm7(text)
    assert sms.segments(text) == 1, (len(text), text)
    assert text.startswith("PeerSupport: ")
    assert LONG_SITE + "/m/" in text
    if not naming:
        assert "Hearing" not in text
    assert "...." not in text and "(..." not in text


@pytest.mark.parametrize("kind", sorted(set(MessageKind) - {MessageKind.GROUP}))
def test_a_named_group_is_shortened_to_fit_or_left_out(longest, settings, kind):
    """With a long site address the name may not fit; with a short one every
    text names the group, shortened if need be, still in one segment."""
    site_settings, event, session, person = longest
    settings.BASE_URL = "https://peerhub.ca"
    text = messaging.build_text(
        person, kind, session=session, organisation=site_settings, upcoming=session
    )
    assert sms.segments(text) == 1
    assert "Hearing Voices" in text
    assert "Sam" not in text  # no name on a shared phone


class _LongestSeriesChange:
    """A change to the rest of a series with the most sessions a series has
    (three digits) from the longest date, cancelling or moving them."""

    pk = None

    def __init__(self, session, *, cancelling):
        self.session, self.is_cancellation = session, cancelling

    def changed_sessions(self):
        from events.sessions import MAX_SERIES_SESSIONS

        return [self.session] * MAX_SERIES_SESSIONS


@pytest.mark.parametrize("cancelling", [False, True])
@pytest.mark.parametrize("naming", [True, False])
def test_a_series_change_text_fits_one_segment_with_the_longest_values(
    longest, cancelling, naming
):
    site_settings, event, session, person = longest
    site_settings.messages_name_the_group = naming
    text = messaging.build_text(
        person,
        MessageKind.SERIES_CHANGED,
        series_change=_LongestSeriesChange(session, cancelling=cancelling),
        organisation=site_settings,
    )
    assert sms.is_gsm7(text)
    assert sms.segments(text) == 1, (len(text), text)
    assert text.startswith("PeerSupport: 104 sessions")
    assert ("are cancelled" if cancelling else "have changed") in text
    assert LONG_SITE + "/m/" in text
    assert "...." not in text


def test_texts_say_the_old_and_the_new_time_of_a_move(longest):
    site_settings, event, session, person = longest
    text = messaging.build_text(
        person, MessageKind.SESSION_MOVED, session=session, organisation=site_settings
    )
    assert "on Thu 30 Sep, 12:30 PM has moved to Wed 29 Sep, 12:30 PM" in text


def test_a_group_message_text_carries_what_was_written(longest):
    site_settings, event, session, person = longest
    message = GroupMessage(
        event=event, audience="confirmed", body="Room 2 tonight – sorry!"
    )
    text = messaging.build_text(
        person, MessageKind.GROUP, group_message=message, organisation=site_settings
    )
    assert text.startswith("PeerSupport: Room 2 tonight - sorry! ")
    assert "Hearing Voices" not in text
    assert sms.is_gsm7(text)


def test_plain_text_keeps_to_the_gsm_alphabet():
    assert messaging.plain_text("Café “Rêve” — 10 h…") == 'Café "Reve" - 10 h...'
    assert sms.is_gsm7(messaging.plain_text("Ω ü ê 😀 ⅓"))


@pytest.mark.parametrize("naming", [False, True])
def test_email_subjects_name_the_group_only_when_the_organisation_chose(
    event_index, home_page, django_capture_on_commit_callbacks, naming
):
    site_settings = SiteSettings.for_site(home_page.get_site())
    site_settings.messages_name_the_group = naming
    site_settings.save()
    event = make_registration_event(event_index, title="Recovery Circle")
    with django_capture_on_commit_callbacks(execute=True):
        register(event=event, name="Sam", email="sam@example.org")
    [message] = mail.outbox
    assert message.subject.startswith("Your place is booked")
    assert ("Recovery Circle" in message.subject) is naming


# Short links -----------------------------------------------------------------


def test_a_short_link_leads_to_the_manage_page(event_index, client):
    event = make_registration_event(event_index)
    person = _person(event, phone=PHONE, consent=[Channel.TEXT])
    code = messaging.short_code(person)
    assert len(code) <= 22
    response = client.get(f"/m/{code}")
    assert response.status_code == 302
    assert response["Location"].startswith("/manage/")
    assert "no-store" in response["Cache-Control"]
    assert client.get(response["Location"]).status_code == 200


def test_a_wrong_short_link_is_not_found_and_many_are_refused(event_index, client):
    event = make_registration_event(event_index)
    person = _person(event, phone=PHONE, consent=[Channel.TEXT])
    good = messaging.short_code(person)
    wrong = good[:-1] + ("a" if good[-1] != "a" else "b")
    assert client.get(f"/m/{wrong}").status_code == 404
    assert client.get("/m/not-a-code").status_code == 404
    for _ in range(40):
        client.get(f"/m/{wrong}")
    assert client.get(f"/m/{good}").status_code == 429


def test_a_new_manage_link_ends_the_old_short_link(event_index):
    event = make_registration_event(event_index)
    person = _person(event, phone=PHONE, consent=[Channel.TEXT])
    code = messaging.short_code(person)
    assert messaging.registration_for_short_code(code) == person
    Registration.objects.filter(pk=person.pk).update(token_salt="0" * 64)
    assert messaging.registration_for_short_code(code) is None


@override_settings(GATHER_QUIET_HOURS_START="00:00", GATHER_QUIET_HOURS_END="00:00")
def test_equal_start_and_end_mean_no_quiet_hours():
    assert messaging.quiet_hours_end(timezone.now()) is None


def test_consent_recorded_at_sign_up_is_what_routing_reads(event_index):
    event = make_registration_event(event_index)
    person = register(event=event, name="Sam", phone=PHONE, notify=False).registration
    record_given(person, [Channel.TEXT])
    person = Registration.objects.prefetch_related("consents").get(pk=person.pk)
    assert messaging.route(person, MessageKind.PROMOTED).text


def test_the_command_sends_what_is_due(event_index, sms_outbox, capsys):
    from django.core.management import call_command

    event = make_registration_event(event_index, capacity=None)
    person = _person(event, phone=PHONE, consent=[Channel.TEXT])
    message = GroupMessage.objects.create(event=event, audience="confirmed", body="Hi")
    night = _local(dt.date(2026, 12, 3), 23)
    with time_machine.travel(night, tick=False):
        send_messages.call([person.pk], MessageKind.GROUP, group_message_id=message.pk)
        call_command("send_due_messages")
    assert sms_outbox == []
    assert capsys.readouterr().out == ""
    with time_machine.travel(night + dt.timedelta(hours=9), tick=False):
        call_command("send_due_messages")
    assert len(sms_outbox) == 1
    assert "Tried 1 message(s)." in capsys.readouterr().out
