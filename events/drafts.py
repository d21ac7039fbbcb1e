"""Draft events: creating them, changing them as drafts, and reading what
the page editor shows of them.

Imports (the schedule spreadsheet, partner calendars) never publish: a new
event is created unpublished, and a change to an existing one is saved as
a new revision for a coordinator to review and publish in the page editor.
Both imports create their events with ``create_draft_event``.
"""

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from wagtail.models import Revision

from .errors import EventsError
from .models import EventIndexPage, EventKind, EventPage, Venue

#: A new event's slug is its title's, cut to this length (before any "-2").
SLUG_LENGTH = 60


@dataclasses.dataclass
class EventState:
    """An event's title, kind, venue, capacity and facilitators as the page
    editor shows them: from the latest revision when there are unpublished
    changes, else from the page."""

    title: str
    kind: str
    venue_id: int | None
    capacity: int | None
    facilitator_ids: tuple


def event_states(events) -> dict:
    """EventState by event id, in at most two queries for any number of events."""
    events = list(events)
    through = EventPage.facilitators.through
    facilitators = defaultdict(list)
    for event_id, user_id in through.objects.filter(
        eventpage_id__in=[e.pk for e in events]
    ).values_list("eventpage_id", "user_id"):
        facilitators[event_id].append(user_id)
    drafts = [e.latest_revision_id for e in events if e.has_unpublished_changes]
    contents = dict(
        Revision.objects.filter(pk__in=[pk for pk in drafts if pk]).values_list(
            "pk", "content"
        )
    )
    states = {}
    for event in events:
        content = (
            contents.get(event.latest_revision_id)
            if event.has_unpublished_changes
            else None
        )
        if content:
            states[event.pk] = EventState(
                title=content.get("title") or event.title,
                kind=content.get("kind") or event.kind,
                venue_id=content.get("venue"),
                capacity=content.get("capacity"),
                facilitator_ids=tuple(sorted(content.get("facilitators") or [])),
            )
        else:
            states[event.pk] = EventState(
                title=event.title,
                kind=event.kind,
                venue_id=event.venue_id,
                capacity=event.capacity,
                facilitator_ids=tuple(sorted(facilitators[event.pk])),
            )
    return states


def free_slug(index: EventIndexPage, title: str) -> str:
    """A slug for a new page below ``index``: the title's (or "event" when
    the title has no letters or digits to make one of), followed by -2, -3...
    when a page already there has it. Pages of every type count: Wagtail
    refuses two siblings with one slug."""
    base = slugify(title)[:SLUG_LENGTH] or "event"
    taken = set(
        index.get_children()
        .filter(slug__startswith=base)
        .values_list("slug", flat=True)
    )
    slug, counter = base, 2
    while slug in taken:
        slug, counter = f"{base}-{counter}", counter + 1
    return slug


@transaction.atomic
def create_draft_event(
    *,
    index: EventIndexPage,
    title: str,
    summary: str,
    user=None,
    kind: str = EventKind.GROUP,
    venue: Venue | None = None,
    capacity: int | None = None,
    facilitators: Sequence = (),
    what_to_expect: str = "",
    import_source: str = "",
    import_uid: str = "",
) -> EventPage:
    """Create an unpublished event below ``index`` with a slug no sibling
    has (``free_slug``), and its first revision, logged as ``user``'s.

    ``import_source`` and ``import_uid`` say which calendar event it came
    from, so importing the same calendar again finds it.
    """
    title = title.strip()
    if not title:
        raise EventsError(_("Every event needs a title."), code="no_title")
    event = EventPage(
        title=title,
        slug=free_slug(index, title),
        summary=summary,
        kind=kind,
        venue=venue,
        capacity=capacity,
        what_to_expect=what_to_expect,
        live=False,
        import_source=import_source,
        import_uid=import_uid,
    )
    index.add_child(instance=event)
    if facilitators:
        # A many-to-many of a page is kept until its next save.
        event.facilitators = list(facilitators)
        event.save()
    event.save_revision(user=user, log_action=True)
    return event


@transaction.atomic
def change_draft_event(
    *, event: EventPage, changes: Mapping[str, object], user=None
) -> Revision:
    """Save ``changes`` (field name to value; ``facilitators`` a list of
    users) on top of the event's latest revision, as a new draft revision
    logged as ``user``'s. The live page stays as it is until someone
    publishes the draft in the page editor. Returns the new revision."""
    draft = event.get_latest_revision_as_object()
    for name, value in changes.items():
        setattr(draft, name, value)
    return draft.save_revision(user=user, log_action=True)
