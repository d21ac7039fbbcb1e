"""The call list: people only a call from staff can reach, and what came of
each try.

``events.messaging.plan_messages`` writes a ``CallRequest`` when someone has
something to hear and no email or text reaches them. Staff work through the
waiting ones (``CallRequest.objects.to_make()``, among those
``events.permissions.call_requests_visible_to`` allows) and record each try
with ``record_call_attempt``:

* ``called`` (spoke to them) and ``left_message`` close the request;
* ``no_answer`` keeps it waiting, for another try;
* ``left_message`` is refused unless the person said a voicemail may be
  left (``call_preferences``; by default it may not).

Each try is written to the audit log as ``events.call.attempted`` on the
registration (so it shows in its history, to those who may see it), with ids
and the outcome only: never the person's name or number.
"""

import dataclasses

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit

from .errors import EventsError
from .models import CallAttempt, CallOutcome, CallRequest, CallStatus, Registration

#: The audit action of one try at a call.
CALL_ATTEMPTED = "events.call.attempted"
#: Outcomes that mean the person heard what they needed to.
CLOSING = frozenset({CallOutcome.CALLED, CallOutcome.LEFT_MESSAGE})


@dataclasses.dataclass(frozen=True)
class CallPreferences:
    """How a person would like to be phoned."""

    #: Best times to call, in their words ("" when not given).
    times: str
    #: Whether a voicemail may be left; False unless they said yes.
    voicemail_ok: bool


def call_preferences(registration: Registration) -> CallPreferences:
    """The person's best times to call and whether a voicemail may be left
    (the sign-up form's answers). No answer about voicemail means none is
    left: phones are often shared."""
    return CallPreferences(
        times=(registration.call_times or "").strip(),
        voicemail_ok=registration.voicemail_ok is True,
    )


def record_call_attempt(
    *, call: CallRequest, outcome: str, user, now=None
) -> CallAttempt:
    """Record one try at ``call`` by ``user``: a ``CallAttempt``, the request
    closed when the person was reached or a message left, and an audit
    entry. Raises ``EventsError`` with code ``unknown_outcome``,
    ``no_voicemail`` (they did not agree to voicemail) or ``call_closed``
    (someone else marked it done first)."""
    if outcome not in CallOutcome.values:
        raise EventsError(
            _("Choose how the call went: spoke to them, no answer or left a message."),
            code="unknown_outcome",
        )
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            CallRequest.objects.select_for_update(of=("self",))
            .select_related("registration__event")
            .get(pk=call.pk)
        )
        if locked.status != CallStatus.WAITING:
            raise EventsError(
                _("This call was already marked done."), code="call_closed"
            )
        if (
            outcome == CallOutcome.LEFT_MESSAGE
            and not call_preferences(locked.registration).voicemail_ok
        ):
            raise EventsError(
                _("This person did not agree to a voicemail: do not leave one."),
                code="no_voicemail",
            )
        attempt = CallAttempt.objects.create(call=locked, outcome=outcome, by=user)
        if outcome in CLOSING:
            locked.status = CallStatus.DONE
            locked.closed_at = now
            locked.save(update_fields=["status", "closed_at"])
        audit.write(
            [
                audit.entry(
                    locked.registration,
                    CALL_ATTEMPTED,
                    actor=audit.actor(user=user, by=audit.STAFF),
                    title=str(locked.registration),
                    data={
                        "call": locked.pk,
                        "attempt": attempt.pk,
                        "event": locked.registration.event_id,
                        "outcome": outcome,
                        "closed": outcome in CLOSING,
                    },
                )
            ]
        )
    call.status, call.closed_at = locked.status, locked.closed_at
    return attempt
