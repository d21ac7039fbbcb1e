"""Messages to participants, by the channels each person chose.

Every message about a place (a sign-up, the waitlist, a place opening, a
session cancelled or moved, a reminder, a message to the group) goes
through ``queue_messages``. When it runs, the task decides for each person:

* **email** when they gave an address and have not withdrawn consent to
  emails; a reminder only when they agreed to reminders by email;
* **text message** when they gave a phone number and agreed to texts;
* **a call from staff** (``CallRequest``, on the call list) when neither
  reaches them, so nobody is left without a way to hear about their place.
  A reminder goes on the call list only for people who agreed to be phoned.

Each email and text is a ``Delivery`` row: what it is about, when it may go,
how many tries it took and what came of it. Its words are built when it is
sent, so a message held until morning says what is true then.

**Quiet hours** (``GATHER_QUIET_HOURS_START``/``_END``, in the site's time
zone) hold reminders (by any channel) and texts until they end. Replies
to what the person just did on the site (their booking, the waitlist, their
cancellation) and a change to a session that starts within
``GATHER_URGENT_CHANGE_HOURS`` go at once. The offer of a place from the
waitlist (``place_offered``, ``events.offers``) is emailed at once and
texted when quiet hours end; its deadline counts from then.

**Failures never lose a message**: a provider's passing error is tried again
after each delay of ``GATHER_MESSAGE_RETRY_MINUTES`` (``send_due_messages``,
run every few minutes by ``make serve``); after the last try, or at once for
an address the provider refuses, the delivery is marked failed and
``events.signals.delivery_failed`` tells the staff follow-up inbox.

**Discreet**: texts begin with the organisation's short name (and come
from it where the country allows named senders: ``GATHER_SMS_SENDER``;
in Canada and the US they come from ``TWILIO_FROM_NUMBER``); no text or
email subject names the group unless the organisation chose that
(``SiteSettings.messages_name_the_group``). Texts name no venue and fit
one SMS segment: the group's name is shortened until they do.
"""

import dataclasses
import datetime as dt
import logging
import re
import unicodedata
from collections import defaultdict

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.template.defaultfilters import date as date_filter
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from core import sms, tokens
from core.background import enqueue_on_commit
from core.http import absolute_url
from core.phones import stored_e164

from . import signals
from .models import (
    CALL_REASONS,
    CallRequest,
    Channel,
    Delivery,
    DeliveryStatus,
    EventPage,
    EventSession,
    GroupMessage,
    MessageKind,
    Registration,
    RegistrationStatus,
    SeriesChange,
)

logger = logging.getLogger(__name__)

#: Kinds that answer what the person just did on the site: they go at once,
#: day or night, because the person is waiting for them.
REPLIES = {
    MessageKind.CONFIRMED,
    MessageKind.DATES_BOOKED,
    MessageKind.WAITLISTED,
    MessageKind.CANCELLED,
    MessageKind.LEFT_WAITLIST,
}
#: Kinds about one session that are urgent when it is close.
SESSION_CHANGES = {
    MessageKind.SESSION_CANCELLED,
    MessageKind.SESSION_MOVED,
    MessageKind.SERIES_CHANGED,
}
#: Kinds a person gets only on the channels they agreed to in so many words.
NEEDS_CONSENT = {MessageKind.REMINDER}

#: Most people one task handles (a task's arguments are stored).
PER_TASK = 500
#: How long a batch being sent is kept from another sender.
LEASE = dt.timedelta(minutes=15)
#: Longest group or event name a text carries (when the organisation
#: chose to name it), before it is shortened to fit one segment; shorter
#: than SHORTEST_NAME it would say nothing, so it is left out.
NAME_IN_TEXT = 40
SHORTEST_NAME = 12
SEGMENT = 160


# Who gets what, and when --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Route:
    """The channels a message reaches one person by."""

    email: bool
    text: bool
    call: bool


def route(registration: Registration, kind: str) -> Route:
    """How message ``kind`` reaches ``registration`` (reads ``consents``:
    prefetch them in lists)."""
    consents = {consent.channel: consent for consent in registration.consents.all()}

    def given(channel):
        consent = consents.get(channel)
        return consent is not None and consent.is_given

    def withdrawn(channel):
        consent = consents.get(channel)
        return consent is not None and consent.withdrawn_at is not None

    explicit = kind in NEEDS_CONSENT
    email = (
        bool(registration.email)
        and not withdrawn(Channel.EMAIL)
        and (given(Channel.EMAIL) or not explicit)
    )
    phone = bool(stored_e164(registration.phone))
    text = phone and given(Channel.TEXT)
    call = (
        not email
        and not text
        and phone
        and not withdrawn(Channel.CALL)
        and (given(Channel.CALL) or not explicit)
    )
    return Route(email=email, text=text, call=call)


def _clock(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def quiet_hours_end(now: dt.datetime) -> dt.datetime | None:
    """When the quiet hours ``now`` falls in end, or None outside them."""
    start = _clock(settings.GATHER_QUIET_HOURS_START)
    end = _clock(settings.GATHER_QUIET_HOURS_END)
    local = timezone.localtime(now)
    time_now = local.time()
    if start == end:
        return None
    if start < end:
        quiet = start <= time_now < end
        end_day = local.date()
    else:  # over midnight, the usual case: 21:00 to 08:00
        quiet = time_now >= start or time_now < end
        end_day = local.date() + dt.timedelta(days=1 if time_now >= start else 0)
    if not quiet:
        return None
    naive = dt.datetime.combine(end_day, end)
    return timezone.make_aware(naive, timezone.get_current_timezone())


def is_urgent(
    kind: str,
    session: EventSession | None,
    now: dt.datetime,
    series_change: SeriesChange | None = None,
) -> bool:
    """A change to a session that starts (or started out) within the next
    ``GATHER_URGENT_CHANGE_HOURS``; for a change to the rest of a series,
    to any of its sessions (the first, in practice)."""
    if kind not in SESSION_CHANGES:
        return False
    sessions = [session] if session is not None else []
    if series_change is not None:
        sessions += series_change.changed_sessions()
    soon = now + dt.timedelta(hours=settings.GATHER_URGENT_CHANGE_HOURS)
    starts = [
        start
        for each in sessions
        for start in (each.start, getattr(each, "previous_start", None))
    ]
    return any(start is not None and now - LEASE <= start <= soon for start in starts)


def send_after(
    kind: str,
    channel: str,
    session: EventSession | None,
    now: dt.datetime,
    series_change: SeriesChange | None = None,
) -> dt.datetime:
    """When a message may go: now, or when the quiet hours end."""
    if kind in REPLIES or is_urgent(kind, session, now, series_change):
        return now
    if channel == Channel.EMAIL and kind != MessageKind.REMINDER:
        return now  # an email waits in the inbox; only reminders are held
    return quiet_hours_end(now) or now


# Queueing -------------------------------------------------------------------


def queue_messages(
    registrations,
    kind: str,
    *,
    session: EventSession | None = None,
    group_message: GroupMessage | None = None,
    series_change: SeriesChange | None = None,
) -> None:
    """Tell ``registrations`` about ``kind``, once the transaction commits
    (never if it rolls back). Takes registrations or their ids;
    ``series_change`` for ``SERIES_CHANGED``, the sessions it lists."""
    from .tasks import send_messages

    ids = [getattr(each, "pk", each) for each in registrations]
    for start in range(0, len(ids), PER_TASK):
        enqueue_on_commit(
            send_messages,
            ids[start : start + PER_TASK],
            kind,
            session_id=session.pk if session else None,
            group_message_id=group_message.pk if group_message else None,
            series_change_id=series_change.pk if series_change else None,
        )


def _people(ids) -> list[Registration]:
    """The people of ``ids`` still holding their details, with consents,
    each event (and its venue) read once and shared: a message to a
    thousand people would otherwise build a thousand page objects."""
    people = list(
        Registration.objects.filter(pk__in=ids)
        .not_anonymised()
        .prefetch_related("consents")
        .order_by("event_id", "pk")
    )
    events = EventPage.objects.select_related("venue").in_bulk(
        {person.event_id for person in people}
    )
    for person in people:
        person.event = events[person.event_id]
    return people


def plan_messages(
    registration_ids,
    kind: str,
    *,
    session: EventSession | None = None,
    group_message: GroupMessage | None = None,
    series_change: SeriesChange | None = None,
    now: dt.datetime | None = None,
) -> list[Delivery]:
    """Write the deliveries and call-list entries of one message to many
    people; return the deliveries that may go now (already leased to the
    caller, so a concurrent ``send_due_messages`` leaves them alone)."""
    now = now or timezone.now()
    deliveries, due, calls = [], [], []
    for registration in _people(registration_ids):
        if not _still_relevant(registration, kind):
            continue
        way = route(registration, kind)
        common = {
            "registration": registration,
            "kind": kind,
            "session": session,
            "group_message": group_message,
            "series_change": series_change,
        }
        for channel, wanted in ((Channel.EMAIL, way.email), (Channel.TEXT, way.text)):
            if wanted:
                after = send_after(kind, channel, session, now, series_change)
                delivery = Delivery(
                    channel=channel,
                    send_after=now + LEASE if after <= now else after,
                    **common,
                )
                deliveries.append(delivery)
                if after <= now:
                    due.append(delivery)
        if way.call:
            calls.append(CallRequest(reason=CALL_REASONS[kind], **common))
    with transaction.atomic():
        Delivery.objects.bulk_create(deliveries)
        CallRequest.objects.bulk_create(calls)
    if calls:
        signals.call_requested.send(sender=CallRequest, call_requests=calls)
    return due


def _still_relevant(registration: Registration, kind: str) -> bool:
    """Whether a message of ``kind`` still concerns this person: a held
    reminder or change is not sent once they have cancelled."""
    if kind in (MessageKind.CANCELLED, MessageKind.LEFT_WAITLIST):
        return True
    if kind in (MessageKind.WAITLISTED, MessageKind.OFFER_EXPIRED):
        return registration.status == RegistrationStatus.WAITLISTED
    if kind == MessageKind.PLACE_OFFERED:
        # Not once they answered (by email, before a held text went) or
        # the offer ended.
        from .offers import open_offer

        offer = open_offer(registration)
        return offer is not None and offer.expires_at > timezone.now()
    if kind in (MessageKind.GROUP, MessageKind.DATES_BOOKED):
        # The writer chose the audience (the waitlist, say); only someone
        # who has since cancelled is left out.
        return registration.status != RegistrationStatus.CANCELLED
    return registration.status == RegistrationStatus.CONFIRMED


# Sending ----------------------------------------------------------------------


class MessageContext:
    """What the messages of one batch share, read once: each event's
    sessions and calendar (``events.emails.EmailContext``), the sessions and
    group messages they are about, and the organisation's details."""

    def __init__(self):
        from .emails import EmailContext

        self.emails = EmailContext()
        self.sessions: dict[int, EventSession] = {}
        self.group_messages: dict[int, GroupMessage] = {}
        self.series_changes: dict[int, SeriesChange] = {}
        self._texts: dict[tuple, str] = {}

    @property
    def organisation(self):
        return self.emails.organisation

    def text(
        self,
        registration,
        kind,
        session,
        group_message,
        organisation,
        length,
        series_change=None,
    ):
        """``_text_with_mark`` once per event, kind, session, message, place
        on the list and link length (the message listing someone's dates
        is their own)."""
        key = (
            registration.pk if kind == MessageKind.DATES_BOOKED else None,
            registration.session_id,
            registration.event_id,
            kind,
            getattr(session, "pk", None),
            getattr(group_message, "pk", None),
            getattr(series_change, "pk", None),
            registration.status,
            registration.waitlist_position,
            length,
        )
        if key not in self._texts:
            self._texts[key] = _text_with_mark(
                registration,
                kind,
                session=session,
                group_message=group_message,
                organisation=organisation,
                link_length=length,
                series_change=series_change,
            )
        return self._texts[key]

    def load(self, deliveries):
        session_ids = {d.session_id for d in deliveries if d.session_id}
        missing = session_ids - self.sessions.keys()
        if missing:
            for session in EventSession.objects.select_related("venue").filter(
                pk__in=missing
            ):
                self.sessions[session.pk] = session
        message_ids = {d.group_message_id for d in deliveries if d.group_message_id}
        missing = message_ids - self.group_messages.keys()
        if missing:
            for message in GroupMessage.objects.filter(pk__in=missing):
                self.group_messages[message.pk] = message
        change_ids = {d.series_change_id for d in deliveries if d.series_change_id}
        missing = change_ids - self.series_changes.keys()
        if missing:
            for change in SeriesChange.objects.prefetch_related(
                "sessions__venue", "sessions__previous_venue", "sessions__event__venue"
            ).filter(pk__in=missing):
                self.series_changes[change.pk] = change


def deliver(
    deliveries, *, now: dt.datetime | None = None, shared=None, fresh=False
) -> None:
    """Send ``deliveries`` (leased to the caller): emails over one mail
    connection, texts over one provider connection, then record what came
    of each in a few queries. Each person is read again first (they may
    have cancelled or withdrawn consent while it waited), unless ``fresh``
    says the deliveries were just planned from people read in this task."""
    deliveries = list(deliveries)
    if not deliveries:
        return
    now = now or timezone.now()
    shared = shared or MessageContext()
    shared.load(deliveries)
    if fresh:
        registrations = {d.registration_id: d.registration for d in deliveries}
    else:
        ids = {d.registration_id for d in deliveries}
        registrations = {r.pk: r for r in _people(ids)}
    to_send = defaultdict(list)
    for delivery in deliveries:
        registration = registrations.get(delivery.registration_id)
        delivery.registration = registration
        if registration is None or not _still_relevant(registration, delivery.kind):
            _not_needed(delivery, _("The place was cancelled or the details removed."))
            continue
        still = route(registration, delivery.kind)
        if not (still.email if delivery.channel == Channel.EMAIL else still.text):
            _not_needed(delivery, _("Consent was withdrawn before it was sent."))
            continue
        to_send[delivery.channel].append(delivery)
    _send_emails(to_send[Channel.EMAIL], shared, now)
    _send_texts(to_send[Channel.TEXT], shared, now)
    _record(deliveries)
    failed = [d for d in deliveries if d.status == DeliveryStatus.FAILED]
    if failed:
        signals.delivery_failed.send(sender=Delivery, deliveries=failed)


def _record(deliveries) -> None:
    """Save what came of each delivery: one UPDATE per distinct outcome
    (most of a batch shares one: sent, now, first try), then the provider's
    ids of the texts. ``bulk_update`` of every field would build a CASE
    branch per field and row, which costs more than sending the messages."""
    outcomes = defaultdict(list)
    for delivery in deliveries:
        key = (
            delivery.status,
            delivery.send_after,
            delivery.attempts,
            delivery.error,
            delivery.sent_at,
        )
        outcomes[key].append(delivery.pk)
    with_ids = [delivery for delivery in deliveries if delivery.provider_id]
    with transaction.atomic():
        for (status, send_after, attempts, error, sent_at), pks in outcomes.items():
            Delivery.objects.filter(pk__in=pks).update(
                status=status,
                send_after=send_after,
                attempts=attempts,
                error=error,
                sent_at=sent_at,
            )
        if with_ids:
            # One statement run for each row: cheaper than the CASE of a
            # bulk_update for the few hundred texts of a batch.
            table = connection.ops.quote_name(Delivery._meta.db_table)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET provider_id = %s WHERE id = %s",  # noqa: S608
                    [(d.provider_id, d.pk) for d in with_ids],
                )


def _not_needed(delivery: Delivery, reason: str) -> None:
    delivery.status = DeliveryStatus.NOT_SENT
    delivery.error = str(reason)[:200]


def _sent(delivery: Delivery, now, provider_id: str = "") -> None:
    delivery.attempts += 1
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = now
    delivery.provider_id = provider_id[:64]
    delivery.error = ""


def _failed(delivery: Delivery, now, error: str, *, retryable: bool) -> None:
    """Record a failed try: another after the next delay, or the last."""
    delivery.attempts += 1
    delivery.error = error[:200]
    delays = settings.GATHER_MESSAGE_RETRY_MINUTES
    if retryable and delivery.attempts <= len(delays):
        delivery.status = DeliveryStatus.PENDING
        delivery.send_after = now + dt.timedelta(minutes=delays[delivery.attempts - 1])
    else:
        delivery.status = DeliveryStatus.FAILED


def _send_emails(deliveries, shared, now) -> None:
    if not deliveries:
        return
    from .emails import build_email

    connection = get_connection()
    try:
        connection.open()
    except Exception as error:  # noqa: BLE001 - the server is down: try later
        logger.warning("Could not reach the mail server: %s", type(error).__name__)
        for delivery in deliveries:
            _failed(delivery, now, type(error).__name__, retryable=True)
        return
    try:
        for delivery in deliveries:
            try:
                message = build_email(
                    delivery.registration,
                    delivery.kind,
                    session=shared.sessions.get(delivery.session_id),
                    group_message=shared.group_messages.get(delivery.group_message_id),
                    series_change=shared.series_changes.get(delivery.series_change_id),
                    shared=shared.emails,
                )
                message.connection = connection
                message.send()
            except Exception as error:  # noqa: BLE001 - one must not stop the rest
                logger.exception(
                    "Could not send the %s email of delivery %s",
                    delivery.kind,
                    delivery.pk,
                )
                _failed(delivery, now, type(error).__name__, retryable=True)
                connection.close()  # the next send opens a fresh connection
            else:
                _sent(delivery, now)
    finally:
        connection.close()


def _send_texts(deliveries, shared, now) -> None:
    if not deliveries:
        return
    messages = []
    for delivery in deliveries:
        body = build_text(
            delivery.registration,
            delivery.kind,
            session=shared.sessions.get(delivery.session_id),
            group_message=shared.group_messages.get(delivery.group_message_id),
            series_change=shared.series_changes.get(delivery.series_change_id),
            organisation=shared.organisation,
            shared=shared,
        )
        messages.append(
            sms.TextMessage(
                to=stored_e164(delivery.registration.phone),
                body=body,
                reference=str(delivery.pk),
            )
        )
    try:
        with sms.get_connection() as connection:
            results = connection.send_messages(messages)
    except Exception as error:  # noqa: BLE001 - the provider is unreachable
        logger.warning("Could not reach the text provider: %s", type(error).__name__)
        for delivery in deliveries:
            _failed(delivery, now, type(error).__name__, retryable=True)
        return
    for delivery, result in zip(deliveries, results, strict=True):
        if result.ok:
            _sent(delivery, now, result.provider_id)
        else:
            _failed(delivery, now, result.error, retryable=result.retryable)


def send_due_messages(*, now: dt.datetime | None = None, batch: int = PER_TASK) -> int:
    """Send every delivery whose time has come (quiet hours over, or its next
    try due), in batches, each leased first so that two runs at once never
    send the same message twice. Returns how many were tried."""
    now = now or timezone.now()
    tried = 0
    while True:
        with transaction.atomic():
            due = list(
                Delivery.objects.due(now)
                .select_for_update(skip_locked=True)
                .order_by("send_after", "pk")[:batch]
            )
            if not due:
                return tried
            Delivery.objects.filter(pk__in=[d.pk for d in due]).update(
                send_after=now + LEASE
            )
        deliver(due, now=now)
        tried += len(due)


def record_text_status(*, provider_id: str, status: str, error: str = "", **kwargs):
    """What the provider's delivery report says of a text (``core.sms``'s
    ``text_status_changed``): delivered, or failed after all."""
    if not provider_id:
        return
    delivery = Delivery.objects.filter(
        channel=Channel.TEXT, provider_id=provider_id
    ).first()
    if delivery is None:
        return
    if status == "delivered":
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DELIVERED)
    elif status == "failed" and delivery.status != DeliveryStatus.FAILED:
        delivery.status = DeliveryStatus.FAILED
        delivery.error = (error or _("The phone company could not deliver it."))[:200]
        delivery.save(update_fields=["status", "error"])
        signals.delivery_failed.send(sender=Delivery, deliveries=[delivery])


# Words of a text ------------------------------------------------------------


#: Characters outside GSM-7 that have a plain twin inside it.
PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


def plain_text(value: str) -> str:
    """``value`` in the GSM-7 alphabet, so a text stays one 160-character
    segment: curly quotes and dashes made plain, accents the alphabet lacks
    dropped (ê -> e), anything else left out."""
    value = re.sub(r"\s+", " ", str(value).translate(PLAIN)).strip()
    out = []
    for char in value:
        if sms.is_gsm7(char):
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)[0]
        if sms.is_gsm7(base):
            out.append(base)
    return "".join(out)


def sender_name(organisation) -> str:
    """The name texts come from: the organisation's short name."""
    name = organisation.sender_name if organisation else ""
    return plain_text(name or getattr(settings, "GATHER_SMS_SENDER", ""))[:11]


def short_code(registration: Registration) -> str:
    """The code of a registration's short manage link (``/m/<code>/``): its id
    and 60 bits of a token derived from its salt, so it dies with the
    manage link when the salt changes."""
    secret = tokens.derive_token("text-link", registration.token_salt)
    return f"{_base36(registration.pk)}-{_base62(int(secret, 16))[:10]}"


def registration_for_short_code(code: str) -> Registration | None:
    """The registration of a short link, or None."""
    match = re.fullmatch(r"([0-9a-z]{1,12})-([0-9A-Za-z]{10})", code or "")
    if not match:
        return None
    registration = (
        Registration.objects.filter(pk=int(match[1], 36)).only("token_salt").first()
    )
    if registration is None or not constant_time_compare(
        short_code(registration), code
    ):
        return None
    return registration


def short_link(registration: Registration) -> str:
    return absolute_url(
        reverse("registration_short_link", args=[short_code(registration)])
    )


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(number: int) -> str:
    return _encode(number, 36)


def _base62(number: int) -> str:
    return _encode(number, 62)


def _encode(number: int, base: int) -> str:
    out = ""
    while True:
        number, digit = divmod(number, base)
        out = _DIGITS[digit] + out
        if not number:
            return out


def when(value: dt.datetime | None) -> str:
    """A session's start in a text: 'Tue 8 Dec, 6:00 PM'."""
    if value is None:
        return ""
    return date_filter(timezone.localtime(value), "D j M, g:i A")


def _first_upcoming(registration: Registration) -> EventSession | None:
    return (
        registration.event.sessions.not_cancelled()
        .filter(end__gte=timezone.now())
        .order_by("start")
        .first()
    )


def build_text(
    registration: Registration,
    kind: str,
    *,
    session: EventSession | None = None,
    group_message: GroupMessage | None = None,
    organisation=None,
    link: str | None = None,
    upcoming: EventSession | None = None,
    shared: "MessageContext | None" = None,
    series_change: SeriesChange | None = None,
) -> str:
    """The text message of ``kind`` for one person: discreet, in GSM-7, and
    one segment (the group's name, when named, is shortened to fit). A
    message to the group is as long as its writer made it.

    With ``shared``, the words are worked out once for everyone they are the
    same for (``MessageContext.text``); only the link is each person's. An
    offer of a place carries the offer's own short link and its deadline,
    so its words are each person's."""
    offer = None
    if kind == MessageKind.PLACE_OFFERED:
        from .offers import open_offer
        from .offers import short_link as offer_short_link

        offer = open_offer(registration)
        if offer is not None:
            link = link or offer_short_link(offer)
            shared = None
    link = link or short_link(registration)
    if shared is not None:
        words = shared.text(
            registration,
            kind,
            session,
            group_message,
            organisation,
            len(link),
            series_change,
        )
    else:
        words = _text_with_mark(
            registration,
            kind,
            session=session,
            group_message=group_message,
            organisation=organisation,
            link_length=len(link),
            upcoming=upcoming,
            series_change=series_change,
            offer=offer,
        )
    return words.replace(LINK_MARK, link)


#: Where the person's link goes in a text worked out for many; GSM-7
#: characters, so making the text plain leaves it alone.
LINK_MARK = "@@link@@"


def _text_with_mark(
    registration,
    kind,
    *,
    session,
    group_message,
    organisation,
    link_length: int,
    upcoming=None,
    series_change=None,
    offer=None,
) -> str:
    """``build_text``'s words with ``LINK_MARK`` for the link, fitted to one
    segment for a link of ``link_length`` characters."""
    naming = bool(organisation and organisation.messages_name_the_group)
    if upcoming is None and kind in (MessageKind.CONFIRMED, MessageKind.PROMOTED):
        # A place on one date (drop-in) is from that date.
        upcoming = registration.session or _first_upcoming(registration)
    context = {
        "sender": sender_name(organisation),
        "registration": registration,
        "when": when(upcoming.start if upcoming else None) or _("the first session"),
        "session_when": when(session.start if session else None),
        "old_when": when(getattr(session, "previous_start", None)) or _("its old time"),
        "body": plain_text(group_message.body) if group_message else "",
        "link": LINK_MARK,
        "deadline": when(offer.expires_at) if offer else "",
        **_series_words(series_change, session),
        **_dates_words(registration, kind),
    }
    stand_in = "x" * link_length

    def render(what):
        text = render_to_string(f"sms/{kind}.txt", {**context, "what": what})
        # A shortened name's "..." before the sentence's own full stop.
        return plain_text(text).replace("....", "...")

    if not naming or kind == MessageKind.GROUP:
        return render("")
    for name in _shortened(plain_text(registration.event.title)):
        text = render(name)
        if sms.segments(text.replace(LINK_MARK, stand_in)) == 1:
            return text
    return render("")


def _series_words(series_change, session) -> dict:
    """What a text about a change to the rest of a series says: how many
    sessions, from which day (as people knew it), and whether they are
    cancelled."""
    changed = series_change.changed_sessions() if series_change else []
    first = changed[0] if changed else session
    cancelling = bool(series_change and series_change.is_cancellation)
    day = None
    if first is not None:
        day = first.start if cancelling else None
        day = day or getattr(first, "previous_start", None) or first.start
    return {
        "count": len(changed) or 1,
        "from_day": date_filter(timezone.localtime(day), "D j M") if day else "",
        "cancelling": cancelling,
    }


def _dates_words(registration, kind) -> dict:
    """What the text listing someone's drop-in dates says: how many dates,
    how many with a place and how many on a waitlist."""
    if kind != MessageKind.DATES_BOOKED:
        return {}
    from .drop_in import dates_of

    dates = dates_of(registration)
    booked = sum(r.status == RegistrationStatus.CONFIRMED for r in dates)
    return {"dates": len(dates), "booked": booked, "waiting": len(dates) - booked}


def _shortened(name: str):
    """``name``, then ever shorter forms of it ending in '...'."""
    if len(name) <= NAME_IN_TEXT:
        yield name
    for length in range(min(len(name), NAME_IN_TEXT) - 3, SHORTEST_NAME - 1, -1):
        yield name[:length].rstrip(" ([{-,;:.") + "..."
