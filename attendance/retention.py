"""The retention period: personal details of past events are anonymised.

``apply_retention`` runs daily (``manage.py apply_retention``, from cron or
``make run``'s loop). For every event that ended more than
``GATHER_RETENTION_DAYS`` ago it anonymises the registrations
(``events.privacy.anonymise_registrations``, the same change as erasure on
request, which also ends their waitlist offers' links) and replaces the
walk-in names of its attendance records; it also
clears abandoned import previews and old import jobs
(``spreadsheets.jobs.purge_old_jobs``), whose files hold personal data, and
failed sign-in records past the lockout time
(``core.signins.forget_old_sign_in_failures``), which hold usernames and
addresses.

Attendance records, statuses and times are kept, so every report total is
the same afterwards. A row already anonymised is left alone: a second run
changes nothing and says so. Each event changed gets one
``attendance.retention.applied`` entry with counts only.
"""

import dataclasses
import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from core import audit
from core.signins import forget_old_sign_in_failures
from events.models import EventPage, EventSession, Registration
from events.privacy import anonymise_registrations
from spreadsheets.jobs import purge_old_jobs

from .models import AttendanceRecord
from .names import comparable

#: What a walk-in's name becomes, numbered per event ("Anonymised walk-in 2"),
#: so the register of a past event still tells its walk-ins apart.
ANONYMISED_WALK_IN = "Anonymised walk-in"


@dataclasses.dataclass(frozen=True)
class RetentionResult:
    """How many rows one run changed."""

    registrations: int
    walk_ins: int
    events: int
    import_jobs_deleted: int
    previews_cleared: int
    sign_in_failures_deleted: int = 0

    @property
    def changed(self) -> int:
        return (
            self.registrations
            + self.walk_ins
            + self.import_jobs_deleted
            + self.previews_cleared
            + self.sign_in_failures_deleted
        )


def ended_events(*, before: dt.datetime):
    """Events whose last session ended before ``before``. An event without
    sessions counts as ended when all its registrations are older than that."""
    has_sessions = Exists(EventSession.objects.filter(event=OuterRef("pk")))
    recent_registration = Exists(
        Registration.objects.filter(event=OuterRef("pk"), created_at__gte=before)
    )
    return (
        EventPage.objects.annotate(
            last_end=Max("sessions__end"),
            has_sessions=has_sessions,
            recent_registration=recent_registration,
        )
        .filter(
            Q(has_sessions=True, last_end__lt=before)
            | Q(has_sessions=False, recent_registration=False)
        )
        .values_list("pk", flat=True)
    )


def anonymise_walk_ins(*, event_ids) -> dict[int, int]:
    """Replace the walk-in names of the attendance records of ``event_ids``;
    returns how many records changed per event id.

    Each different name (as names are compared, ``comparable``) becomes a
    numbered "Anonymised walk-in", per event; the name a record linked to a
    registration also carries is cleared, as the registration says who it
    was.
    """
    records = (
        AttendanceRecord.objects.filter(session__event_id__in=event_ids)
        .exclude(walk_in_name="")
        .exclude(walk_in_name__startswith=ANONYMISED_WALK_IN)
        .values_list("pk", "session__event_id", "registration_id", "walk_in_name")
        .order_by("pk")
    )
    linked, by_name, counts = [], {}, {}
    for pk, event_id, registration_id, name in records:
        counts[event_id] = counts.get(event_id, 0) + 1
        if registration_id is not None:
            linked.append(pk)
        else:
            by_name.setdefault((event_id, comparable(name)), []).append(pk)
    if linked:
        AttendanceRecord.objects.filter(pk__in=linked).update(walk_in_name="")
    numbers = _walk_ins_anonymised_before(list(counts))
    for (event_id, _name), pks in by_name.items():
        numbers[event_id] = numbers.get(event_id, 0) + 1
        AttendanceRecord.objects.filter(pk__in=pks).update(
            walk_in_name=f"{ANONYMISED_WALK_IN} {numbers[event_id]}"
        )
    return counts


def _walk_ins_anonymised_before(event_ids) -> dict[int, int]:
    """How many different anonymised walk-ins each event has already, so
    new numbers follow them (a record imported after an earlier run)."""
    seen = (
        AttendanceRecord.objects.filter(
            session__event_id__in=event_ids,
            registration__isnull=True,
            walk_in_name__startswith=ANONYMISED_WALK_IN,
        )
        .values_list("session__event_id", "walk_in_name")
        .order_by()
        .distinct()
    )
    numbers = {}
    for event_id, _name in seen:
        numbers[event_id] = numbers.get(event_id, 0) + 1
    return numbers


@transaction.atomic
def apply_retention(*, now=None, days: int | None = None) -> RetentionResult:
    """Anonymise what the retention period says must go (see the module)."""
    now = now or timezone.now()
    days = settings.GATHER_RETENTION_DAYS if days is None else days
    event_ids = list(ended_events(before=now - dt.timedelta(days=days)))
    registrations = anonymise_registrations(
        Registration.objects.filter(event_id__in=event_ids), now=now
    )
    walk_ins = anonymise_walk_ins(event_ids=event_ids)
    changed = set(registrations) | set(walk_ins)
    system = audit.actor(by=audit.SYSTEM)
    audit.write(
        audit.entry(
            event,
            "attendance.retention.applied",
            actor=system,
            title=event.title,
            data={
                "event": event.pk,
                "registrations": registrations.get(event.pk, 0),
                "walk_ins": walk_ins.get(event.pk, 0),
                "days": days,
            },
        )
        for event in EventPage.objects.filter(pk__in=changed).only("pk", "title")
    )
    deleted, expired = purge_old_jobs(now=now)
    return RetentionResult(
        registrations=sum(registrations.values()),
        walk_ins=sum(walk_ins.values()),
        events=len(changed),
        import_jobs_deleted=deleted,
        previews_cleared=expired,
        sign_in_failures_deleted=forget_old_sign_in_failures(now=now),
    )
