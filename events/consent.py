"""Consent to be contacted, per channel: the wording people are shown, the
consent they give when signing up, and withdrawing it from their manage link.

Each channel (email, text message, phone call) has its own ``Consent`` row,
with when it was given, the version of the wording shown then, and when it
was withdrawn. The wording lives here and nowhere else; change
``CONSENT_WORDING_VERSION`` whenever it changes, so every consent says what
the person actually agreed to.

What each state means for email, the one channel Gather sends itself:

* **given**: every email about the event, reminders included;
* **not given**: only the emails about the place itself that the person
  asked for by signing up (confirmation, waitlist, a place opening, a
  session cancelled or moved), never a reminder;
* **withdrawn**: no email at all, not even those: the person asked us to
  stop, and the manage page tells them to check it for changes instead.
  Staff see them among the people to phone.

Text messages and calls are not sent by Gather yet; their consent is
recorded, and withdrawn, the same way, for the staff who call and for the
messaging that will use it.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.prepared import insert

from .errors import EventsError
from .models import Channel, Consent, Registration

#: The version of ``CONSENT_WORDING``; kept with every consent given.
CONSENT_WORDING_VERSION = "2026-12"
#: What consent given before there was one per channel is recorded as.
LEGACY_WORDING_VERSION = "legacy"

#: What the sign-up form asks, per channel, in plain words.
CONSENT_WORDING = {
    Channel.EMAIL: gettext_lazy(
        "You may email me about this event, for example a reminder the day before."
    ),
    Channel.TEXT: gettext_lazy("You may send me text messages about this event."),
    Channel.CALL: gettext_lazy("You may phone me about this event."),
}

#: What the manage page says once a channel is withdrawn.
WITHDRAWN_MESSAGES = {
    Channel.EMAIL: gettext_lazy(
        "You will get no more emails from us about this event, not even if a "
        "session changes. Check this page for any changes."
    ),
    Channel.TEXT: gettext_lazy("We will not send you text messages about this event."),
    Channel.CALL: gettext_lazy("We will not phone you about this event."),
}


def channels_for(registration: Registration) -> list[str]:
    """The channels that can reach this person: email when they gave an
    address, text and call when they gave a phone number."""
    channels = []
    if registration.email:
        channels.append(Channel.EMAIL)
    if registration.phone:
        channels += [Channel.TEXT, Channel.CALL]
    return channels


def record_given(registration: Registration, channels, *, now=None) -> list[Consent]:
    """Record the consent a person just gave on ``channels`` (unknown
    channels are ignored), with the current wording's version. Runs inside
    the caller's transaction (``register``)."""
    return record_given_many([(registration, channels)], now=now)


def record_given_many(people, *, now=None) -> list[Consent]:
    """``record_given`` for many (registration, channels) pairs in one
    INSERT (``RegistrationBatch``)."""
    now = now or timezone.now()
    return insert(
        Consent(
            registration=registration,
            channel=channel,
            given_at=now,
            wording_version=CONSENT_WORDING_VERSION,
        )
        for registration, channels in people
        for channel in Channel.values
        if channel in set(channels)
    )


def carry_over(*, from_registration: Registration, to_registration: Registration):
    """Give a moved person's new registration (just created, so with no
    consent yet) the consent of the old one, times and versions as they
    were (``move``)."""
    Consent.objects.bulk_create(
        Consent(
            registration=to_registration,
            channel=consent.channel,
            given_at=consent.given_at,
            wording_version=consent.wording_version,
            withdrawn_at=consent.withdrawn_at,
        )
        for consent in from_registration.consents.all()
    )


def consent_by_channel(registration: Registration) -> list[tuple[str, Consent | None]]:
    """(channel, its Consent or None) for each channel that can reach the
    person, in the order of ``Channel``."""
    held = {consent.channel: consent for consent in registration.consents.all()}
    return [(channel, held.get(channel)) for channel in channels_for(registration)]


def can_withdraw(channel: str, consent: Consent | None) -> bool:
    """Whether the manage page offers to stop ``channel``: consent that is
    given, and email in any state but withdrawn (see the module)."""
    if consent is not None and consent.withdrawn_at is not None:
        return False
    return channel == Channel.EMAIL or (consent is not None and consent.is_given)


@transaction.atomic
def withdraw(
    *,
    registration: Registration,
    channel: str,
    user=None,
    by: str | None = audit.PARTICIPANT,
    now=None,
) -> Consent:
    """Withdraw consent on ``channel``, recorded with the time; withdrawing
    twice keeps the first time. Logged as
    ``events.registration.consent_withdrawn`` with the channel only.
    """
    if channel not in channels_for(registration):
        raise EventsError(_("We do not contact you that way."), code="no_such_channel")
    now = now or timezone.now()
    consent, _created = Consent.objects.select_for_update().get_or_create(
        registration=registration, channel=channel
    )
    if consent.withdrawn_at is not None:
        return consent
    consent.withdrawn_at = now
    consent.save(update_fields=["withdrawn_at"])
    audit.write(
        [
            audit.entry(
                registration,
                "events.registration.consent_withdrawn",
                actor=audit.actor(user=user, by=by),
                # The same neutral label as every registration entry.
                title=_("Registration %(id)s for %(event)s")
                % {"id": registration.pk, "event": registration.event.title},
                data={"event": registration.event_id, "channel": channel},
            )
        ]
    )
    return consent
