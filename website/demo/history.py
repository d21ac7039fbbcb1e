"""The demo's people and history, built from ``people.toml`` and ``history.toml``.

Registrations on the upcoming program (two events full, with a waitlist;
on the online drop-in, people signed up for single dates, the first date
full with a waitlist), and a past term: a six-week group with names on
the register, an online check-in, and a headcount-only hospital group,
with attendance, walk-ins, headcounts and session notes. Spreadsheet
exports and the reports then have something to show.

Every name is made up, every email address is at example.org (reserved for
examples) and every phone number is a 555-01xx fictional one, so nothing
here can reach a real person. Attendance follows the fixed tables in
``history.toml``, so the numbers are the same every time and can be checked
by hand. Everything goes through the workflow functions (registration,
sessions, attendance), and no email is sent: only the people who gave just
a phone number on the upcoming program are told of their place, as they
would be, by text when they agreed to texts (the task worker prints them),
or on the staff call list (``tell_phone_only_people``).
"""

import datetime as dt

from core import audit
from events.drop_in import register_sessions
from events.messaging import queue_messages
from events.models import Channel, EventPage, MessageKind, SessionStatus
from events.registration import RegistrationBatch
from events.sessions import add_session, cancel_session
from website.demo.builder import (
    event_page,
    is_closed,
    local_datetime,
    publish_child,
    weekday,
)
from website.demo.content import choice

# Attendance tables: one string per registrant (in sign-up order), one letter
# per session that went ahead: P present, L late, E left early, A absent,
# X excused. P, L and E count as attended.
ATTENDED = "PLE"
STATUS_BY_LETTER = {
    "P": "present",
    "L": "late",
    "E": "left_early",
    "A": "absent",
    "X": "excused",
}


def people_for(people, count, first):
    """``count`` of ``people`` from index ``first``, wrapping round."""
    return [people[(first + n) % len(people)] for n in range(count)]


def past_days(spec, *, today, closed_days):
    """The dates of a past event's sessions: weekly from ``weeks_ago``, each
    moved to the next open day if it falls on a closure."""
    where = f"history.toml: event {spec['slug']!r} weekday"
    first = today - dt.timedelta(weeks=spec["weeks_ago"])
    first += dt.timedelta(days=(weekday(spec["weekday"], where) - first.weekday()) % 7)
    days = []
    for week in range(spec["sessions"]):
        day = first + dt.timedelta(weeks=week)
        while is_closed(day, closed_days):
            day += dt.timedelta(days=1)
        days.append(day)
    return days


def build_past_events(index, content, *, today, venues, facilitators):
    """Create and publish the past term's events with their sessions."""
    events = []
    for spec in content.past_events:
        event = event_page(
            spec,
            file="history.toml",
            venues=venues,
            facilitators=facilitators,
            headcount_only=spec["headcount_only"],
        )
        publish_child(index, event)
        for day in past_days(spec, today=today, closed_days=content.closed_days):
            add_session(
                event=event,
                start=local_datetime(day, spec["start"]),
                end=local_datetime(day, spec["end"]),
            )
        if cancel := spec.get("cancel"):
            session = event.sessions.order_by("start")[cancel["session"]]
            cancel_session(session=session, public_note=cancel["note"], notify=False)
        events.append((spec, event))
    return events


def sign_up_people(events_with_counts, people):
    """Register ``people`` on events as a coordinator would, without emails.

    ``events_with_counts``: (event, sign-up) pairs, a sign-up saying how many
    people and from which one (``history.toml``'s ``sign_ups``).
    """
    events = [event for event, _ in events_with_counts]
    batch = RegistrationBatch(events, notify=False)
    for event, sign_up in events_with_counts:
        for person in people_for(people, sign_up["count"], sign_up["first"]):
            # Most people agree to reminders by email; some to texts.
            consent = [Channel.EMAIL] if person["email"] else []
            if person["texts"]:
                consent.append(Channel.TEXT)
            batch.add(
                event=event,
                name=person["name"],
                email=person["email"],
                phone=person["phone"],
                consent=consent,
                call_times=person["call_times"],
                voicemail_ok=person["voicemail"],
            )
    return batch.save()


def sign_up_for_dates(index, date_sign_ups, people):
    """Register people on single dates of drop-in events as a coordinator
    would, without emails (``history.toml``'s ``date_sign_ups``)."""
    registrations = []
    for sign_up in date_sign_ups:
        event = EventPage.objects.child_of(index).get(slug=sign_up["event"])
        session = list(event.sessions.order_by("start"))[sign_up["session"]]
        for person in people_for(people, sign_up["count"], sign_up["first"]):
            consent = [Channel.EMAIL] if person["email"] else []
            if person["texts"]:
                consent.append(Channel.TEXT)
            [result] = register_sessions(
                event=event,
                session_ids=[session.pk],
                name=person["name"],
                email=person["email"],
                phone=person["phone"],
                consent=consent,
                call_times=person["call_times"],
                voicemail_ok=person["voicemail"],
                by_coordinator=True,
                notify=False,
                by=audit.IMPORT,
            )
            registrations.append(result.registration)
    return registrations


def tell_phone_only_people(registrations):
    """Tell the people on the upcoming program who gave only a phone number
    of their place, as a sign-up would: a text, or a call on the call list."""
    kinds = {"confirmed": MessageKind.CONFIRMED, "waitlisted": MessageKind.WAITLISTED}
    for status, kind in kinds.items():
        queue_messages(
            [
                r.pk
                for r in registrations
                if r.status == status and not r.email and r.phone
            ],
            kind,
        )


def record_history(spec, event, facilitator):
    """Attendance, walk-ins, headcounts and notes for a past event."""
    from attendance import records

    held = list(
        event.sessions.exclude(status=SessionStatus.CANCELLED).order_by("start")
    )
    registrants = list(event.registrations.confirmed().order_by("pk"))
    where = f"history.toml: event {spec['slug']!r} attendance"
    for number, session in enumerate(held):
        if headcounts := spec.get("headcounts"):
            records.save_headcount(
                session=session,
                attendees=headcounts[number]["attendees"],
                walk_ins=headcounts[number]["walk_ins"],
                user=facilitator,
            )
            continue
        statuses = {
            str(person.pk): choice(STATUS_BY_LETTER, row[number], where)
            for person, row in zip(registrants, spec["attendance"], strict=True)
        }
        records.record_attendance(session=session, statuses=statuses, user=facilitator)
        for name in spec["walk_ins"][number]:
            records.add_walk_in(session=session, name=name, user=facilitator)
    for session, note in zip(held, spec["notes"], strict=False):
        records.save_note(
            session=session,
            covered=note["covered"],
            attendance_summary="",
            follow_ups=note["follow_ups"],
            needs_follow_up=bool(note["follow_ups"]),
            user=facilitator,
        )


def build_history(index, content, *, today, venues, facilitators):
    """The past term and everyone's registrations; returns (registrations,
    past events)."""
    past = build_past_events(
        index, content, today=today, venues=venues, facilitators=facilitators
    )
    upcoming = (
        EventPage.objects.child_of(index)
        .filter(slug__in=content.sign_ups)
        .order_by("pk")
    )
    wanted = [(event, content.sign_ups[event.slug]) for event in upcoming]
    wanted += [(event, spec["sign_ups"]) for spec, event in past if "sign_ups" in spec]
    registrations = sign_up_people(wanted, content.people)
    upcoming_ids = {event.pk for event in upcoming}
    dates = sign_up_for_dates(index, content.date_sign_ups, content.people)
    tell_phone_only_people(
        [r for r in registrations if r.event_id in upcoming_ids] + dates
    )
    registrations += dates
    for spec, event in past:
        record_history(spec, event, facilitators[spec["facilitators"][0]])
    return registrations, [event for _, event in past]
