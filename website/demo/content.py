"""Read the demo's content from the TOML files in ``content/``.

Each file is parsed with the standard library's ``tomllib`` and checked
against a small schema below: every required key present, no unknown key
(a misspelt one would otherwise be silently ignored), every value of the
expected type. A malformed file raises ``ContentError`` naming the file and
the key, before anything is written to the database.

What comes back is plain Python: dicts, lists, strings, numbers and
``datetime.time`` values, with two conveniences: optional keys that have a
default are filled in, and StreamField bodies become the ``(type, value)``
pairs Wagtail takes. Symbolic values (weekdays, event kinds, venue settings)
stay strings here; the builder turns them into what the models take, with
``choice`` below for a clear error.
"""

import copy
import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path

#: Where the data files live; found next to this module so the command works
#: from any working directory.
CONTENT_DIR = Path(__file__).parent / "content"

_NO_DEFAULT = object()


class ContentError(ValueError):
    """A demo content file is missing, malformed, or refers to something unknown."""


class Optional:
    """Schema: the key may be left out; then ``default`` is used, if given."""

    def __init__(self, spec, default=_NO_DEFAULT):
        self.spec = spec
        self.default = default


class Keyed:
    """Schema: a table whose keys are names the data chooses (venue keys, slugs),
    each holding a value of ``spec``."""

    def __init__(self, spec):
        self.spec = spec


class Blocks:
    """Schema: a StreamField body, an array of tables each with a ``type``.

    ``types`` maps each allowed block type to its schema: a dict for a block
    made of fields (given in the block's table), anything else for a block
    whose whole value is the table's ``value`` key.
    """

    def __init__(self, types):
        self.types = types


# Schemas ---------------------------------------------------------------------

BODY = Blocks(
    {
        "heading": {"text": str, "level": str},
        "paragraph": str,
        "callout": {"title": Optional(str), "text": str},
    }
)

OUTLINE = Blocks(
    {
        "segment": {
            "title": str,
            "minutes": int,
            "kind": str,
            "description": str,
            "facilitator_notes": Optional(str, ""),
            "materials": Optional([str], []),
        }
    }
)

INDEX_PAGE = {"title": str, "slug": str, "show_in_menus": bool, "intro": str}

SITE = {
    "settings": {
        "organisation_name": str,
        "short_name": str,
        "phone": str,
        "email": str,
        "address": str,
        "crisis_line_text": str,
        "privacy_notice_page": str,
    },
    "home": {"title": str, "intro": str, "body": BODY},
    "events_index": INDEX_PAGE,
    "workshops_index": INDEX_PAGE,
    "pages": [INDEX_PAGE | {"body": BODY}],
}

VENUES = Keyed(
    {
        "name": str,
        "setting": str,
        "room": Optional(str),
        "address": Optional(str),
        "directions": Optional(str),
        "online_joining_link": Optional(str),
        "step_free": Optional(bool),
        "hearing_loop": Optional(bool),
        "quiet_room": Optional(bool),
        "accessibility_notes": Optional(str),
        "default_capacity": Optional(int),
    }
)

PEOPLE = {
    "facilitators": Keyed(
        {"username": str, "first_name": str, "last_name": str, "email": str}
    ),
    "people": [
        {
            "name": str,
            "email": Optional(str, ""),
            "phone": Optional(str, ""),
            # Agreed to text messages (phone numbers only).
            "texts": Optional(bool, False),
            "call_times": Optional(str, ""),
            "voicemail": Optional(bool, False),
        }
    ],
}

WORKSHOPS = Keyed(
    {
        "title": str,
        "slug": str,
        "summary": str,
        "audience": str,
        "duration_minutes": int,
        "learning_goals": str,
        "outline": OUTLINE,
        "handout": str,
        "resources": str,
        "safety_notes": str,
        # A course whose sessions differ: a plan per session number.
        "session_plans": Optional(
            [
                {
                    "number": int,
                    "title": str,
                    "outline": Optional(OUTLINE, []),
                    "handout": Optional(str, ""),
                    "materials": Optional([str], []),
                }
            ],
            [],
        ),
    }
)

#: What every event page needs, upcoming or past.
EVENT_PAGE = {
    "title": str,
    "slug": str,
    "kind": str,
    "venue": str,
    "facilitators": [str],
    "summary": str,
    "what_to_expect": str,
    "registration_mode": str,
    "capacity": Optional(int),
    "sign_up_per": Optional(str, "series"),
    "topics": [str],
}

CANCEL = {"session": int, "note": str}

#: One of an event's own sign-up questions, with the answers of the people
#: who sign up (in sign-up order, "" for none; history.toml's sign_ups).
QUESTION = {
    "label": str,
    "kind": str,
    "choices": Optional([str], []),
    "required": Optional(bool, False),
    "demographic": Optional(bool, False),
    "help_text": Optional(str, ""),
    "answers": Optional([str], []),
}

EVENTS = {
    "closed_days": [[int]],
    "events": [
        EVENT_PAGE
        | {
            "key": str,
            "workshop": Optional(str),
            "registration_opens_in_days": Optional(int),
            "close_after_session": Optional(int),
            "weekly": Optional(
                {
                    "weekday": str,
                    "start": dt.time,
                    "end": dt.time,
                    "weeks": Optional(int),
                    "keeps_going": Optional(bool, False),
                }
            ),
            "monthly": Optional(
                {
                    "position": int,
                    "weekday": str,
                    "start": dt.time,
                    "end": dt.time,
                    "count": int,
                }
            ),
            "once": Optional(
                [
                    {
                        "weekday": str,
                        "week": int,
                        "start": dt.time,
                        "end": dt.time,
                        "note": Optional(str),
                    }
                ]
            ),
            "cancel": Optional(CANCEL),
            "move": Optional({"session": int, "venue": str, "note": str}),
            "questions": Optional([QUESTION], []),
        }
    ],
}

SIGN_UP = {"count": int, "first": int}

#: People signed up for one date of a drop-in event: the event's slug, the
#: session (counting from 0), and a ``SIGN_UP``.
DATE_SIGN_UP = {"event": str, "session": int, "count": int, "first": int}

HISTORY = {
    "sign_ups": Keyed(SIGN_UP),
    "date_sign_ups": Optional([DATE_SIGN_UP], []),
    "past_events": [
        EVENT_PAGE
        | {
            "headcount_only": Optional(bool, False),
            "weekday": str,
            "start": dt.time,
            "end": dt.time,
            "weeks_ago": int,
            "sessions": int,
            "cancel": Optional(CANCEL),
            "sign_ups": Optional(SIGN_UP),
            "attendance": Optional([str]),
            "walk_ins": Optional([[str]]),
            "headcounts": Optional([{"attendees": int, "walk_ins": int}]),
            "notes": Optional([{"covered": str, "follow_ups": Optional(str, "")}], []),
        }
    ],
}


# Loading ---------------------------------------------------------------------


@dataclass(frozen=True)
class DemoContent:
    """Everything the demo is built from, as read from the data files."""

    #: site.toml
    settings: dict
    home: dict
    events_index: dict
    workshops_index: dict
    pages: list
    #: venues.toml, by key
    venues: dict
    #: people.toml: facilitator accounts by key, and the people who sign up
    facilitators: dict
    people: list
    #: workshops.toml, by key
    workshops: dict
    #: events.toml: (month, day) pairs, and the upcoming events
    closed_days: frozenset
    events: list
    #: history.toml: upcoming sign-ups by event slug, and the past term
    sign_ups: dict
    past_events: list
    #: history.toml: sign-ups for single dates of drop-in events
    date_sign_ups: list = ()


def load_content(directory=CONTENT_DIR):
    """Read and check every data file in ``directory``; returns ``DemoContent``."""
    site = read_file(directory, "site.toml", SITE)
    people = read_file(directory, "people.toml", PEOPLE)
    events = read_file(directory, "events.toml", EVENTS)
    history = read_file(directory, "history.toml", HISTORY)
    content = DemoContent(
        settings=site["settings"],
        home=site["home"],
        events_index=site["events_index"],
        workshops_index=site["workshops_index"],
        pages=site["pages"],
        venues=read_file(directory, "venues.toml", VENUES),
        facilitators=people["facilitators"],
        people=people["people"],
        workshops=read_file(directory, "workshops.toml", WORKSHOPS),
        closed_days=_closed_days(events["closed_days"]),
        events=events["events"],
        sign_ups=history["sign_ups"],
        past_events=history["past_events"],
        date_sign_ups=history["date_sign_ups"],
    )
    _check_references(content)
    return content


def read_file(directory, name, schema):
    """One data file, parsed and checked against ``schema``."""
    path = Path(directory) / name
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError as error:
        raise ContentError(f"{name}: missing (looked for {path})") from error
    except tomllib.TOMLDecodeError as error:
        raise ContentError(f"{name}: not valid TOML: {error}") from error
    return _check(data, schema, name, "")


def choice(choices, value, where):
    """``value`` converted by ``choices`` (an enum, or a dict of names to
    values), or ``ContentError`` saying where the unknown value is and which
    ones are known."""
    try:
        return choices[value] if isinstance(choices, dict) else choices(value)
    except (KeyError, ValueError):
        known = choices if isinstance(choices, dict) else choices.values
        raise ContentError(
            f"{where}: unknown value {value!r} (expected one of {', '.join(known)})"
        ) from None


def _check(value, schema, name, path):
    """``value`` checked against ``schema``; ``name`` and ``path`` (a dotted
    key with [indexes]) say where it is in which file, for the error."""
    where = f"{name}: {path or 'top level'}"
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise ContentError(f"{where}: expected a table")
        unknown = sorted(set(value) - set(schema))
        if unknown:
            raise ContentError(f"{where}: unknown key {unknown[0]!r}")
        checked = {}
        for key, spec in schema.items():
            key_path = f"{path}.{key}" if path else key
            if key in value:
                spec = spec.spec if isinstance(spec, Optional) else spec
                checked[key] = _check(value[key], spec, name, key_path)
            elif not isinstance(spec, Optional):
                raise ContentError(f"{name}: {key_path}: missing")
            elif spec.default is not _NO_DEFAULT:
                checked[key] = copy.deepcopy(spec.default)
        return checked
    if isinstance(schema, Keyed):
        if not isinstance(value, dict):
            raise ContentError(f"{where}: expected a table")
        return {
            key: _check(item, schema.spec, name, f"{path}.{key}" if path else key)
            for key, item in value.items()
        }
    if isinstance(schema, list):
        if not isinstance(value, list):
            raise ContentError(f"{where}: expected an array")
        return [
            _check(item, schema[0], name, f"{path}[{number}]")
            for number, item in enumerate(value)
        ]
    if isinstance(schema, Blocks):
        return [
            _block(item, schema, name, f"{path}[{number}]")
            for number, item in enumerate(_check(value, [dict], name, path))
        ]
    # bool is a kind of int in Python, but true is not a number of minutes.
    if not isinstance(value, schema) or (schema is int and isinstance(value, bool)):
        expected = {str: "a string", int: "a whole number", bool: "true or false"}
        raise ContentError(
            f"{where}: expected {expected.get(schema, schema.__name__)}, got {value!r}"
        )
    return value


def _block(table, schema, name, path):
    """One StreamField block as the ``(type, value)`` pair Wagtail takes."""
    fields = dict(table)
    block_type = fields.pop("type", None)
    if block_type not in schema.types:
        raise ContentError(
            f"{name}: {path}.type: expected one of {', '.join(schema.types)}, "
            f"got {block_type!r}"
        )
    spec = schema.types[block_type]
    if isinstance(spec, dict):
        return (block_type, _check(fields, spec, name, path))
    return (block_type, _check(fields, {"value": spec}, name, path)["value"])


def _closed_days(pairs):
    """``closed_days`` as a set of (month, day), each a real day of the year."""
    days = set()
    for number, pair in enumerate(pairs):
        try:
            month, day = pair
            dt.date(2000, month, day)  # a leap year, so 29 February is allowed
        except (TypeError, ValueError):
            raise ContentError(
                f"events.toml: closed_days[{number}]: expected [month, day], "
                f"got {pair!r}"
            ) from None
        days.add((month, day))
    return frozenset(days)


def _known(where, value, names):
    if value not in names:
        raise ContentError(
            f"{where}: unknown {value!r} (expected one of {', '.join(names)})"
        )


def _check_sign_ups(content):
    """Sign-ups name upcoming events (by slug)."""
    known = _known
    slugs = [event["slug"] for event in content.events]
    for slug in content.sign_ups:
        known("history.toml: sign_ups", slug, slugs)
    for number, sign_up in enumerate(content.date_sign_ups):
        known(f"history.toml: date_sign_ups[{number}].event", sign_up["event"], slugs)


def _check_references(content):
    """Every key or slug one file uses names something another file defines,
    and each past event's tables have a row or entry per session."""
    known = _known
    pages = [page["slug"] for page in content.pages]
    known(
        "site.toml: settings.privacy_notice_page",
        content.settings["privacy_notice_page"],
        pages,
    )
    for file, table, events in (
        ("events.toml", "events", content.events),
        ("history.toml", "past_events", content.past_events),
    ):
        for number, event in enumerate(events):
            where = f"{file}: {table}[{number}]"
            known(f"{where}.venue", event["venue"], list(content.venues))
            for key in event["facilitators"]:
                known(f"{where}.facilitators", key, list(content.facilitators))
            if "workshop" in event:
                known(f"{where}.workshop", event["workshop"], list(content.workshops))
            if "move" in event:
                known(
                    f"{where}.move.venue", event["move"]["venue"], list(content.venues)
                )
    _check_sign_ups(content)
    for number, event in enumerate(content.past_events):
        where = f"history.toml: past_events[{number}]"
        held = event["sessions"] - (1 if "cancel" in event else 0)
        for key in ("walk_ins", "headcounts"):
            if key in event and len(event[key]) != held:
                raise ContentError(
                    f"{where}.{key}: expected one entry per session held ({held}), "
                    f"got {len(event[key])}"
                )
        for row_number, row in enumerate(event.get("attendance", [])):
            if len(row) != held:
                raise ContentError(
                    f"{where}.attendance[{row_number}]: expected one letter per "
                    f"session held ({held}), got {row!r}"
                )
