"""The coordinators' follow-up inbox: what lands in it, and what staff do
with it.

Three things land in the inbox, each as one ``FollowUp`` row:

* a facilitator's session note flagged for the coordinator
  (``note_flagged``, called by ``records.save_note``): one open follow-up
  per note, however often the note is saved;
* a person only a call from staff can reach (``events.signals.call_requested``,
  received by ``calls_requested``);
* an email or text that failed for good (``events.signals.delivery_failed``,
  received by ``deliveries_failed``); a delivery that fails again after
  "try again" reopens its follow-up.

The receivers are connected in ``AttendanceConfig.ready``. Staff assign,
acknowledge, resolve and reopen follow-ups, and try a failed message again,
through the functions here; each writes an ``attendance.follow_up.*`` audit
entry holding ids and codes only.

Rows store no personal data: what a row says is read from its source when
shown. Erasure and the retention period anonymise registrations rather
than delete them, so a call or delivery follow-up is kept, shows
"Anonymised" for the person and counts as closed (``closed_condition``);
deleting a registration or a session deletes its follow-ups with it.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.background import enqueue_on_commit
from events.models import CallStatus, Delivery, DeliveryStatus
from events.permissions import coordinators

from .errors import AttendanceError
from .models import FollowUp, FollowUpKind, SessionNote

#: Audit actions, one per thing staff do to a follow-up.
ASSIGNED = "attendance.follow_up.assigned"
ACKNOWLEDGED = "attendance.follow_up.acknowledged"
RESOLVED = "attendance.follow_up.resolved"
REOPENED = "attendance.follow_up.reopened"
RETRIED = "attendance.follow_up.retried"
ACTIONS = (ASSIGNED, ACKNOWLEDGED, RESOLVED, REOPENED, RETRIED)


# What lands in the inbox ------------------------------------------------------


def note_flagged(*, note: SessionNote, was_flagged: bool, text_changed: bool):
    """Open a follow-up for ``note`` when its flag has just gone on, or its
    follow-up text changed while flagged, and none is open for it yet; then
    email the coordinators who asked for it. Returns the new follow-up, or
    None."""
    if not note.needs_follow_up or (was_flagged and not text_changed):
        return None
    if FollowUp.objects.filter(session_note=note, resolved_at__isnull=True).exists():
        return None
    try:
        with transaction.atomic():
            follow_up = FollowUp.objects.create(
                kind=FollowUpKind.FLAGGED_NOTE,
                event_id=note.session.event_id,
                session_note=note,
            )
    except IntegrityError:
        return None  # saved twice at once: the other save opened it
    from .tasks import email_flagged_note

    enqueue_on_commit(email_flagged_note, follow_up.pk)
    return follow_up


def calls_requested(sender, *, call_requests, **kwargs) -> None:
    """A follow-up for each new call request (``events.signals.call_requested``)."""
    FollowUp.objects.bulk_create(
        [
            FollowUp(
                kind=FollowUpKind.CALL,
                event_id=call.registration.event_id,
                call_request=call,
            )
            for call in call_requests
        ],
        ignore_conflicts=True,
    )


def deliveries_failed(sender, *, deliveries, **kwargs) -> None:
    """A follow-up for each delivery that failed for good
    (``events.signals.delivery_failed``); one that already had a follow-up
    (it failed again after "try again") is reopened."""
    ids = [delivery.pk for delivery in deliveries]
    FollowUp.objects.filter(delivery_id__in=ids).update(
        resolved_at=None, resolved_by=None, acknowledged_at=None, acknowledged_by=None
    )
    known = set(
        FollowUp.objects.filter(delivery_id__in=ids).values_list(
            "delivery_id", flat=True
        )
    )
    FollowUp.objects.bulk_create(
        [
            FollowUp(
                kind=FollowUpKind.FAILED_DELIVERY,
                event_id=delivery.registration.event_id,
                delivery=delivery,
            )
            for delivery in deliveries
            if delivery.pk not in known
        ],
        ignore_conflicts=True,
    )


# What staff do with it ------------------------------------------------------------


def _log(follow_up: FollowUp, action: str, *, user, **data) -> None:
    audit.write(
        [
            audit.entry(
                follow_up,
                action,
                actor=audit.actor(user=user, by=audit.STAFF),
                title=_("Follow-up %(id)s") % {"id": follow_up.pk},
                data={
                    "follow_up": follow_up.pk,
                    "kind": follow_up.kind,
                    "event": follow_up.event_id,
                    **data,
                },
            )
        ]
    )


@transaction.atomic
def assign(*, follow_up: FollowUp, to, user) -> FollowUp:
    """Give ``follow_up`` to coordinator ``to`` (None: to nobody)."""
    if to is not None and not coordinators().filter(pk=to.pk).exists():
        raise AttendanceError(
            _("Follow-ups can only be given to a coordinator."), code="not_coordinator"
        )
    follow_up.assigned_to = to
    follow_up.save(update_fields=["assigned_to"])
    _log(follow_up, ASSIGNED, user=user, assigned_to=getattr(to, "pk", None))
    return follow_up


def _stamp(follow_up: FollowUp, step: str, action: str, *, user) -> FollowUp:
    """Record once when and by whom ``step`` ("acknowledged", "resolved")
    happened, and log it; a second time changes nothing."""
    if getattr(follow_up, f"{step}_at") is None:
        setattr(follow_up, f"{step}_at", timezone.now())
        setattr(follow_up, f"{step}_by", user)
        follow_up.save(update_fields=[f"{step}_at", f"{step}_by"])
        _log(follow_up, action, user=user)
    return follow_up


@transaction.atomic
def acknowledge(*, follow_up: FollowUp, user) -> FollowUp:
    """Say that someone has seen ``follow_up`` and is on it."""
    return _stamp(follow_up, "acknowledged", ACKNOWLEDGED, user=user)


@transaction.atomic
def resolve(*, follow_up: FollowUp, user) -> FollowUp:
    """Close ``follow_up``: it was dealt with."""
    return _stamp(follow_up, "resolved", RESOLVED, user=user)


@transaction.atomic
def reopen(*, follow_up: FollowUp, user) -> FollowUp:
    """Open a resolved follow-up again. A note has one open follow-up at a
    time, so reopening an older one of a note that has a newer open one is
    refused."""
    if follow_up.resolved_at is None:
        return follow_up
    if (
        follow_up.session_note_id
        and FollowUp.objects.filter(
            session_note_id=follow_up.session_note_id, resolved_at__isnull=True
        ).exists()
    ):
        raise AttendanceError(
            _("This note has a newer follow-up that is still open."),
            code="note_already_open",
        )
    follow_up.resolved_at = None
    follow_up.resolved_by = None
    follow_up.save(update_fields=["resolved_at", "resolved_by"])
    _log(follow_up, REOPENED, user=user)
    return follow_up


@transaction.atomic
def try_again(*, follow_up: FollowUp, user) -> FollowUp:
    """Send a failed message again: its delivery goes back to waiting, due
    now, with its tries counted afresh, and the sender is queued. If it
    fails for good again, its follow-up opens again."""
    from events.tasks import send_due_messages

    if follow_up.delivery_id is None:
        raise AttendanceError(
            _("Only a message that was not delivered can be tried again."),
            code="not_a_delivery",
        )
    changed = Delivery.objects.filter(
        pk=follow_up.delivery_id, status=DeliveryStatus.FAILED
    ).update(
        status=DeliveryStatus.PENDING, send_after=timezone.now(), attempts=0, error=""
    )
    if not changed:
        raise AttendanceError(
            _("This message is no longer marked as failed."), code="not_failed"
        )
    _log(follow_up, RETRIED, user=user, delivery=follow_up.delivery_id)
    enqueue_on_commit(send_due_messages)
    return follow_up


# Reading it -----------------------------------------------------------------------


def settled_at_source(follow_up: FollowUp) -> str:
    """Why ``follow_up`` is closed without anyone resolving it here, in
    plain words, or "" (reads its source: use ``for_listing``)."""
    registration = follow_up.registration
    if registration is not None and registration.anonymised_at is not None:
        return _("The person's details were removed.")
    call = follow_up.call_request
    if call is not None and call.status == CallStatus.DONE:
        return _("Closed on the call list.")
    delivery = follow_up.delivery
    if delivery is not None and delivery.status in (
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
    ):
        return _("Sent when tried again.")
    if delivery is not None and delivery.status == DeliveryStatus.NOT_SENT:
        return _("No longer needed.")
    return ""
