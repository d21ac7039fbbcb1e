"""The demo's people and history, for ``manage.py load_demo``.

Registrations on the upcoming program (two events full, with a waitlist),
and a past term: a six-week group with names on the register, an online
check-in, and a headcount-only hospital group, with attendance, walk-ins,
headcounts and session notes. Spreadsheet exports and the reports then have
something to show.

Every name is made up, every email address is at example.org (reserved for
examples) and every phone number is a 555-01xx fictional one, so nothing
here can reach a real person. Attendance follows the fixed tables below, so
the numbers are the same every time and can be checked by hand. Everything
goes through the workflow functions (registration, sessions, attendance),
and no email is sent.
"""

import datetime as dt

from core.dates import site_zone
from events.models import EventKind, EventPage, RegistrationMode, SessionStatus
from events.registration import RegistrationBatch
from events.sessions import add_session, cancel_session

#: (name, email, phone): made-up people; three gave only a phone number.
PEOPLE = [
    ("Alex Morgan", "alex.morgan@example.org", ""),
    ("Bea Santos", "bea.santos@example.org", "416-555-0101"),
    ("Chris Lavoie", "chris.lavoie@example.org", ""),
    ("Dana Whitehorse", "dana.whitehorse@example.org", ""),
    ("Eli Novak", "", "416-555-0102"),
    ("Fatima Rahman", "fatima.rahman@example.org", ""),
    ("Gus Petrakis", "gus.petrakis@example.org", "416-555-0103"),
    ("Hana Kim", "hana.kim@example.org", ""),
    ("Ivan Kowalski", "ivan.kowalski@example.org", ""),
    ("Jo Campbell", "jo.campbell@example.org", ""),
    ("Kofi Mensah", "kofi.mensah@example.org", ""),
    ("Lena Fischer", "", "416-555-0104"),
    ("Marco Bianchi", "marco.bianchi@example.org", ""),
    ("Nadia Haddad", "nadia.haddad@example.org", ""),
    ("Owen Clarke", "owen.clarke@example.org", "416-555-0105"),
    ("Priyanka Das", "priyanka.das@example.org", ""),
    ("Quinn Taylor", "quinn.taylor@example.org", ""),
    ("Rosa Delgado", "rosa.delgado@example.org", ""),
    ("Sam Okoro", "sam.okoro@example.org", ""),
    ("Tanya Ivanova", "tanya.ivanova@example.org", ""),
    ("Umar Siddiqui", "", "416-555-0106"),
    ("Vera Lindqvist", "vera.lindqvist@example.org", ""),
    ("Will Tran", "will.tran@example.org", ""),
    ("Yara Haddad", "yara.haddad@example.org", ""),
    ("Zoe Martin", "zoe.martin@example.org", ""),
]

#: Upcoming events (by slug) -> how many of PEOPLE sign up, and the first
#: one (they take the next ones in order, wrapping round).
UPCOMING_SIGN_UPS = {
    "wrap-group": (15, 0),  # capacity 12: three wait
    "art-and-wellbeing": (12, 5),  # capacity 10: two wait
    "naloxone-training": (9, 10),
    "understanding-psychosis": (8, 3),
    "online-peer-support-drop-in": (7, 12),
    "managing-stress-workshop": (5, 18),
    "peer-support-101": (6, 20),
}

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

#: The past term. ``weeks_ago``: the first session is on ``weekday`` on or
#: after this many weeks before today; sessions follow weekly.
PAST_EVENTS = [
    {
        "title": "Building Connections group",
        "slug": "building-connections-group",
        "kind": EventKind.GROUP,
        "venue": "community",
        "facilitators": ["amara"],
        "summary": (
            "Six Monday afternoons about friendship, family and finding your "
            "people again."
        ),
        "what_to_expect": (
            "<p>A small group that meets for six weeks. Bring yourself; tea "
            "is on us.</p>"
        ),
        "registration_mode": RegistrationMode.REQUIRED,
        "capacity": 10,
        "topics": ["peer support", "connection"],
        "weekday": 0,
        "start": (14, 0),
        "end": (15, 30),
        "weeks_ago": 8,
        "sessions": 6,
        "cancel": (3, "Cancelled: the facilitator is unwell. See you next week."),
        "sign_ups": (12, 2),  # capacity 10: two wait
        "attendance": [
            "PPPPP",
            "PPLPP",
            "PAPPP",
            "PPPAX",
            "PPAAA",
            "PPPPE",
            "APPPP",
            "PXPPP",
            "PAAAA",
            "AAAAA",
        ],
        "walk_ins": [[], ["Mo"], [], ["Terry", "Jean"], ["Mo"]],
        "notes": [
            ("Introductions and group agreements.", ""),
            ("What connection means to each of us.", ""),
            ("Reaching out to someone: small first steps.", ""),
            (
                "Family and friends: what helps and what gets in the way.",
                "Ask the centre whether the room blinds can be fixed.",
            ),
            ("Looking back over the six weeks; what next.", ""),
        ],
    },
    {
        "title": "Online peer check-in",
        "slug": "online-peer-check-in",
        "kind": EventKind.GROUP,
        "venue": "online",
        "facilitators": ["daniel"],
        "summary": "A short weekly video call to check in with peers.",
        "what_to_expect": "<p>Camera on or off, as you like.</p>",
        "registration_mode": RegistrationMode.OPEN,
        "capacity": 15,
        "topics": ["peer support", "online"],
        "weekday": 2,
        "start": (19, 0),
        "end": (20, 0),
        "weeks_ago": 5,
        "sessions": 3,
        "sign_ups": (6, 14),
        "attendance": ["PPP", "PAP", "PPA", "APP", "PPP", "XAA"],
        "walk_ins": [[], ["Robin"], []],
        "notes": [],
    },
    {
        "title": "Hearing Voices group on Unit 4 (earlier sessions)",
        "slug": "hearing-voices-unit-4-earlier",
        "kind": EventKind.GROUP,
        "venue": "hospital",
        "facilitators": ["priya"],
        "summary": "The weekly ward group's earlier sessions.",
        "what_to_expect": "<p>A drop-in group on the ward.</p>",
        "registration_mode": RegistrationMode.NONE,
        "headcount_only": True,
        "topics": ["hearing voices", "peer support"],
        "weekday": 3,
        "start": (14, 0),
        "end": (15, 30),
        "weeks_ago": 6,
        "sessions": 4,
        #: (people in total, of whom walk-ins) per session
        "headcounts": [(6, 1), (5, 0), (7, 2), (4, 1)],
        "notes": [],
    },
]


def people_for(count, first):
    """``count`` of PEOPLE from index ``first``, wrapping round."""
    return [PEOPLE[(first + n) % len(PEOPLE)] for n in range(count)]


def past_days(spec, *, today, is_closed):
    """The dates of a past event's sessions: weekly from ``weeks_ago``, each
    moved to the next open day if it falls on a closure."""
    first = today - dt.timedelta(weeks=spec["weeks_ago"])
    first += dt.timedelta(days=(spec["weekday"] - first.weekday()) % 7)
    days = []
    for week in range(spec["sessions"]):
        day = first + dt.timedelta(weeks=week)
        while is_closed(day):
            day += dt.timedelta(days=1)
        days.append(day)
    return days


def build_past_events(index, *, today, venues, facilitators, is_closed, publish):
    """Create and publish the past term's events with their sessions."""
    zone = site_zone()
    events = []
    for spec in PAST_EVENTS:
        event = EventPage(
            title=spec["title"],
            slug=spec["slug"],
            kind=spec["kind"],
            summary=spec["summary"],
            what_to_expect=spec["what_to_expect"],
            venue=venues[spec["venue"]],
            capacity=spec.get("capacity"),
            registration_mode=spec["registration_mode"],
            waitlist_enabled=spec["registration_mode"] != RegistrationMode.NONE,
            headcount_only=spec.get("headcount_only", False),
        )
        event.topics.add(*spec["topics"])
        event.facilitators.set([facilitators[key] for key in spec["facilitators"]])
        publish(index, event)
        for day in past_days(spec, today=today, is_closed=is_closed):
            add_session(
                event=event,
                start=dt.datetime.combine(day, dt.time(*spec["start"]), tzinfo=zone),
                end=dt.datetime.combine(day, dt.time(*spec["end"]), tzinfo=zone),
            )
        if cancel := spec.get("cancel"):
            number, note = cancel
            session = event.sessions.order_by("start")[number]
            cancel_session(session=session, public_note=note, notify=False)
        events.append((spec, event))
    return events


def sign_up_people(events_with_counts):
    """Register PEOPLE on events as a coordinator would, without emails.

    ``events_with_counts``: (event, (count, first)) pairs.
    """
    events = [event for event, _ in events_with_counts]
    batch = RegistrationBatch(events, notify=False)
    for event, (count, first) in events_with_counts:
        for name, email, phone in people_for(count, first):
            # Most people agree to reminders; those without email cannot get one.
            batch.add(
                event=event,
                name=name,
                email=email,
                phone=phone,
                consent_to_contact=bool(email),
            )
    return batch.save()


def record_history(spec, event, facilitator):
    """Attendance, walk-ins, headcounts and notes for a past event."""
    from attendance import records

    held = list(
        event.sessions.exclude(status=SessionStatus.CANCELLED).order_by("start")
    )
    registrants = list(event.registrations.confirmed().order_by("pk"))
    for number, session in enumerate(held):
        if headcounts := spec.get("headcounts"):
            attendees, walk_ins = headcounts[number]
            records.save_headcount(
                session=session,
                attendees=attendees,
                walk_ins=walk_ins,
                user=facilitator,
            )
            continue
        statuses = {
            str(person.pk): STATUS_BY_LETTER[row[number]]
            for person, row in zip(registrants, spec["attendance"], strict=True)
        }
        records.record_attendance(session=session, statuses=statuses, user=facilitator)
        for name in spec["walk_ins"][number]:
            records.add_walk_in(session=session, name=name, user=facilitator)
    for session, (covered, follow_ups) in zip(held, spec["notes"], strict=False):
        records.save_note(
            session=session,
            covered=covered,
            attendance_summary="",
            follow_ups=follow_ups,
            needs_follow_up=bool(follow_ups),
            user=facilitator,
        )


def build_history(index, *, today, venues, facilitators, is_closed, publish):
    """The past term and everyone's registrations; returns (registrations,
    past events)."""
    past = build_past_events(
        index,
        today=today,
        venues=venues,
        facilitators=facilitators,
        is_closed=is_closed,
        publish=publish,
    )
    upcoming = (
        EventPage.objects.child_of(index)
        .filter(slug__in=UPCOMING_SIGN_UPS)
        .order_by("pk")
    )
    wanted = [(event, UPCOMING_SIGN_UPS[event.slug]) for event in upcoming]
    wanted += [(event, spec["sign_ups"]) for spec, event in past if "sign_ups" in spec]
    registrations = sign_up_people(wanted)
    for spec, event in past:
        record_history(spec, event, facilitators[spec["facilitators"][0]])
    return registrations, [event for _, event in past]
