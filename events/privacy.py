"""Removing a person's details: anonymising registrations, erasing a person
on request, and deleting a registration without leaving their name behind.

One function, ``anonymise_registrations``, replaces the personal fields of
registrations; the retention run (``attendance.retention``) and erasure on
request (``erase``) both use it, so a row anonymised either way looks the
same. The row itself stays, with its event, status and times, and so do its
attendance records: every total in the reports is counted from those, never
from names, so the reports give the same numbers afterwards. Answers to an
event's own questions are deleted; the demographic ones are counted into
anonymous totals first (``events.questions.fold_answers``), so the reports'
answer totals stay the same too.

Audit entries written here hold counts and ids, never who the person was;
the labels of earlier entries about an anonymised registration are made
neutral too ("Registration 12"), because Wagtail's own entries (an edit in
the admin) are labelled with the person's name.
"""

import dataclasses
from collections import Counter

import phonenumbers
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import ModelLogEntry

from core import audit
from core.phones import InvalidPhoneNumber, to_e164

from .errors import EventsError
from .models import (
    Consent,
    EventPage,
    EventSession,
    PlaceOffer,
    PlaceOfferStatus,
    Registration,
    RegistrationStatus,
    SessionStatus,
)
from .questions import fold_answers
from .registration import cancel

#: The name an anonymised registration keeps, so lists and sign-in sheets of
#: past sessions still have a row to show.
ANONYMISED_NAME = "Anonymised"
#: A search must give at least this many digits of a phone number, so a
#: short or mistyped one never matches half the people held (a number kept
#: as typed, ``phone_as_typed``, is found by its digits).
MIN_SEARCH_DIGITS = 7
#: Registrations changed per UPDATE (SQLite limits the parameters of one).
BATCH = 500


def _history_label():
    return Concat(Value("Registration "), "object_id")


def anonymise_registrations(registrations, *, now=None) -> Counter:
    """Replace the personal fields of ``registrations`` (a queryset) that
    still have them; returns how many were anonymised per event id.

    Name, email, phone (with the number as typed, the best times to call and
    the voicemail answer) and support needs are cleared, consent rows and
    answers to the event's questions deleted (demographic answers first
    added to the anonymous ``AnswerTally`` counts, ``events.questions``), the
    manage link stops working (its hash becomes a value no token hashes to),
    so do the accept links of waitlist offers (an open one is withdrawn), and
    ``anonymised_at`` is set, so a second run finds nothing to do. Status,
    waitlist position, times and attendance records are kept.
    """
    now = now or timezone.now()
    rows = list(registrations.not_anonymised().values_list("pk", "event_id"))
    ids = [pk for pk, _event in rows]
    content_type = ContentType.objects.get_for_model(Registration)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        Registration.objects.filter(pk__in=chunk).update(
            name=ANONYMISED_NAME,
            email="",
            phone="",
            phone_as_typed="",
            call_times="",
            voicemail_ok=False,
            support_needs="",
            token_salt="",
            manage_token_hash=Concat(
                Value("anonymised-"), Cast("pk", output_field=CharField())
            ),
            anonymised_at=now,
            updated_at=now,
        )
        # Consent without anyone to contact is no longer needed.
        Consent.objects.filter(registration_id__in=chunk).delete()
        offers = PlaceOffer.objects.filter(registration_id__in=chunk)
        offers.filter(status=PlaceOfferStatus.OPEN).update(
            status=PlaceOfferStatus.WITHDRAWN, closed_at=now
        )
        offers.exclude(token_salt="").update(
            token_salt="",
            token_hash=Concat(
                Value("anonymised-"), Cast("pk", output_field=CharField())
            ),
        )
        # Answers go too; demographic ones live on as anonymous counts.
        fold_answers(chunk)
        ModelLogEntry.objects.filter(
            content_type=content_type, object_id__in=[str(pk) for pk in chunk]
        ).update(label=_history_label())
    return Counter(event for _pk, event in rows)


# Finding a person ---------------------------------------------------------------


def _first_session_start():
    return Subquery(
        EventSession.objects.filter(event=OuterRef("event"))
        .order_by("start")
        .values("start")[:1]
    )


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def find_person(*, email: str = "", phone: str = "") -> list[Registration]:
    """Every registration, at any event, still holding this email address
    (any case) or this phone number (in any format: compared in E.164,
    ``core.phones.to_e164``).

    A number kept as typed because it could not be read (``phone_as_typed``)
    matches when its digits are the search's, or the search's number without
    its country code: those rows are few, so they are compared in Python.
    Each carries ``attendance_count`` and ``first_session`` (the event's
    first session's start, or None). An empty or too short search finds
    nobody.
    """
    email = email.strip()
    digits = _digits(phone)
    conditions = []
    if email:
        conditions.append(Q(email__iexact=email))
    if len(digits) >= MIN_SEARCH_DIGITS:
        wanted = {digits}
        try:
            number = to_e164(phone)
        except InvalidPhoneNumber:
            number = ""
        if number:
            conditions.append(Q(phone=number))
            national = phonenumbers.parse(number).national_number
            wanted |= {_digits(number), str(national)}
        kept = Registration.objects.phone_needs_check()
        same = [
            pk
            for pk, typed in kept.values_list("pk", "phone_as_typed").iterator()
            if _digits(typed) in wanted
        ]
        conditions.append(Q(pk__in=same))
    if not conditions:
        return []
    matches = conditions[0]
    for condition in conditions[1:]:
        matches |= condition
    return list(
        Registration.objects.not_anonymised()
        .filter(matches)
        .select_related("event")
        .prefetch_related("consents")
        .annotate(
            attendance_count=Count("attendance"),
            first_session=_first_session_start(),
        )
        .order_by("first_session", "pk")
    )


# Erasure on request ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ErasureResult:
    """What ``erase`` did: registrations anonymised, places cancelled first,
    and the attendance records kept (now anonymous)."""

    erased: int
    cancelled: int
    attendance_records: int


def _has_sessions_to_come(event_id: int) -> bool:
    return (
        EventSession.objects.filter(event_id=event_id, end__gte=timezone.now())
        .exclude(status=SessionStatus.CANCELLED)
        .exists()
    )


@transaction.atomic
def erase(*, registration_ids, email: str = "", phone: str = "", user) -> ErasureResult:
    """Erase a person's details on their request: the registrations among
    ``registration_ids`` that the same search (``find_person``) still finds.

    An id the search does not find is ignored, so a tampered form cannot
    erase someone else. A place at an event with sessions to come is
    cancelled first (it goes to the next person waiting, as when the person
    cancels); a registration at an event that is over keeps its status, so
    the reports do not change. One ``events.registration.erased`` entry per
    event, by ``user``, holds counts only.
    """
    wanted = {int(pk) for pk in registration_ids}
    chosen = [r for r in find_person(email=email, phone=phone) if r.pk in wanted]
    if not chosen:
        raise EventsError(
            _("Nothing was erased: choose at least one of the registrations found."),
            code="nothing_to_erase",
        )
    cancelled = 0
    for registration in chosen:
        if (
            registration.status != RegistrationStatus.CANCELLED
            and _has_sessions_to_come(registration.event_id)
        ):
            cancel(registration=registration, user=user)
            cancelled += 1
    counts = anonymise_registrations(
        Registration.objects.filter(pk__in=[r.pk for r in chosen])
    )
    records = Counter()
    for registration in chosen:
        records[registration.event_id] += registration.attendance_count
    actor = audit.actor(user=user, by=audit.STAFF)
    events = EventPage.objects.filter(pk__in=counts).only("pk", "title")
    audit.write(
        audit.entry(
            event,
            "events.registration.erased",
            actor=actor,
            title=event.title,
            data={
                "event": event.pk,
                "count": counts[event.pk],
                "attendance_records": records[event.pk],
            },
        )
        for event in events
    )
    return ErasureResult(
        erased=sum(counts.values()),
        cancelled=cancelled,
        attendance_records=sum(records.values()),
    )


# Deleting a registration ---------------------------------------------------------


@transaction.atomic
def delete_registration(*, registration: Registration, user) -> None:
    """Delete a registration added by mistake.

    One with attendance records is refused: deleting it would delete them
    and change the reports; erase the person's details instead. The entry
    ``events.registration.deleted`` is on the event's page, with the id, and
    earlier entries about the registration lose its name.
    """
    if registration.attendance.exists():
        raise EventsError(
            _(
                "This registration has attendance records, so deleting it would "
                "change the reports. Erase the person's details instead."
            ),
            code="has_attendance",
        )
    event = registration.event
    pk = registration.pk
    ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Registration),
        object_id=str(pk),
    ).update(label=_history_label())
    registration.delete()
    audit.write(
        [
            audit.entry(
                event,
                "events.registration.deleted",
                actor=audit.actor(user=user, by=audit.STAFF),
                title=event.title,
                data={"event": event.pk, "registration": pk},
            )
        ]
    )
