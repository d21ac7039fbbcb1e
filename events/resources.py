"""Spreadsheet resources of the events app: venues, the session schedule and
registrations (django-import-export, on ``website.spreadsheets.GatherResource``).

Every change an import makes goes through the app's workflow functions:
sessions through ``events.sessions`` (so UIDs and sequence numbers stay
right and people hear about moves), registrations through
``events.registration`` (so capacity and the waitlist hold). Look-ups
(events, venues, facilitators, existing rows) are loaded once per import in
``before_import``, so reading a file never costs a query per row.
"""

import contextlib
import dataclasses
import re
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader
from wagtail.models import Revision

from core.forms import PageChoiceField
from spreadsheets.cells import (
    as_text,
    is_empty,
    parse_bool,
    parse_choice,
    parse_datetime,
    parse_int,
    parse_time,
)
from spreadsheets.errors import SpreadsheetError
from spreadsheets.resources import GatherResource, filters_description

from . import registration as registration_workflows
from . import sessions as session_workflows
from .errors import EventsError
from .filters import RegistrationFilterSet, SessionFilterSet, VenueFilterSet
from .models import (
    EventIndexPage,
    EventKind,
    EventPage,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionStatus,
    Setting,
    Venue,
)
from .permissions import (
    is_coordinator,
    registrations_visible_to,
    sessions_visible_to,
)
from .registration import (
    MIN_PHONE_DIGITS,
    normalise_phone,
    person_key,
    phone_too_short,
)

FACILITATORS_GROUP = "Facilitators"


def _listing_url(name):
    from django.urls import reverse

    return reverse(name)


def _valid_filterset(filterset):
    if not filterset.is_valid():
        raise ValidationError(_("The listing's filters are not valid."))
    return filterset.qs


# Venues -----------------------------------------------------------------------


class VenueLoader(BaseInstanceLoader):
    """Finds venues by ``id`` (as exported, so a name or room can be changed),
    else by name and room (any case), from one query of all venues."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.by_key = defaultdict(list)
        self.by_id = {}
        for venue in Venue.objects.all():
            self.by_key[venue_key(venue.name, venue.room)].append(venue)
            self.by_id[venue.pk] = venue

    def get_instance(self, row):
        if not is_empty(row.get("id")):
            try:
                venue_id = parse_int(row.get("id"), column_label="id", minimum=1)
            except ValueError as error:
                raise ValidationError({"id": [str(error)]}) from error
            if venue_id not in self.by_id:
                raise ValidationError(
                    {
                        "id": [
                            _(
                                "No venue has this id. Leave the id empty to add "
                                "a new venue."
                            )
                        ]
                    }
                )
            return self.by_id[venue_id]
        matches = self.by_key.get(venue_key(row.get("name"), row.get("room")), [])
        if len(matches) > 1:
            raise ValidationError(
                {
                    "name": [
                        _(
                            "More than one venue has this name and room. Give "
                            "them different rooms in the admin first."
                        )
                    ]
                }
            )
        return matches[0] if matches else None


def venue_key(name, room):
    return (as_text(name).lower(), as_text(room).lower())


VENUE_TEXT = {
    "name": 120,
    "room": 120,
    "address": None,
    "directions": None,
    "accessibility_notes": None,
    "online_joining_link": 200,
}
VENUE_FLAGS = ("step_free", "hearing_loop", "quiet_room")


class VenueResource(GatherResource):
    """Venues, one row each, found by ``id`` when the row has one (exports
    do), else by name and room.

    Rows allow bulk mode: no workflow, no per-row signals that matter except
    the search index, which is updated for the changed venues afterwards.
    """

    key = "venues"
    label = gettext_lazy("Venues")
    menu_label = gettext_lazy("Import venues")
    menu_order = 10
    columns = {
        "id": gettext_lazy("id"),
        "name": gettext_lazy("name"),
        "room": gettext_lazy("room"),
        "setting": gettext_lazy("setting"),
        "address": gettext_lazy("address"),
        "directions": gettext_lazy("directions"),
        "step_free": gettext_lazy("step-free access"),
        "hearing_loop": gettext_lazy("hearing loop"),
        "quiet_room": gettext_lazy("quiet room"),
        "accessibility_notes": gettext_lazy("accessibility notes"),
        "online_joining_link": gettext_lazy("online joining link"),
        "default_capacity": gettext_lazy("default capacity"),
    }
    required_columns = ("name", "setting")
    column_aliases = {"venue": "name", "capacity": "default_capacity"}

    id = Field(attribute="id", column_name="id", readonly=True)
    name = Field(attribute="name", column_name="name")
    room = Field(attribute="room", column_name="room")
    setting = Field(attribute="setting", column_name="setting")
    address = Field(attribute="address", column_name="address")
    directions = Field(attribute="directions", column_name="directions")
    step_free = Field(attribute="step_free", column_name="step_free")
    hearing_loop = Field(attribute="hearing_loop", column_name="hearing_loop")
    quiet_room = Field(attribute="quiet_room", column_name="quiet_room")
    accessibility_notes = Field(
        attribute="accessibility_notes", column_name="accessibility_notes"
    )
    online_joining_link = Field(
        attribute="online_joining_link", column_name="online_joining_link"
    )
    default_capacity = Field(
        attribute="default_capacity", column_name="default_capacity"
    )

    class Meta(GatherResource.Meta):
        model = Venue
        fields = (
            "id",
            "name",
            "room",
            "setting",
            "address",
            "directions",
            "step_free",
            "hearing_loop",
            "quiet_room",
            "accessibility_notes",
            "online_joining_link",
            "default_capacity",
        )
        export_order = fields
        import_id_fields = ("name", "room")
        instance_loader_class = VenueLoader
        use_bulk = True
        batch_size = 500
        clean_model_instances = True

    def before_import(self, dataset, **kwargs):
        self._seen = {}
        self._saved = []

    def snapshot(self, instance):
        return tuple(getattr(instance, column) for column in self.columns)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        row_number = kwargs.get("row_number")
        key = instance.pk or venue_key(row.get("name"), row.get("room"))
        if key in self._seen:
            errors["name"] = [
                _("The same venue is also on row %(row)s.")
                % {"row": self.line_of(self._seen[key])}
            ]
        else:
            self._seen[key] = row_number
        for column, max_length in VENUE_TEXT.items():
            if column not in row:
                continue
            value = as_text(row[column])
            if max_length and len(value) > max_length:
                errors[column] = [
                    _("Keep this under %(max)s characters.") % {"max": max_length}
                ]
            setattr(instance, column, value)
        if not instance.name:
            errors["name"] = [_("Every venue needs a name.")]
        try:
            instance.setting = parse_choice(
                row.get("setting"), Setting, column_label=_("setting")
            )
            if not instance.setting:
                errors["setting"] = [
                    _("Say where it is: hospital, community or online.")
                ]
        except ValueError as error:
            errors["setting"] = [str(error)]
        for column in VENUE_FLAGS:
            if column in row:
                try:
                    setattr(
                        instance,
                        column,
                        parse_bool(row[column], column_label=self.column_label(column)),
                    )
                except ValueError as error:
                    errors[column] = [str(error)]
        if "default_capacity" in row:
            try:
                instance.default_capacity = parse_int(
                    row["default_capacity"], column_label=_("default capacity")
                )
            except ValueError as error:
                errors["default_capacity"] = [str(error)]
        if errors:
            raise ValidationError(errors)

    def get_bulk_update_fields(self):
        return [*(c for c in self.columns if c != "id"), "updated_at"]

    def save_instance(self, instance, is_create, row, **kwargs):
        if not is_create:
            instance.updated_at = timezone.now()
        self._saved.append(instance)
        super().save_instance(instance, is_create, row, **kwargs)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run"):
            return
        # Bulk writes send no signals: queue the search index update the
        # signal would have queued, for the venues that changed.
        from modelsearch.tasks import insert_or_update_object_task

        for venue in self._saved:
            if venue.pk:
                insert_or_update_object_task.enqueue("events", "venue", str(venue.pk))

    def dehydrate_default_capacity(self, venue):
        return venue.default_capacity

    def dehydrate_step_free(self, venue):
        return venue.step_free

    def dehydrate_hearing_loop(self, venue):
        return venue.hearing_loop

    def dehydrate_quiet_room(self, venue):
        return venue.quiet_room

    @classmethod
    def can_import(cls, user):
        return user.has_perms(["events.add_venue", "events.change_venue"])

    can_export = can_import

    @classmethod
    def export_queryset(cls, request):
        filterset = VenueFilterSet(request.GET, queryset=Venue.objects.all())
        queryset = _valid_filterset(filterset)
        query = request.GET.get("q", "").strip()
        if query:
            queryset = queryset.filter(name__icontains=query)
        return queryset.order_by("name", "pk"), filters_description(filterset, request)

    @classmethod
    def listing_url(cls):
        return _listing_url("wagtailsnippets_events_venue:list")


# Event state: what the admin shows of an event ---------------------------------


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


# Schedule -----------------------------------------------------------------------


@dataclasses.dataclass
class EventPlan:
    """What the import does to one event: the rows that name it agree on it."""

    title: str
    event: EventPage | None
    state: EventState | None
    first_row: int
    kind: str | None = None
    capacity: int | None = None
    capacity_given: bool = False
    facilitator_ids: tuple | None = None
    venue: Venue | None = None
    can_edit: bool = True
    applied: bool = False
    #: Sessions already in this event that this file names, by start.
    sessions_by_start: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        #: Whether the import creates the event (fixed when planned).
        self.is_new = self.event is None

    def wanted(self) -> dict:
        """Event fields the rows ask for that differ from the event now."""
        if self.is_new:
            return {}
        changes = {}
        if self.kind and self.kind != self.state.kind:
            changes["kind"] = self.kind
        if self.capacity_given and self.capacity != self.state.capacity:
            changes["capacity"] = self.capacity
        if (
            self.facilitator_ids is not None
            and tuple(sorted(self.facilitator_ids)) != self.state.facilitator_ids
        ):
            changes["facilitators"] = self.facilitator_ids
        return changes


class ScheduleLoader(BaseInstanceLoader):
    """Finds a row's session from what ``ScheduleResource.before_import``
    loaded: by ``uid``, else by its event and start."""

    def get_instance(self, row):
        parsed = self.resource.current
        if parsed.session is not None:
            return parsed.session
        plan = parsed.plan
        if plan is None or plan.is_new or parsed.start is None:
            return None
        return plan.sessions_by_start.get(parsed.start)


@dataclasses.dataclass
class ParsedSessionRow:
    errors: dict
    plan: EventPlan | None = None
    session: EventSession | None = None
    start: object = None
    end: object = None
    venue: Venue | None = None
    venue_given: bool = False
    status: str | None = None


class ScheduleResource(GatherResource):
    """The session schedule: one row per session.

    Rows name their event by title; the rows of one event create or update a
    draft EventPage below the events listing chosen in the upload form, and
    each row adds, moves, cancels or reinstates one session through
    ``events.sessions``. A row with a ``uid`` (as exported) finds its session
    by it; without one, by its event and start time, so importing the same
    plan twice changes nothing.

    Event columns (kind, capacity, facilitators) describe the event; an empty
    cell means "as the other rows say". ``venue`` is where each session
    meets: a new event takes its first row's venue, and sessions elsewhere
    get their own. Changes to existing events are saved as a new draft
    revision, to publish in the page editor.
    """

    key = "schedule"
    label = gettext_lazy("Session schedule")
    menu_label = gettext_lazy("Import a session schedule")
    menu_order = 20
    columns = {
        "event": gettext_lazy("event"),
        "kind": gettext_lazy("kind"),
        "venue": gettext_lazy("venue"),
        "start": gettext_lazy("start"),
        "end": gettext_lazy("end"),
        "capacity": gettext_lazy("capacity"),
        "facilitators": gettext_lazy("facilitators"),
        "status": gettext_lazy("status"),
        "uid": gettext_lazy("uid"),
    }
    required_columns = ("event", "start", "end")
    column_aliases = {
        "event_title": "event",
        "title": "event",
        "starts": "start",
        "ends": "end",
        "facilitator": "facilitators",
        "session_uid": "uid",
    }

    event = Field(column_name="event")
    kind = Field(column_name="kind")
    venue = Field(column_name="venue")
    start = Field(attribute="start", column_name="start")
    end = Field(attribute="end", column_name="end")
    capacity = Field(column_name="capacity")
    facilitators = Field(column_name="facilitators")
    status = Field(attribute="status", column_name="status")
    uid = Field(attribute="uid", column_name="uid")

    class Meta(GatherResource.Meta):
        model = EventSession
        fields = (
            "event",
            "kind",
            "venue",
            "start",
            "end",
            "capacity",
            "facilitators",
            "status",
            "uid",
        )
        export_order = fields
        import_id_fields = ("uid",)
        instance_loader_class = ScheduleLoader

    # Loading -----------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        self.index = EventIndexPage.objects.filter(
            pk=self.options.get("parent")
        ).first()
        if self.index is None:
            raise EventsError(_("Choose where to put new events."), code="no_parent")
        rows = list(dataset.dict)
        self._load_venues()
        self._load_users(rows)
        self._load_events(rows)
        self.plans = {}
        self.prescan = {}
        self._seen_sessions = {}
        self._created_events = 0
        self._updated_events = 0
        for number, row in enumerate(rows, start=1):
            self.prescan[number] = self._plan_row(number, row)

    def _load_venues(self):
        self.venues_by_label = defaultdict(list)
        self.venues_by_name = defaultdict(list)
        self.venues_by_id = {}
        for venue in Venue.objects.all():
            self.venues_by_label[str(venue).lower()].append(venue)
            self.venues_by_name[venue.name.lower()].append(venue)
            self.venues_by_id[venue.pk] = venue

    def _load_users(self, rows):
        tokens = set()
        for row in rows:
            tokens.update(t.lower() for t in _split_people(row.get("facilitators")))
        self.users, self.users_by_id = {}, {}
        if not tokens:
            return
        User = get_user_model()
        in_group = User.groups.through.objects.filter(
            user_id=OuterRef("pk"), group__name=FACILITATORS_GROUP
        )
        matching = Q()
        for token in tokens:
            matching |= Q(username__iexact=token) | Q(email__iexact=token)
        candidates = User.objects.filter(matching).annotate(
            is_facilitator=Exists(in_group)
        )
        for user in candidates:
            self.users_by_id[user.pk] = user
            for token in {user.username.lower(), (user.email or "").lower()} - {""}:
                self.users.setdefault(token, []).append(user)

    def _load_events(self, rows):
        uids = {as_text(row.get("uid")) for row in rows} - {""}
        self.sessions_by_uid = {
            s.uid: s
            for s in EventSession.objects.filter(uid__in=uids).select_related("venue")
        }
        children = list(EventPage.objects.child_of(self.index))
        by_id = {event.pk: event for event in children}
        missing = {s.event_id for s in self.sessions_by_uid.values()} - set(by_id)
        for event in EventPage.objects.filter(pk__in=missing):
            by_id[event.pk] = event
        self.events_by_id = by_id
        self.states = event_states(by_id.values())
        self.events_by_title = defaultdict(list)
        for event in children:
            titles = {event.title.lower(), (event.draft_title or "").lower()}
            for title in titles - {""}:
                self.events_by_title[title].append(event)
        self.slugs = {event.slug for event in children}
        for session in self.sessions_by_uid.values():
            session.event = by_id[session.event_id]
        self.sessions_of = defaultdict(dict)
        for session in EventSession.objects.filter(event_id__in=list(by_id)):
            if session.uid in self.sessions_by_uid:
                session = self.sessions_by_uid[session.uid]
            session.event = by_id[session.event_id]
            self.sessions_of[session.event_id].setdefault(session.start, session)

    # Parsing -----------------------------------------------------------------

    def _plan_row(self, number, row):
        """Group a row with its event and check it agrees with the others."""
        errors = {}
        title = as_text(row.get("event"))
        session = None
        uid = as_text(row.get("uid"))
        if not title:
            errors["event"] = [_("Every row needs the event's title.")]
            return ParsedSessionRow(errors=errors)
        if len(title) > 255:
            errors["event"] = [_("Keep the title under 255 characters.")]
            return ParsedSessionRow(errors=errors)
        event = None
        if uid:
            session = self.sessions_by_uid.get(uid)
            if session is None:
                errors["uid"] = [
                    _(
                        "No session has this uid. Leave the uid empty to add a "
                        "new session."
                    )
                ]
                return ParsedSessionRow(errors=errors)
            event = self.events_by_id[session.event_id]
            state = self.states[event.pk]
            if title.lower() not in {event.title.lower(), state.title.lower()}:
                errors["event"] = [
                    _("This session belongs to the event “%(title)s”.")
                    % {"title": state.title}
                ]
                return ParsedSessionRow(errors=errors)
            group = ("event", event.pk)
        else:
            matches = self.events_by_title.get(title.lower(), [])
            if len(matches) > 1:
                errors["event"] = [
                    _(
                        "More than one event in this listing has this title. "
                        "Give them different titles first."
                    )
                ]
                return ParsedSessionRow(errors=errors)
            event = matches[0] if matches else None
            group = ("event", event.pk) if event else ("new", title.lower())
        plan = self.plans.get(group)
        if plan is None:
            state = self.states.get(event.pk) if event else None
            plan = EventPlan(title=title, event=event, state=state, first_row=number)
            if event is not None:
                plan.can_edit = event.permissions_for_user(self.user).can_edit()
                plan.sessions_by_start = self.sessions_of.get(event.pk, {})
            self.plans[group] = plan
        if not plan.can_edit:
            errors["event"] = [_("You are not allowed to change this event.")]
        self._agree(plan, row, number, errors)
        return ParsedSessionRow(errors=errors, plan=plan, session=session)

    def _agree(self, plan, row, number, errors):
        """Take the event's kind, capacity, facilitators and venue from the
        first row that gives them; later rows must not say otherwise."""
        first = plan.first_row == number
        if "kind" in row:
            try:
                kind = parse_choice(row["kind"], EventKind, column_label=_("kind"))
            except ValueError as error:
                errors["kind"] = [str(error)]
            else:
                if kind and plan.kind and kind != plan.kind:
                    errors["kind"] = [self._disagree(plan)]
                elif kind:
                    plan.kind = kind
        if "capacity" in row:
            try:
                capacity = parse_int(row["capacity"], column_label=_("capacity"))
            except ValueError as error:
                errors["capacity"] = [str(error)]
            else:
                if capacity is not None and plan.capacity not in (None, capacity):
                    errors["capacity"] = [self._disagree(plan)]
                elif capacity is not None:
                    plan.capacity = capacity
                if first:
                    plan.capacity_given = True
        if "facilitators" in row:
            try:
                ids = self._facilitators(row["facilitators"])
            except ValueError as error:
                errors["facilitators"] = [str(error)]
            else:
                if (
                    ids
                    and plan.facilitator_ids
                    and set(ids) != set(plan.facilitator_ids)
                ):
                    errors["facilitators"] = [self._disagree(plan)]
                elif ids:
                    plan.facilitator_ids = ids
                elif first:
                    plan.facilitator_ids = ()
        if plan.is_new and plan.venue is None and "venue" in row:
            try:
                plan.venue = self._venue(row["venue"])
            except ValueError:
                pass  # reported with the row

    def _disagree(self, plan):
        return _(
            "Another row of “%(title)s” (row %(row)s) says something else. Rows "
            "of one event must agree; leave the cell empty to use theirs."
        ) % {"title": plan.title, "row": self.line_of(plan.first_row)}

    def _venue(self, value):
        text = as_text(value).lower()
        if not text:
            return None
        matches = self.venues_by_label.get(text) or self.venues_by_name.get(text, [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ValueError(
                _(
                    "More than one venue is called this. Write it with the room, "
                    "as in the venues list: “Name, Room”."
                )
            )
        raise ValueError(
            _("No venue is called “%(name)s”. Add it to the venues first.")
            % {"name": as_text(value)}
        )

    def _facilitators(self, value):
        ids = []
        for token in _split_people(value):
            matches = self.users.get(token.lower(), [])
            if len(matches) != 1 or not matches[0].is_active:
                raise ValueError(
                    _("No active user has the username or email “%(who)s”.")
                    % {"who": token}
                )
            if not matches[0].is_facilitator:
                raise ValueError(
                    _("“%(who)s” is not in the Facilitators group.") % {"who": token}
                )
            ids.append(matches[0].pk)
        return tuple(dict.fromkeys(ids))

    def before_import_row(self, row, **kwargs):
        number = kwargs.get("row_number")
        parsed = self.prescan[number]
        errors = parsed.errors
        try:
            parsed.start = parse_datetime(row.get("start"), column_label=_("start"))
        except ValueError as error:
            errors.setdefault("start", []).append(str(error))
        end_time = parse_time(row.get("end"))
        try:
            if end_time is not None and parsed.start is not None:
                local = timezone.localtime(parsed.start, session_workflows.site_zone())
                parsed.end = local.replace(
                    hour=end_time.hour, minute=end_time.minute, second=end_time.second
                )
            else:
                parsed.end = parse_datetime(row.get("end"), column_label=_("end"))
        except ValueError as error:
            errors.setdefault("end", []).append(str(error))
        for column in ("start", "end"):
            value = getattr(parsed, column)
            if value is not None and (error := session_workflows.missing_time(value)):
                errors.setdefault(column, []).append(error.message)
        if parsed.start and parsed.end and not errors.keys() & {"start", "end"}:
            try:
                session_workflows.check_times(parsed.start, parsed.end)
            except EventsError as error:
                errors.setdefault("end", []).append(error.message)
        if "venue" in row:
            parsed.venue_given = not is_empty(row["venue"])
            try:
                parsed.venue = self._venue(row["venue"])
            except ValueError as error:
                errors.setdefault("venue", []).append(str(error))
        try:
            parsed.status = parse_choice(
                row.get("status"), SessionStatus, column_label=_("status")
            )
        except ValueError as error:
            errors.setdefault("status", []).append(str(error))
        if parsed.plan is not None and parsed.start is not None:
            key = (
                id(parsed.plan),
                parsed.session.pk if parsed.session else parsed.start,
            )
            if key in self._seen_sessions:
                errors.setdefault("start", []).append(
                    _("Row %(row)s has the same session.")
                    % {"row": self.line_of(self._seen_sessions[key])}
                )
            else:
                self._seen_sessions[key] = number
        self.current = parsed

    def init_instance(self, row=None):
        return EventSession(status=SessionStatus.SCHEDULED)

    def _event_venue_id(self, plan):
        if plan.is_new:
            return plan.venue.pk if plan.venue else None
        return plan.state.venue_id

    def snapshot(self, session):
        parsed = getattr(self, "current", None)
        wanted = getattr(session, "_wanted", None)
        if wanted is not None:
            return wanted
        event_venue = (
            self._event_venue_id(parsed.plan) if parsed and parsed.plan else None
        )
        return (
            session.start,
            session.end,
            session.venue_id or event_venue,
            session.status,
        )

    def import_instance(self, session, row, **kwargs):
        parsed = self.current
        if parsed.errors:
            raise ValidationError(parsed.errors)
        event_venue = self._event_venue_id(parsed.plan)
        venue_id = parsed.venue.pk if parsed.venue else event_venue
        if not parsed.venue_given and session.pk:
            venue_id = session.venue_id or event_venue
        status = session.status
        if parsed.status == SessionStatus.CANCELLED:
            status = SessionStatus.CANCELLED
        elif parsed.status and session.status == SessionStatus.CANCELLED:
            status = SessionStatus.SCHEDULED
        session._wanted = (parsed.start, parsed.end, venue_id, status)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        plan = self.current.plan
        if plan is not None and plan.wanted() and not plan.applied:
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    # Saving ------------------------------------------------------------------

    def save_instance(self, session, is_create, row, **kwargs):
        parsed = self.current
        number = kwargs.get("row_number")
        try:
            event = self._apply_event(parsed.plan, number)
            start, end, venue_id, status = session._wanted
            event_venue = self._event_venue_id(parsed.plan)
            venue = self.venues_by_id.get(venue_id) if venue_id != event_venue else None
            if is_create:
                created = session_workflows.add_session(
                    event=event, start=start, end=end, venue=venue
                )
                if status == SessionStatus.CANCELLED:
                    session_workflows.cancel_session(session=created)
                session.pk, session.event = created.pk, event
                return
            if session.status == SessionStatus.CANCELLED and status != session.status:
                session_workflows.reinstate_session(session=session)
                session.status = SessionStatus.SCHEDULED
            current_venue = session.venue_id or event_venue
            if (session.start, session.end, current_venue) != (start, end, venue_id):
                session_workflows.reschedule_session(
                    session=session, start=start, end=end, venue=venue
                )
            if status == SessionStatus.CANCELLED and session.status != status:
                session_workflows.cancel_session(session=session)
        except EventsError as error:
            column = "start" if error.code == "end_before_start" else NON_FIELD_ERRORS
            raise ValidationError({column: [error.message]}) from error

    def _apply_event(self, plan, number):
        """Create the plan's event, or save its changes as a draft, once."""
        if plan.applied:
            return plan.event
        if plan.is_new:
            plan.event = self._create_event(plan)
            plan.applied = True
            self._created_events += 1
            self.row_notes[number] = _("New draft event: %(title)s") % {
                "title": plan.title
            }
            return plan.event
        changes = plan.wanted()
        if changes:
            page = plan.event.get_latest_revision_as_object()
            for name, value in changes.items():
                if name == "facilitators":
                    page.facilitators = [self.users_by_id[pk] for pk in value]
                else:
                    setattr(page, name, value)
            page.save_revision(user=self.user, log_action=True)
            plan.state = dataclasses.replace(
                plan.state, **{k: v for k, v in changes.items() if k != "facilitators"}
            )
            self._updated_events += 1
            self.row_notes[number] = _(
                "Event details changed (saved as a draft: publish the event to "
                "apply them)."
            )
        plan.applied = True
        return plan.event

    def _create_event(self, plan):
        base = slugify(plan.title)[:60] or "event"
        slug, counter = base, 2
        while slug in self.slugs:
            slug, counter = f"{base}-{counter}", counter + 1
        self.slugs.add(slug)
        event = EventPage(
            title=plan.title,
            slug=slug,
            summary=plan.title,
            kind=plan.kind or EventKind.GROUP,
            venue=plan.venue,
            capacity=plan.capacity,
            live=False,
        )
        self.index.add_child(instance=event)
        if plan.facilitator_ids:
            event.facilitators = [self.users_by_id[pk] for pk in plan.facilitator_ids]
            event.save()
        event.save_revision(user=self.user, log_action=True)
        return event

    def after_import(self, dataset, result, **kwargs):
        self.event_counts = {
            "created": self._created_events,
            "updated": self._updated_events,
        }

    # Export ------------------------------------------------------------------

    def export(self, queryset=None, **kwargs):
        sessions = list(
            (queryset if queryset is not None else EventSession.objects.all())
            .select_related("event", "venue")
            .order_by("event__title", "event_id", "start", "pk")
        )
        events = {s.event_id: s.event for s in sessions}
        self.export_states = event_states(events.values())
        venue_ids = {s.venue_id for s in sessions} | {
            state.venue_id for state in self.export_states.values()
        }
        self.export_venues = {
            v.pk: v for v in Venue.objects.filter(pk__in=venue_ids - {None})
        }
        user_ids = {
            i for state in self.export_states.values() for i in state.facilitator_ids
        }
        self.export_users = dict(
            get_user_model()
            .objects.filter(pk__in=user_ids)
            .values_list("pk", "username")
        )
        return super().export(sessions, **kwargs)

    def iter_queryset(self, queryset):
        return iter(queryset)

    def dehydrate_event(self, session):
        return self.export_states[session.event_id].title

    def dehydrate_kind(self, session):
        return self.export_states[session.event_id].kind

    def dehydrate_venue(self, session):
        venue_id = session.venue_id or self.export_states[session.event_id].venue_id
        venue = self.export_venues.get(venue_id)
        return str(venue) if venue else ""

    def dehydrate_start(self, session):
        return session.start

    def dehydrate_end(self, session):
        return session.end

    def dehydrate_capacity(self, session):
        return self.export_states[session.event_id].capacity

    def dehydrate_facilitators(self, session):
        ids = self.export_states[session.event_id].facilitator_ids
        return ", ".join(
            sorted(self.export_users[i] for i in ids if i in self.export_users)
        )

    # Permissions -------------------------------------------------------------

    @classmethod
    def can_import(cls, user):
        return user.has_perms(["events.add_eventsession", "events.change_eventsession"])

    can_export = can_import

    @classmethod
    def allowed_indexes(cls, user):
        return [
            index
            for index in EventIndexPage.objects.order_by("title")
            if index.permissions_for_user(user).can_add_subpage()
        ]

    @classmethod
    def upload_fields(cls, user):

        indexes = cls.allowed_indexes(user)
        return {
            "parent": PageChoiceField(
                queryset=EventIndexPage.objects.filter(pk__in=[i.pk for i in indexes]),
                label=gettext_lazy("Put new events in"),
                help_text=gettext_lazy(
                    "New events are created here as drafts. Events already here "
                    "with the same title are updated."
                ),
            )
        }

    @classmethod
    def clean_options(cls, cleaned_data, user):
        return {"parent": cleaned_data["parent"].pk}

    @classmethod
    def check_options(cls, options, user):
        index = EventIndexPage.objects.filter(pk=options.get("parent")).first()
        if index is None or not index.permissions_for_user(user).can_add_subpage():
            raise SpreadsheetError(
                _("You cannot add events to the chosen events listing any more.")
            )

    @classmethod
    def describe_options(cls, options):
        index = EventIndexPage.objects.filter(pk=options.get("parent")).first()
        return (
            [_("New events go in: %(title)s") % {"title": index.title}] if index else []
        )

    @classmethod
    def export_queryset(cls, request):
        filterset = SessionFilterSet(
            request.GET, queryset=EventSession.objects.all(), request=request
        )
        return _valid_filterset(filterset), filters_description(filterset, request)

    @classmethod
    def listing_url(cls):
        return _listing_url("event_sessions:index")


def _split_people(value):
    return [t.strip() for t in re.split(r"[,;\n]+", as_text(value)) if t.strip()]


# Registrations ------------------------------------------------------------------


EMAIL_MAX_LENGTH = Registration._meta.get_field("email").max_length


@dataclasses.dataclass
class Matches:
    """A person's existing registrations on one event."""

    active: Registration | None = None
    cancelled: list = dataclasses.field(default_factory=list)

    def add(self, registration):
        if registration.status == RegistrationStatus.CANCELLED:
            self.cancelled.append(registration)
        elif self.active is None:
            self.active = registration


class RegistrationLoader(BaseInstanceLoader):
    """Finds a row's registration with one query per row: the library's
    default way (``ModelInstanceLoader``), kept as the benchmark's peer."""

    def matches(self, event_id, key):
        found = Matches()
        queryset = Registration.objects.filter(event_id=event_id).order_by(
            "-created_at"
        )
        if key[0] == "email":
            queryset = queryset.filter(email__iexact=key[1])
            for registration in queryset:
                found.add(registration)
        else:
            for registration in queryset.filter(email="").exclude(phone=""):
                if normalise_phone(registration.phone) == key[1]:
                    found.add(registration)
        return found

    def get_instance(self, row):
        parsed = self.resource.current
        if parsed.event is None or parsed.key is None:
            return None
        found = self.matches(parsed.event.pk, parsed.key)
        return self.resource.choose(found, parsed)


class CachedRegistrationLoader(RegistrationLoader):
    """Loads every registration of the file's events in one query."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.by_key = defaultdict(Matches)
        event_ids = list(resource.events)
        for registration in Registration.objects.filter(
            event_id__in=event_ids
        ).order_by("-created_at"):
            key = person_key(registration.email, registration.phone)
            if key:
                self.by_key[(registration.event_id, key)].add(registration)

    def matches(self, event_id, key):
        return self.by_key.get((event_id, key), Matches())


@dataclasses.dataclass
class ParsedRegistrationRow:
    errors: dict
    event: EventPage | None = None
    key: tuple | None = None
    status: str | None = None


class RegistrationResource(GatherResource):
    """Registrations: name, email, phone and status, for one event or for the
    events named in an ``event_id`` column.

    New people are added with the coordinator's rules of
    ``events.registration`` (``RegistrationBatch`` in bulk mode, else
    ``register(by_coordinator=True)`` per row), so capacity and the waitlist
    hold, in file order, and they get the usual email; "cancelled" goes
    through ``cancel`` and "confirmed" for someone waiting through
    ``promote``. A person is found by email (any case), else by phone when
    they gave no email. Rows already true are skipped.
    """

    key = "registrations"
    label = gettext_lazy("Registrations")
    menu_label = gettext_lazy("Import registrations")
    menu_order = 30
    personal_data = True
    columns = {
        "event_id": gettext_lazy("event id"),
        "event": gettext_lazy("event"),
        "name": gettext_lazy("name"),
        "email": gettext_lazy("email"),
        "phone": gettext_lazy("phone"),
        "status": gettext_lazy("status"),
    }
    required_columns = ("name",)
    column_aliases = {"event_title": "event", "e_mail": "email", "telephone": "phone"}
    #: Look events up from one query per import (the peer does one per row).
    cached_lookups = True

    event_id = Field(attribute="event_id", column_name="event_id")
    event = Field(attribute="event__title", column_name="event", readonly=True)
    name = Field(attribute="name", column_name="name")
    email = Field(attribute="email", column_name="email")
    phone = Field(attribute="phone", column_name="phone")
    status = Field(attribute="status", column_name="status")

    class Meta(GatherResource.Meta):
        model = Registration
        fields = ("event_id", "event", "name", "email", "phone", "status")
        export_order = fields
        import_id_fields = ("email",)
        instance_loader_class = CachedRegistrationLoader
        # Bulk mode: no savepoint per row, new people go into one
        # RegistrationBatch (inserted by ``bulk_create`` when the rows are
        # done) and changed names into one ``bulk_update``. A refused row
        # writes nothing: the batch decides in memory, cancel() and promote()
        # run in their own savepoints, and a row's new name or phone is kept
        # only once its status change has gone through.
        use_bulk = True

    @classmethod
    def check_columns(cls, headers):
        super().check_columns(headers)
        present = set(cls.canonical_headers(headers))
        if not present & {"email", "phone"}:
            raise SpreadsheetError(
                _("The file needs an “email” or a “phone” column (or both).")
            )

    # Loading -----------------------------------------------------------------

    def allowed_event_ids(self):
        """None for every event, else the ids of events the user may manage."""
        if self.user is None or is_coordinator(self.user):
            return None
        return set(sessions_visible_to(self.user).values_list("event_id", flat=True))

    def before_import(self, dataset, **kwargs):
        self.allowed = self.allowed_event_ids()
        self.default_event_id = self.options.get("event")
        wanted_ids = {self.default_event_id} - {None}
        rows = dataset.dict
        for row in rows:
            try:
                event_id = parse_int(row.get("event_id"), column_label="event_id")
            except ValueError:
                continue
            if event_id:
                wanted_ids.add(event_id)
        if self.allowed is not None:
            wanted_ids &= self.allowed
        if self.cached_lookups:
            self.events = EventPage.objects.in_bulk(list(wanted_ids))
        else:
            self.events = dict.fromkeys(wanted_ids)  # ids only; looked up per row
        # People the file gives a place (so a "cancelled" row for the same
        # person means an older, cancelled registration).
        self.active_in_file = set()
        # In bulk mode new people are added by one batch that locks and reads
        # the events once, and inserted together when the rows are done.
        self.batch = None
        if self._meta.use_bulk:
            self.batch = registration_workflows.RegistrationBatch(
                [event for event in self.events.values() if event is not None],
                notify=self.notify,
            )
        self.renamed = []
        for row in rows:
            status = as_text(row.get("status")).lower()
            key = person_key(as_text(row.get("email")), as_text(row.get("phone")))
            if key and status not in ("cancelled", str(_("Cancelled")).lower()):
                self.active_in_file.add((as_text(row.get("event_id")), key))
        self._seen = {}

    def _event(self, event_id):
        if self.cached_lookups:
            return self.events.get(event_id)
        if event_id not in self.events:
            return None
        return EventPage.objects.filter(pk=event_id).first()

    # Parsing -----------------------------------------------------------------

    def before_import_row(self, row, **kwargs):
        number = kwargs.get("row_number")
        errors = {}
        parsed = ParsedRegistrationRow(errors=errors)
        event_column = "event_id" if "event_id" in row else NON_FIELD_ERRORS
        try:
            event_id = parse_int(row.get("event_id"), column_label="event_id")
        except ValueError as error:
            errors["event_id"] = [str(error)]
            event_id = None
        if event_id and self.default_event_id and event_id != self.default_event_id:
            errors[event_column] = [
                _("This row is for another event (id %(id)s) than the one chosen.")
                % {"id": event_id}
            ]
        event_id = event_id or self.default_event_id
        if not event_id and "event_id" not in errors:
            errors[event_column] = [
                _(
                    "Choose the event in the form, or give an event_id on each "
                    "row (as exports do): event titles can repeat, so a title "
                    "alone is not enough."
                )
            ]
        elif event_id and "event_id" not in errors:
            parsed.event = self._event(event_id)
            if parsed.event is None:
                errors[event_column] = [
                    _("There is no event with id %(id)s that you can manage.")
                    % {"id": event_id}
                ]
        name = as_text(row.get("name"))
        email = as_text(row.get("email"))
        phone = as_text(row.get("phone"))
        if not name:
            errors["name"] = [_("Every row needs the person's name.")]
        elif len(name) > 120:
            errors["name"] = [_("Keep the name under 120 characters.")]
        if len(email) > EMAIL_MAX_LENGTH:
            errors["email"] = [_("This email address is too long.")]
        elif email:
            try:
                validate_email(email)
            except ValidationError:
                errors["email"] = [_("This is not an email address.")]
        if len(phone) > 40:
            errors["phone"] = [_("Keep the phone number under 40 characters.")]

        if not email and not phone:
            errors["email" if "email" in row else "phone"] = [
                _("Give an email address or a phone number.")
            ]
        try:
            parsed.status = parse_choice(
                row.get("status"), RegistrationStatus, column_label=_("status")
            )
        except ValueError as error:
            errors["status"] = [str(error)]
        parsed.key = person_key(email, phone) if "email" not in errors else None
        if (
            parsed.event
            and parsed.key
            and parsed.status != RegistrationStatus.CANCELLED
        ):
            seen_key = (parsed.event.pk, parsed.key)
            if seen_key in self._seen:
                errors["email" if parsed.key[0] == "email" else "phone"] = [
                    _("The same person is also on row %(row)s.")
                    % {"row": self.line_of(self._seen[seen_key])}
                ]
            else:
                self._seen[seen_key] = number
        parsed.name, parsed.email, parsed.phone = name, email, phone
        parsed.row_event_id = as_text(row.get("event_id"))
        self.current = parsed

    def choose(self, found, parsed):
        """Which existing registration a row is about, or None for a new one."""
        if parsed.status == RegistrationStatus.CANCELLED:
            if (
                parsed.row_event_id,
                parsed.key,
            ) in self.active_in_file or not found.active:
                return found.cancelled[0] if found.cancelled else None
            return found.active
        return found.active

    def init_instance(self, row=None):
        return Registration(event=self.current.event)

    def snapshot(self, registration):
        return (
            registration.name,
            registration.phone,
            getattr(registration, "_wanted_status", None) or registration.status,
        )

    def import_instance(self, registration, row, **kwargs):
        parsed = self.current
        errors = parsed.errors
        if not errors and registration.pk:
            current, wanted = registration.status, parsed.status
            if (
                current == RegistrationStatus.CONFIRMED
                and wanted == RegistrationStatus.WAITLISTED
            ):
                errors["status"] = [
                    _(
                        "This person has a place and cannot be put on the waitlist "
                        "here. Cancel the place instead, or leave the status as it is."
                    )
                ]
        if (
            "phone" not in errors
            and parsed.phone
            and parsed.phone != registration.phone  # new, or changed
            and phone_too_short(parsed.phone)
        ):
            errors["phone"] = [
                _("This is not a phone number: it needs at least %(n)s digits.")
                % {"n": MIN_PHONE_DIGITS}
            ]
        if errors:
            raise ValidationError(errors)
        registration.name = parsed.name
        if "phone" in row:
            registration.phone = parsed.phone
        if not registration.pk:
            registration.email = parsed.email
        if registration.status == RegistrationStatus.CANCELLED and registration.pk:
            # A cancelled registration is history: its details stay as they were.
            registration.name = registration._gather_snapshot[0]
            registration.phone = registration._gather_snapshot[1]
        registration._wanted_status = parsed.status or registration.status

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        if not instance.pk and self.current.status == RegistrationStatus.CANCELLED:
            self.row_notes[self._row_number] = _(
                "Not registered, so nothing to cancel."
            )
            return True
        return super().skip_row(instance, original, row, import_validation_errors)

    def import_row(self, row, instance_loader, **kwargs):
        self._row_number = kwargs.get("row_number")
        return super().import_row(row, instance_loader, **kwargs)

    # Saving ------------------------------------------------------------------

    def save_instance(self, registration, is_create, row, **kwargs):
        number = kwargs.get("row_number")
        parsed = self.current
        try:
            if is_create:
                result = self._add(parsed)
                registration.pk = result.registration.pk
                if not result.created:
                    self.row_notes[number] = _("Already registered.")
                elif result.registration.status == RegistrationStatus.WAITLISTED:
                    self.row_notes[number] = _("On the waitlist: the event is full.")
                elif parsed.status == RegistrationStatus.WAITLISTED:
                    self.row_notes[number] = _(
                        "Given a place, not the waitlist: the event has room."
                    )
                return
            # The status first: a refused change leaves the whole row out.
            wanted = registration._wanted_status
            if wanted != registration.status:
                with self._changing(parsed.event):
                    if wanted == RegistrationStatus.CANCELLED:
                        registration_workflows.cancel(registration=registration)
                        self.row_notes[number] = _("Cancelled.")
                    elif wanted == RegistrationStatus.CONFIRMED:
                        registration_workflows.promote(registration=registration)
                        self.row_notes[number] = _("Given a place from the waitlist.")
            before = registration._gather_snapshot
            if (registration.name, registration.phone) != before[:2]:
                registration.updated_at = timezone.now()
                if self.batch is None:
                    registration.save(update_fields=["name", "phone", "updated_at"])
                else:
                    self.renamed.append(registration)
        except EventsError as error:
            column = {
                "name_missing": "name",
                "no_contact": "email",
                "phone_too_short": "phone",
                "full": "status",
            }.get(error.code, "event_id" if "event_id" in row else NON_FIELD_ERRORS)
            raise ValidationError({column: [error.message]}) from error

    def _add(self, parsed):
        """A new person: added to the batch in bulk mode, else registered now
        (the library's default, one row at a time)."""
        person = {"event": parsed.event, "name": parsed.name}
        person.update(email=parsed.email, phone=parsed.phone)
        if self.batch is not None:
            return self.batch.add(**person)
        return registration_workflows.register(
            **person, by_coordinator=True, notify=self.notify
        )

    @property
    def notify(self):
        """Whether new people get the usual email (an upload option; yes by
        default, and for jobs from before the option)."""
        return self.options.get("notify", True)

    def _changing(self, event):
        if self.batch is None:
            return contextlib.nullcontext()
        return self.batch.changing(event)

    def bulk_create(self, using_transactions, dry_run, raise_errors, **kwargs):
        """Insert the people the batch added; the library calls this once the
        rows are done (the preview's dry run inserts too, then rolls back)."""
        if self.batch is None:
            return
        try:
            self.batch.save()
        except DatabaseError as error:  # reported like the library's bulk errors
            self.handle_import_error(kwargs.get("result"), error, raise_errors)

    def bulk_update(self, using_transactions, dry_run, raise_errors, **kwargs):
        """Save changed names and phone numbers in one statement per batch."""
        renamed, self.renamed = self.renamed, []
        if not renamed:
            return
        try:
            Registration.objects.bulk_update(
                renamed, ["name", "phone", "updated_at"], batch_size=500
            )
        except DatabaseError as error:
            self.handle_import_error(kwargs.get("result"), error, raise_errors)

    # Export ------------------------------------------------------------------

    def dehydrate_event_id(self, registration):
        return registration.event_id

    def dehydrate_event(self, registration):
        return registration.event.title

    # Permissions -------------------------------------------------------------

    @classmethod
    def can_import(cls, user):
        return user.has_perms(
            ["events.add_registration", "events.change_registration"]
        ) and (is_coordinator(user) or sessions_visible_to(user).exists())

    @classmethod
    def can_export(cls, user):
        """Personal data: coordinators, or people allowed to see some
        sessions' rosters (they get those events' registrations only)."""
        if is_coordinator(user):
            return True
        return user.has_perm("events.view_registration") and (
            sessions_visible_to(user).exists()
        )

    @classmethod
    def upload_fields(cls, user):
        from django import forms

        events = EventPage.objects.order_by("title")
        if not is_coordinator(user):
            events = events.filter(pk__in=sessions_visible_to(user).values("event_id"))
        return {
            "event": PageChoiceField(
                queryset=events,
                required=False,
                label=gettext_lazy("Event"),
                help_text=gettext_lazy(
                    "The event these people signed up for. Leave empty when "
                    "the file has an event_id column (as exports do)."
                ),
            ),
            "notify": forms.BooleanField(
                required=False,
                initial=True,
                label=gettext_lazy("Email the people added"),
                help_text=gettext_lazy(
                    "Each new person gets the usual confirmation or waitlist "
                    "email with their link to cancel. Untick when they already "
                    "know, for example when typing up a paper list. "
                    "Cancellations and promotions in the file are always emailed."
                ),
            ),
        }

    @classmethod
    def clean_options(cls, cleaned_data, user):
        event = cleaned_data.get("event")
        return {
            "event": event.pk if event else None,
            "notify": bool(cleaned_data.get("notify")),
        }

    @classmethod
    def check_options(cls, options, user):
        event_id = options.get("event")
        if (
            event_id
            and not cls.upload_fields(user)["event"]
            .queryset.filter(pk=event_id)
            .exists()
        ):
            raise SpreadsheetError(_("The chosen event is no longer yours to manage."))

    @classmethod
    def describe_options(cls, options):
        event = EventPage.objects.filter(pk=options.get("event")).first()
        lines = [_("Event: %(title)s") % {"title": event.title}] if event else []
        if options.get("notify", True):
            lines.append(_("The people added get the usual email."))
        else:
            lines.append(_("The people added are not emailed."))
        return lines

    @classmethod
    def export_queryset(cls, request):
        filterset = RegistrationFilterSet(
            request.GET,
            queryset=registrations_visible_to(request.user).select_related("event"),
            request=request,
        )
        queryset = _valid_filterset(filterset)
        query = request.GET.get("q", "").strip()
        if query:
            queryset = queryset.filter(
                Q(name__icontains=query) | Q(email__icontains=query)
            )
        queryset = queryset.order_by(
            "event__title", "status", "waitlist_position", "created_at", "pk"
        )
        return queryset, filters_description(filterset, request)

    @classmethod
    def listing_url(cls):
        return _listing_url("event_registrations:index")
