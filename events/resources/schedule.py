"""The session schedule spreadsheet: one row per session, grouped into
draft events by title."""

import dataclasses
import re
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader

from core.forms import PageChoiceField
from spreadsheets.cells import (
    as_text,
    is_empty,
    parse_choice,
    parse_datetime,
    parse_int,
    parse_time,
)
from spreadsheets.errors import SpreadsheetError
from spreadsheets.resources import (
    EXPORT_CHUNK_ROWS,
    GatherResource,
    filters_description,
)

from .. import drafts
from .. import sessions as session_workflows
from ..drafts import EventState, event_states
from ..errors import EventsError
from ..filters import SessionFilterSet
from ..groups import FACILITATORS_GROUP
from ..models import (
    EventIndexPage,
    EventKind,
    EventPage,
    EventSession,
    SessionStatus,
    Venue,
)
from .shared import listing_url, valid_filterset


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
    """One row as read: its errors by column, its event's plan, and the
    session, times, place and status it asks for."""

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
            self._agree_kind(plan, row["kind"], errors)
        if "capacity" in row:
            self._agree_capacity(plan, row["capacity"], first, errors)
        if "facilitators" in row:
            self._agree_facilitators(plan, row["facilitators"], first, errors)
        if plan.is_new and plan.venue is None and "venue" in row:
            try:
                plan.venue = self._venue(row["venue"])
            except ValueError:
                pass  # reported with the row

    def _agree_kind(self, plan, value, errors):
        try:
            kind = parse_choice(value, EventKind, column_label=_("kind"))
        except ValueError as error:
            errors["kind"] = [str(error)]
            return
        if kind and plan.kind and kind != plan.kind:
            errors["kind"] = [self._disagree(plan)]
        elif kind:
            plan.kind = kind

    def _agree_capacity(self, plan, value, first, errors):
        try:
            capacity = parse_int(value, column_label=_("capacity"))
        except ValueError as error:
            errors["capacity"] = [str(error)]
            return
        if capacity is not None and plan.capacity not in (None, capacity):
            errors["capacity"] = [self._disagree(plan)]
        elif capacity is not None:
            plan.capacity = capacity
        # With a capacity column the file sets the capacity: empty on every
        # row of the event means no limit, not "as it is".
        if first:
            plan.capacity_given = True

    def _agree_facilitators(self, plan, value, first, errors):
        try:
            ids = self._facilitators(value)
        except ValueError as error:
            errors["facilitators"] = [str(error)]
            return
        if ids and plan.facilitator_ids and set(ids) != set(plan.facilitator_ids):
            errors["facilitators"] = [self._disagree(plan)]
        elif ids:
            plan.facilitator_ids = ids
        elif first:
            plan.facilitator_ids = ()

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
        self._parse_times(parsed, row, errors)
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
        self._check_repeat(parsed, number, errors)
        self.current = parsed

    def _parse_times(self, parsed, row, errors):
        """The start, and the end: a time alone is on the start's day."""
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

    def _check_repeat(self, parsed, number, errors):
        """One row per session: by its uid, else by its event and start."""
        if parsed.plan is None or parsed.start is None:
            return
        key = (id(parsed.plan), parsed.session.pk if parsed.session else parsed.start)
        if key in self._seen_sessions:
            errors.setdefault("start", []).append(
                _("Row %(row)s has the same session.")
                % {"row": self.line_of(self._seen_sessions[key])}
            )
        else:
            self._seen_sessions[key] = number

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
        plan = self.current.plan
        try:
            event = self._apply_event(plan, kwargs.get("row_number"))
            if is_create:
                self._add_session(session, event, plan)
            else:
                self._sync_session(session, plan)
        except EventsError as error:
            column = "start" if error.code == "end_before_start" else NON_FIELD_ERRORS
            raise ValidationError({column: [error.message]}) from error

    def _session_venue(self, plan, venue_id):
        """The venue a session meeting at ``venue_id`` names: none when that
        is the event's, so the session follows the event if it moves."""
        if venue_id == self._event_venue_id(plan):
            return None
        return self.venues_by_id.get(venue_id)

    def _add_session(self, session, event, plan):
        start, end, venue_id, status = session._wanted
        created = session_workflows.add_session(
            event=event, start=start, end=end, venue=self._session_venue(plan, venue_id)
        )
        if status == SessionStatus.CANCELLED:
            session_workflows.cancel_session(session=created)
        session.pk, session.event = created.pk, event

    def _sync_session(self, session, plan):
        start, end, venue_id, status = session._wanted
        # The file is the coordinator's plan: it may reinstate a session, and
        # a cancelled row still sets the times, so importing it again is a
        # no-op (see sync_session).
        session_workflows.sync_session(
            session=session,
            start=start,
            end=end,
            venue=self._session_venue(plan, venue_id),
            cancelled=status == SessionStatus.CANCELLED,
            reinstate=True,
            move_when_cancelling=True,
            event_venue_id=self._event_venue_id(plan),
        )

    def _apply_event(self, plan, number):
        """Create the plan's event, or save its changes as a draft, once."""
        if plan.applied:
            return plan.event
        if plan.is_new:
            plan.event = drafts.create_draft_event(
                index=self.index,
                title=plan.title,
                summary=plan.title,
                user=self.user,
                kind=plan.kind or EventKind.GROUP,
                venue=plan.venue,
                capacity=plan.capacity,
                facilitators=self._users(plan.facilitator_ids or ()),
            )
            plan.applied = True
            self._created_events += 1
            self.row_notes[number] = _("New draft event: %(title)s") % {
                "title": plan.title
            }
            return plan.event
        changes = plan.wanted()
        if changes:
            if "facilitators" in changes:
                changes["facilitators"] = self._users(changes["facilitators"])
            drafts.change_draft_event(event=plan.event, changes=changes, user=self.user)
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

    def _users(self, ids):
        return [self.users_by_id[pk] for pk in ids]

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

    def export_rows(self, queryset, *, chunk_size=EXPORT_CHUNK_ROWS):
        """A background export of the schedule is built as in the request,
        in memory (its rows are sessions, and each event's state is looked
        up first), then written a chunk at a time."""
        dataset = self.export(queryset)
        rows = list(dataset)
        chunks = (
            rows[start : start + chunk_size]
            for start in range(0, len(rows), chunk_size)
        )
        return dataset.headers, chunks

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
        return valid_filterset(filterset), filters_description(filterset, request)

    @classmethod
    def listing_url(cls):
        return listing_url("event_sessions:index")


def _split_people(value):
    return [t.strip() for t in re.split(r"[,;\n]+", as_text(value)) if t.strip()]
