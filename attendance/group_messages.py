"""Messages to a group: who is in each audience, what a message will look
like and how it will go, and sending it.

The words and the channels are ``events.messaging``'s: a message to the
group is one ``MessageKind.GROUP`` message per person, routed by their own
consents (email, text, or the call list) and held by quiet hours as any
other. This module adds what needs attendance (who came to a session, who
missed it) and the staff side: a preview that says exactly what will
happen, and the send itself.

**Audiences** (``group_message_audience``), never anonymised or cancelled
registrations:

* *Everyone with a place*: confirmed.
* *Everyone on the waitlist*: waitlisted, first in line first.
* On a drop-in event (a registration per date) each person once, by the
  registration of their soonest date among those.
* *Those who came to a session*: anyone (confirmed or waitlisted) with a
  present, late or left-early record for it.
* *Those who missed a session*: everyone with a confirmed place who signed
  up before the session started and has no present, late or left-early
  record for it: recorded absent, excused, or not recorded at all. Someone
  who signed up after it started could not have come, so is not told they
  missed it (the rule of the no-show rate in ``attendance.reports``).

The sessions offered for the last two are the event's sessions that have
started and were not cancelled (``sessions_to_message_about``).

Who may message an event is ``events.permissions.events_visible_to``:
coordinators any event, facilitators the events they facilitate.
"""

import dataclasses
import datetime as dt
import hashlib

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, sms
from events import drop_in, messaging
from events.emails import EmailContext, build_email
from events.models import (
    CallRequest,
    CallStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    EventPage,
    EventSession,
    GroupAudience,
    GroupMessage,
    MessageKind,
    Registration,
    RegistrationStatus,
)
from events.permissions import events_visible_to, is_coordinator
from events.registration import person_key

from .errors import AttendanceError
from .models import AttendanceRecord, AttendanceStatus

#: The longest message staff may write (``GroupMessage.body``'s limit).
MAX_LENGTH = 600
#: The most SMS segments one text may take; a longer message is refused.
MAX_SEGMENTS = 4
#: Audiences that are about one session.
ABOUT_A_SESSION = {GroupAudience.ATTENDED, GroupAudience.MISSED}
#: Written (on the event) when a message to the group is sent: ids, the
#: audience code and counts only; never the message or anyone's details.
GROUP_MESSAGE_SENT = "attendance.group_message.sent"
#: The salt of the stand-in person a preview is built for: its links look
#: like a real person's (the same length) but open nothing.
PREVIEW_SALT = "group-message-preview"


# Who may message which event ---------------------------------------------------


def events_messageable_by(user):
    """Events ``user`` may message: the events whose people they may see."""
    return events_visible_to(user)


def may_message(user, event) -> bool:
    """Whether ``user`` may message ``event`` (an EventPage or its id).

    Asked once per page in the admin's page listing, so the answer for a
    facilitator is read once and kept on the user object, as Django keeps
    permissions (``events.permissions._role_groups`` does the same).
    """
    if is_coordinator(user):
        return True
    cached = getattr(user, "_gather_messageable_events", None)
    if cached is None:
        cached = frozenset(events_messageable_by(user).values_list("pk", flat=True))
        user._gather_messageable_events = cached
    return getattr(event, "pk", event) in cached


def may_message_any(user) -> bool:
    """Whether ``user`` may message some event (the menu item shows)."""
    return is_coordinator(user) or events_messageable_by(user).exists()


# Audiences ----------------------------------------------------------------------


def sessions_to_message_about(event: EventPage, *, now: dt.datetime | None = None):
    """The event's sessions that have started and were not cancelled:
    the ones someone can have come to or missed."""
    now = now or timezone.now()
    return (
        EventSession.objects.filter(event=event, start__lte=now)
        .not_cancelled()
        .order_by("-start", "-pk")
    )


def _attended(session: EventSession):
    return AttendanceRecord.objects.filter(
        session=session,
        registration__isnull=False,
        status__in=AttendanceStatus.attended(),
    ).values("registration")


def group_message_audience(
    event: EventPage, audience: str, session: EventSession | None = None
):
    """The registrations a message to ``audience`` of ``event`` goes to (see
    the module for each rule). ``session`` is needed, and must be the
    event's, for those who came to or missed a session."""
    people = (
        Registration.objects.filter(event=event)
        .not_anonymised()
        .exclude(status=RegistrationStatus.CANCELLED)
    )
    if audience == GroupAudience.CONFIRMED:
        return _one_per_person(event, people.confirmed().order_by("pk"))
    if audience == GroupAudience.WAITLIST:
        return _one_per_person(event, people.waitlisted())
    if audience not in ABOUT_A_SESSION:
        raise AttendanceError(_("Choose who the message is for."), code="audience")
    if session is None or session.event_id != event.pk:
        raise AttendanceError(
            _("Choose the session the message is about."), code="session"
        )
    if audience == GroupAudience.ATTENDED:
        return people.filter(pk__in=_attended(session)).order_by("pk")
    return (
        people.confirmed()
        .filter(pk__in=Registration.objects.for_session(session).values("pk"))
        .filter(created_at__lt=session.start)
        .exclude(pk__in=_attended(session))
        .order_by("pk")
    )


def _one_per_person(event: EventPage, people):
    """``people``, with one registration per person on a drop-in event
    (where someone holds a registration per date): their soonest date's,
    so a message to the group reaches each person once. Two queries."""
    if not drop_in.is_per_session(event):
        return people
    kept, seen = [], set()
    rows = people.order_by("session__start", "pk").values_list("pk", "email", "phone")
    for pk, email, phone in rows:
        key = person_key(email, phone) or pk
        if key not in seen:
            seen.add(key)
            kept.append(pk)
    return people.filter(pk__in=kept)


# Preview -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GroupMessagePreview:
    """What a message to a group will look like and how it will go."""

    #: How many people it goes to.
    people: int
    #: The text message, exactly as ``events.messaging.build_text`` builds it.
    text: str
    segments: int
    #: Whether the writer used characters texts cannot carry (they are
    #: replaced by plain ones or left out).
    replaced_characters: bool
    email_subject: str
    email_body: str
    by_email: int
    by_text: int
    on_call_list: int
    #: Messages held until the quiet hours end, and when that is.
    held: int
    held_until: dt.datetime | None
    #: People no channel reaches (no email that reaches them, no phone).
    unreachable: int

    @property
    def characters(self) -> int:
        return len(self.text)

    @property
    def too_long(self) -> bool:
        return self.segments > MAX_SEGMENTS


def _stand_in(event: EventPage, pk: int | None) -> Registration:
    """A person to build the preview for: the highest id in the audience, so
    the link in the text is as long as anyone's, with no name and a salt
    whose links open nothing."""
    return Registration(
        pk=pk or 1,
        event=event,
        name=_("(their name)"),
        email="person@example.org",
        status=RegistrationStatus.CONFIRMED,
        token_salt=PREVIEW_SALT,
    )


def message_text(
    event: EventPage, body: str, *, sample_pk: int | None, organisation
) -> str:
    """The text message ``body`` becomes, for the person with ``sample_pk``."""
    return messaging.build_text(
        _stand_in(event, sample_pk),
        MessageKind.GROUP,
        group_message=GroupMessage(event=event, body=body),
        organisation=organisation,
    )


def preview_group_message(
    *,
    event: EventPage,
    audience: str,
    session: EventSession | None,
    body: str,
    now: dt.datetime | None = None,
) -> GroupMessagePreview:
    """What sending ``body`` to ``audience`` would do, in a constant number
    of queries whatever the audience's size: who goes by which channel
    (``events.messaging.route``), what quiet hours hold
    (``events.messaging.send_after``), and the words of the text and email."""
    now = now or timezone.now()
    people = list(
        group_message_audience(event, audience, session)
        .only("pk", "email", "phone", "status")
        .prefetch_related("consents")
    )
    counts = {"email": 0, "text": 0, "call": 0, "held": 0, "none": 0}
    held_until = None
    for person in people:
        way = messaging.route(person, MessageKind.GROUP)
        for channel, wanted in ((Channel.EMAIL, way.email), (Channel.TEXT, way.text)):
            if not wanted:
                continue
            counts[channel] += 1
            after = messaging.send_after(MessageKind.GROUP, channel, None, now)
            if after > now:
                counts["held"] += 1
                held_until = max(held_until or after, after)
        counts["call"] += way.call
        counts["none"] += not (way.email or way.text or way.call)
    shared = EmailContext()
    sample_pk = max((person.pk for person in people), default=None)
    stand_in = _stand_in(event, sample_pk)
    draft = GroupMessage(event=event, body=body)
    text = messaging.build_text(
        stand_in,
        MessageKind.GROUP,
        group_message=draft,
        organisation=shared.organisation,
    )
    email = build_email(stand_in, MessageKind.GROUP, group_message=draft, shared=shared)
    return GroupMessagePreview(
        people=len(people),
        text=text,
        segments=sms.segments(text),
        replaced_characters=not sms.is_gsm7(body),
        email_subject=email.subject,
        email_body=email.body,
        by_email=counts["email"],
        by_text=counts["text"],
        on_call_list=counts["call"],
        held=counts["held"],
        held_until=held_until,
        unreachable=counts["none"],
    )


def fingerprint(*, event: EventPage, audience: str, session, body: str) -> str:
    """A short digest of what a preview showed, so a send can tell whether
    the message was changed after it was previewed."""
    parts = [str(event.pk), audience, str(getattr(session, "pk", "")), body]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


# Sending -------------------------------------------------------------------------


#: The same message by the same person to the same group within this time is
#: a second click, not a second message.
REPEAT_WINDOW = dt.timedelta(minutes=10)


class AlreadySent(AttendanceError):
    """The message was sent a moment ago; ``message`` is that one."""

    def __init__(self, message):
        super().__init__(
            _("This message was sent a moment ago; it was not sent again."),
            code="already_sent",
        )
        self.group_message = message


def send_group_message(
    *,
    event: EventPage,
    audience: str,
    session: EventSession | None,
    body: str,
    user,
) -> GroupMessage:
    """Write a message to ``audience`` of ``event`` and queue it to each
    person (``events.messaging.queue_messages``) when the transaction
    commits, with an audit entry on the event. Refuses an empty message, one
    whose text would take more than ``MAX_SEGMENTS`` parts, a user who may
    not message the event and an audience with nobody in it."""
    body = body.strip()
    if not may_message(user, event):
        raise AttendanceError(
            _("You cannot send messages to this event's people."), code="forbidden"
        )
    if not body:
        raise AttendanceError(_("Write the message first."), code="empty_message")
    if len(body) > MAX_LENGTH:
        raise AttendanceError(
            _("Keep the message to %(limit)s characters.") % {"limit": MAX_LENGTH},
            code="too_long",
        )
    if audience not in ABOUT_A_SESSION:
        session = None
    with transaction.atomic():
        # Under the event's lock, so a second click on Send (or a form sent
        # twice) finds the first message and sends nothing more.
        EventPage.objects.select_for_update().filter(pk=event.pk).first()
        already = GroupMessage.objects.filter(
            event=event,
            audience=audience,
            session=session,
            body=body,
            author=user,
            created_at__gte=timezone.now() - REPEAT_WINDOW,
        ).first()
        if already is not None:
            raise AlreadySent(already)
        people = group_message_audience(event, audience, session)
        ids = list(people.values_list("pk", flat=True))
        if not ids:
            raise AttendanceError(
                _("Nobody is in this group, so there is nobody to send it to."),
                code="empty_audience",
            )
        text = message_text(
            event,
            body,
            sample_pk=max(ids),
            organisation=EmailContext().organisation,
        )
        if sms.segments(text) > MAX_SEGMENTS:
            raise AttendanceError(
                _(
                    "This message is too long for text messages. Shorten it "
                    "to fit %(limit)s texts."
                )
                % {"limit": MAX_SEGMENTS},
                code="too_many_segments",
            )
        message = GroupMessage.objects.create(
            event=event,
            audience=audience,
            session=session,
            body=body,
            author=user,
            recipients=len(ids),
        )
        messaging.queue_messages(ids, MessageKind.GROUP, group_message=message)
        audit.write(
            [
                audit.entry(
                    event,
                    GROUP_MESSAGE_SENT,
                    actor=audit.Actor(user=user, by=audit.STAFF),
                    title=_("Message to the group %(id)s") % {"id": message.pk},
                    data={
                        "group_message": message.pk,
                        "audience": audience,
                        "session": session.pk if session else None,
                        "recipients": len(ids),
                    },
                )
            ]
        )
    return message


# What came of them -----------------------------------------------------------------


@dataclasses.dataclass
class SentMessage:
    """One message to the group and what came of it, per channel."""

    message: GroupMessage
    #: channel -> status -> count, for emails and texts.
    deliveries: dict
    #: call-list status -> count.
    calls: dict

    def count(self, channel: str, *statuses) -> int:
        by_status = self.deliveries.get(channel, {})
        return sum(by_status.get(status, 0) for status in statuses)

    @property
    def emails_sent(self) -> int:
        return self.count(Channel.EMAIL, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)

    @property
    def emails_pending(self) -> int:
        return self.count(Channel.EMAIL, DeliveryStatus.PENDING)

    @property
    def emails_failed(self) -> int:
        return self.count(Channel.EMAIL, DeliveryStatus.FAILED)

    @property
    def texts_sent(self) -> int:
        return self.count(Channel.TEXT, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)

    @property
    def texts_pending(self) -> int:
        return self.count(Channel.TEXT, DeliveryStatus.PENDING)

    @property
    def texts_failed(self) -> int:
        return self.count(Channel.TEXT, DeliveryStatus.FAILED)

    @property
    def calls_waiting(self) -> int:
        return self.calls.get(CallStatus.WAITING, 0)

    @property
    def calls_done(self) -> int:
        return self.calls.get(CallStatus.DONE, 0)


def sent_group_messages(event: EventPage) -> list[SentMessage]:
    """The messages sent to ``event``'s people, newest first, each with its
    deliveries and call-list entries counted: three queries, however many
    messages and people."""
    messages = list(
        GroupMessage.objects.filter(event=event)
        .select_related("author", "session")
        .order_by("-created_at", "-pk")
    )
    deliveries, calls = {}, {}
    for row in (
        Delivery.objects.filter(group_message__event=event)
        .values("group_message", "channel", "status")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        by_channel = deliveries.setdefault(row["group_message"], {})
        by_channel.setdefault(row["channel"], {})[row["status"]] = row["count"]
    for row in (
        CallRequest.objects.filter(group_message__event=event)
        .values("group_message", "status")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        calls.setdefault(row["group_message"], {})[row["status"]] = row["count"]
    return [
        SentMessage(
            message=message,
            deliveries=deliveries.get(message.pk, {}),
            calls=calls.get(message.pk, {}),
        )
        for message in messages
    ]
