"""Attendance workflows: taking attendance, walk-ins, headcounts, self
check-in and session notes.

Each function is atomic. Records are upserted per registrant and session, so
saving twice never duplicates anyone, and every change to an existing record
is written to Wagtail's audit log with who made it and what it was before.
Each save by staff also writes one entry on the session
(``attendance.session.recorded``): who, how many records changed and how
(``statuses``, ``everyone_present``, ``walk_in``), never a name.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import get_active_log_context
from wagtail.log_actions import registry as log_action_registry

from core import audit
from events.models import (
    EventSession,
    PlaceOffer,
    Registration,
    RegistrationStatus,
    SessionStatus,
)
from events.questions import shown_answers_prefetch

from . import tallies
from .checkin import OPENS_BEFORE
from .errors import AttendanceError
from .follow_ups import note_flagged
from .models import (
    AttendanceRecord,
    AttendanceStatus,
    Headcount,
    RecordedBy,
    SessionNote,
)
from .names import comparable


def roster(session: EventSession):
    """Confirmed people (by name) and the waitlist (in order) for a session:
    the places on its event's whole series and, for a drop-in, on that
    session alone (``for_session``). Empty for headcount-only events, which
    record no names.

    Each carries ``shown_answers``: the answers to the event's own questions
    that may be shown next to a name (never the demographic ones,
    ``events.questions``). The caller has already checked that the user
    may see this session's people."""
    if session.event.headcount_only:
        return [], []
    registrations = Registration.objects.for_session(session).prefetch_related(
        shown_answers_prefetch()
    )
    confirmed = list(
        registrations.filter(status=RegistrationStatus.CONFIRMED).order_by("name", "pk")
    )
    # Each waiting person holding an open offer carries ``offer_until``.
    offer = PlaceOffer.objects.open().filter(registration=OuterRef("pk"))
    waitlist = list(
        registrations.waitlisted().annotate(
            offer_until=Subquery(offer.values("expires_at")[:1])
        )
    )
    return confirmed, waitlist


def attendance_refusal(session: EventSession, now=None) -> AttendanceError | None:
    """Why attendance cannot be recorded for ``session`` now, or None: not
    for a cancelled session, nor before the self check-in window opens (30
    minutes before the start)."""
    if session.status == SessionStatus.CANCELLED:
        return AttendanceError(
            _("This session was cancelled, so there is no attendance to record."),
            code="session_cancelled",
        )
    if (now or timezone.now()) < session.start - OPENS_BEFORE:
        return AttendanceError(
            _(
                "This session has not started yet. Attendance can be recorded "
                "from 30 minutes before it starts."
            ),
            code="not_started",
        )
    return None


def _refuse(session, *, names=True):
    """Raise unless attendance (by name, when ``names``) can be recorded."""
    if refusal := attendance_refusal(session):
        raise refusal
    if names:
        _refuse_names(session)


def _refuse_names(session):
    if session.event.headcount_only:
        raise AttendanceError(
            _("This is a headcount-only session: no names are recorded."),
            code="headcount_only",
        )


SESSION_RECORDED = "attendance.session.recorded"


def _recorded_entry(session, *, user, count: int, how: str):
    """The unsaved entry on ``session`` for a save that changed ``count``
    records."""
    return audit.entry(
        session,
        SESSION_RECORDED,
        actor=audit.actor(user=user),
        title=_("Attendance of session %(id)s") % {"id": session.pk},
        data={"count": count, "how": how, "event": session.event_id},
    )


def _log_recorded(session, *, user, count: int, how: str) -> None:
    """One entry on ``session`` for a save that changed ``count`` records."""
    if not count:
        return
    audit.write([_recorded_entry(session, user=user, count=count, how=how)])


RECORD_CHANGED = "attendance.record.changed"


def _change_entry(record, previous, *, user):
    """The entry Wagtail's ``log`` writes for a record's changed status
    (label, user, the log context's uuid, the data), unsaved: a save of many
    records writes them all in one INSERT (``audit.write``), without the two
    look-ups per entry that ``log``'s validation makes."""
    if not log_action_registry.action_exists(RECORD_CHANGED):
        raise ValueError(f"The log action {RECORD_CHANGED!r} is not registered.")
    context = get_active_log_context()
    model = log_action_registry.get_log_model_for_instance(record)
    return model(
        content_type=ContentType.objects.get_for_model(
            record, for_concrete_model=False
        ),
        label=model.objects.get_instance_title(record),
        action=RECORD_CHANGED,
        timestamp=timezone.now(),
        data={"session": record.session_id, "from": previous, "to": record.status},
        user=user or context.user,
        uuid=context.uuid,
        object_id=str(record.pk),
    )


def _set_status(record, status, *, user, method, entries=None):
    """Change one record's status, logging the change if it had one before:
    at once, or, given ``entries``, by adding the entry to that list for the
    caller to write."""
    if record.pk and record.status == status:
        return False
    previous = record.status if record.pk else None
    record.status, record.recorded_by, record.method = status, user, method
    record.save()
    if previous is not None:
        entry = _change_entry(record, previous, user=user)
        if entries is None:
            audit.write([entry])
        else:
            entries.append(entry)
    return True


@transaction.atomic
def record_attendance(*, session: EventSession, statuses: dict, user) -> int:
    """Save statuses by registration id (or walk-in record id, as ``"w<id>"``).

    Unknown ids and statuses are refused; returns how many records changed.
    """
    _refuse(session)
    valid = set(AttendanceStatus.values)
    confirmed_ids = set(
        Registration.objects.for_session(session)
        .filter(status=RegistrationStatus.CONFIRMED)
        .values_list("pk", flat=True)
    )
    existing = {
        record.registration_id: record
        for record in AttendanceRecord.objects.select_for_update().filter(
            session=session, registration__isnull=False
        )
    }
    walk_ins = {
        f"w{record.pk}": record
        for record in AttendanceRecord.objects.select_for_update().filter(
            session=session, registration__isnull=True
        )
    }
    changed = 0
    entries = []
    # The reports' counts of the session and its people are rewritten once,
    # after the last record (attendance.tallies).
    with tallies.deferred():
        for key, status in statuses.items():
            if status not in valid:
                raise AttendanceError(
                    _("Unknown attendance status."), code="bad_status"
                )
            if key in walk_ins:
                record = walk_ins[key]
            elif str(key).isdigit() and int(key) in confirmed_ids:
                record = existing.get(int(key)) or AttendanceRecord(
                    session=session, registration_id=int(key)
                )
            else:
                raise AttendanceError(
                    _("That person is not on this session's list."),
                    code="not_on_roster",
                )
            changed += _set_status(
                record,
                status,
                user=user,
                method=RecordedBy.FACILITATOR,
                entries=entries,
            )
    if changed:
        entries.append(
            _recorded_entry(session, user=user, count=changed, how="statuses")
        )
    audit.write(entries)  # every entry of the save in one INSERT
    return changed


@transaction.atomic
def mark_everyone_present(*, session: EventSession, user) -> int:
    """Mark every confirmed person without a record yet as present."""
    _refuse(session)
    recorded = AttendanceRecord.objects.filter(
        session=session, registration__isnull=False
    ).values("registration_id")
    missing = (
        Registration.objects.for_session(session)
        .filter(status=RegistrationStatus.CONFIRMED)
        .exclude(pk__in=recorded)
    )
    records = [
        AttendanceRecord(
            session=session,
            registration=registration,
            status=AttendanceStatus.PRESENT,
            recorded_by=user,
        )
        for registration in missing
    ]
    AttendanceRecord.objects.bulk_create(records, ignore_conflicts=True)
    # bulk_create sends no post_save: the reports' counts are told here.
    tallies.changed(
        sessions=[session.pk], registrations=[r.registration_id for r in records]
    )
    _log_recorded(session, user=user, count=len(records), how="everyone_present")
    return len(records)


@transaction.atomic
def add_walk_in(
    *, session: EventSession, name: str, user
) -> tuple[AttendanceRecord, bool]:
    """Record someone who came without signing up, by the name they gave;
    returns the record and whether it is new.

    A walk-in of the same name (``names.comparable``) already recorded for
    the session is returned instead of a second one: a double tap, or the
    form sent again, adds nobody twice. Two people with the same name are
    told apart by the facilitator with an initial.
    """
    _refuse(session)
    name = " ".join(name.split())
    if not name:
        raise AttendanceError(_("Please type the person's name."), code="name_missing")
    # Locking the session makes two adds at once take turns, so the second
    # finds the first's record.
    EventSession.objects.select_for_update().filter(pk=session.pk).first()
    wanted = comparable(name[:120])
    for record in AttendanceRecord.objects.filter(
        session=session, registration__isnull=True
    ):
        if comparable(record.walk_in_name) == wanted:
            return record, False
    record = AttendanceRecord.objects.create(
        session=session,
        walk_in_name=name[:120],
        status=AttendanceStatus.PRESENT,
        recorded_by=user,
    )
    _log_recorded(session, user=user, count=1, how="walk_in")
    return record, True


def self_check_in_status(
    record: AttendanceRecord | None, *, session: EventSession, now=None
) -> str | None:
    """The status a self check-in to ``session`` gives, or None to leave
    ``record`` (the person's record for it, if any) as it is.

    Someone not recorded yet is present. Someone the facilitator already
    marked absent or excused has come after all: present if the session has
    not started, late if it has (the register was taken without them).
    Anyone already recorded as attending keeps their status.
    """
    if record is None:
        return AttendanceStatus.PRESENT
    if record.attended:
        return None
    if (now or timezone.now()) > session.start:
        return AttendanceStatus.LATE
    return AttendanceStatus.PRESENT


@transaction.atomic
def check_in(*, session: EventSession, registration: Registration) -> AttendanceRecord:
    """A confirmed participant marks themselves as here (self check-in), by
    the rule of ``self_check_in_status``."""
    _refuse_names(session)
    if (
        registration.event_id != session.event_id
        or registration.session_id not in (None, session.pk)
        or registration.status != RegistrationStatus.CONFIRMED
    ):
        raise AttendanceError(_("That name is not on the list."), code="not_on_roster")
    record, created = AttendanceRecord.objects.select_for_update().get_or_create(
        session=session,
        registration=registration,
        defaults={
            "status": self_check_in_status(None, session=session),
            "method": RecordedBy.SELF_CHECK_IN,
        },
    )
    status = None if created else self_check_in_status(record, session=session)
    if status is not None:
        _set_status(record, status, user=None, method=RecordedBy.SELF_CHECK_IN)
    return record


@transaction.atomic
def save_headcount(*, session: EventSession, attendees: int, walk_ins: int, user):
    """Record the numbers for a headcount-only session."""
    _refuse(session, names=False)
    if walk_ins > attendees:
        raise AttendanceError(
            _("There cannot be more walk-ins than people in total."),
            code="bad_headcount",
        )
    headcount, _created = Headcount.objects.update_or_create(
        session=session,
        defaults={"attendees": attendees, "walk_ins": walk_ins, "recorded_by": user},
    )
    return headcount


@transaction.atomic
def save_note(
    *,
    session: EventSession,
    covered: str,
    attendance_summary: str,
    follow_ups: str,
    needs_follow_up: bool,
    user,
) -> SessionNote:
    """Create or update the facilitator's note for a session. A note whose
    flag goes on (or whose follow-ups change while flagged) lands in the
    coordinators' follow-up inbox (``follow_ups.note_flagged``)."""
    with transaction.atomic():
        before = (
            SessionNote.objects.select_for_update()
            .filter(session=session)
            .only("needs_follow_up", "follow_ups")
            .first()
        )
        note, _created = SessionNote.objects.update_or_create(
            session=session,
            defaults={
                "covered": covered,
                "attendance_summary": attendance_summary,
                "follow_ups": follow_ups,
                "needs_follow_up": needs_follow_up or bool(follow_ups.strip()),
                "author": user,
            },
        )
        note_flagged(
            note=note,
            was_flagged=bool(before and before.needs_follow_up),
            text_changed=before is None or before.follow_ups != note.follow_ups,
        )
    return note
