"""Spreadsheet resource for attendance records (django-import-export, on
``website.spreadsheets.GatherResource``).

One row per person per session: a registrant (found by email, else by name)
or a walk-in (by name), and how they attended. Changes go through
``attendance.records``: ``record_attendance`` once per session for every
row of that session, ``add_walk_in`` for new walk-ins. Only sessions the
user may see (``sessions_visible_to``) can be imported or exported.
"""

import dataclasses
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader

from events.filters import SessionFilterSet
from events.models import EventSession, Registration, RegistrationStatus
from events.permissions import (
    is_coordinator,
    registrations_visible_to,
    sessions_visible_to,
)
from spreadsheets.cells import as_text, parse_bool, parse_choice, parse_datetime
from spreadsheets.errors import SpreadsheetError
from spreadsheets.resources import GatherResource, filters_description

from . import records
from .errors import AttendanceError
from .models import AttendanceRecord, AttendanceStatus, RecordedBy


class AttendanceLoader(BaseInstanceLoader):
    """Finds a row's record among those ``before_import`` loaded."""

    def get_instance(self, row):
        parsed = self.resource.current
        if parsed.session is None:
            return None
        if parsed.registration is not None:
            return self.resource.records.get(
                (parsed.session.pk, parsed.registration.pk)
            )
        if parsed.walk_in_name:
            matches = self.resource.walk_ins.get(
                (parsed.session.pk, parsed.walk_in_name.lower()), []
            )
            return matches[0] if matches else None
        return None


@dataclasses.dataclass
class ParsedAttendanceRow:
    errors: dict
    session: EventSession | None = None
    registration: Registration | None = None
    walk_in_name: str = ""
    status: str | None = None


class AttendanceResource(GatherResource):
    """Attendance records: session, person or walk-in, status."""

    key = "attendance"
    label = gettext_lazy("Attendance")
    menu_label = gettext_lazy("Import attendance")
    menu_order = 40
    personal_data = True
    columns = {
        "event": gettext_lazy("event"),
        "session": gettext_lazy("session"),
        "session_uid": gettext_lazy("session uid"),
        "name": gettext_lazy("name"),
        "email": gettext_lazy("email"),
        "walk_in": gettext_lazy("walk-in"),
        "status": gettext_lazy("status"),
    }
    required_columns = ("name", "status")
    column_aliases = {"uid": "session_uid", "start": "session", "walkin": "walk_in"}

    event = Field(column_name="event")
    session = Field(column_name="session")
    session_uid = Field(attribute="session__uid", column_name="session_uid")
    name = Field(column_name="name")
    email = Field(column_name="email")
    walk_in = Field(column_name="walk_in")
    status = Field(attribute="status", column_name="status")

    class Meta(GatherResource.Meta):
        model = AttendanceRecord
        fields = (
            "event",
            "session",
            "session_uid",
            "name",
            "email",
            "walk_in",
            "status",
        )
        export_order = fields
        import_id_fields = ("session_uid",)
        instance_loader_class = AttendanceLoader

    @classmethod
    def check_columns(cls, headers):
        super().check_columns(headers)
        present = set(cls.canonical_headers(headers))
        if "session_uid" not in present and not {"event", "session"} <= present:
            raise SpreadsheetError(
                _(
                    "The file needs a “session_uid” column (as exports have), or "
                    "“event” and “session” columns (the event's title and the "
                    "session's start, like 2026-09-14 18:00)."
                )
            )

    # Loading -----------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        rows = dataset.dict
        visible = sessions_visible_to(self.user).select_related("event")
        uids = {as_text(row.get("session_uid")) for row in rows} - {""}
        titles = {
            as_text(row.get("event")) for row in rows if not row.get("session_uid")
        }
        titles -= {""}
        self.sessions_by_uid = {s.uid: s for s in visible.filter(uid__in=uids)}
        self.sessions_by_start = defaultdict(list)
        if titles:
            same_title = Q()
            for title in titles:
                same_title |= Q(event__title__iexact=title)
            for session in visible.filter(same_title):
                key = (session.event.title.lower(), session.start)
                self.sessions_by_start[key].append(session)
        sessions = {s.pk: s for s in self.sessions_by_uid.values()}
        for found in self.sessions_by_start.values():
            sessions.update((s.pk, s) for s in found)
        self.sessions = sessions
        event_ids = {s.event_id for s in sessions.values()}
        self.by_email = defaultdict(list)
        self.by_name = defaultdict(list)
        for registration in registrations_visible_to(self.user).filter(
            event_id__in=event_ids
        ):
            if registration.email:
                self.by_email[
                    (registration.event_id, registration.email.lower())
                ].append(registration)
            self.by_name[(registration.event_id, registration.name.lower())].append(
                registration
            )
        self.records = {}
        self.walk_ins = defaultdict(list)
        for record in AttendanceRecord.objects.filter(session_id__in=list(sessions)):
            record.session = sessions[record.session_id]
            if record.registration_id:
                self.records[(record.session_id, record.registration_id)] = record
            else:
                self.walk_ins[(record.session_id, record.walk_in_name.lower())].append(
                    record
                )
        self.pending = defaultdict(dict)
        self.imported = defaultdict(set)
        self._seen = {}

    # Parsing -----------------------------------------------------------------

    def before_import_row(self, row, **kwargs):
        number = kwargs.get("row_number")
        errors = {}
        parsed = ParsedAttendanceRow(errors=errors)
        parsed.session = self._session(row, errors)
        try:
            walk_in = parse_bool(row.get("walk_in"), column_label=_("walk-in"))
        except ValueError as error:
            errors["walk_in"] = [str(error)]
            walk_in = False
        name = as_text(row.get("name"))
        email = as_text(row.get("email"))
        session_column = "session_uid" if "session_uid" in row else "session"
        refusal = parsed.session and records.attendance_refusal(parsed.session)
        if refusal:
            errors[session_column] = [refusal.message]
        elif parsed.session is not None and parsed.session.event.headcount_only:
            errors[session_column] = [
                _("This is a headcount-only session: no names are recorded.")
            ]
        elif parsed.session is not None:
            if walk_in:
                if not name:
                    errors["name"] = [_("Give the walk-in's name.")]
                elif len(name) > 120:
                    errors["name"] = [_("Keep the name under 120 characters.")]
                parsed.walk_in_name = name[:120]
            else:
                parsed.registration = self._registrant(
                    parsed.session, name, email, errors
                )
        try:
            parsed.status = parse_choice(
                row.get("status"), AttendanceStatus, column_label=_("status")
            )
            if parsed.status is None:
                errors["status"] = [
                    _("Say how they attended: %(choices)s.")
                    % {"choices": ", ".join(AttendanceStatus.values)}
                ]
        except ValueError as error:
            errors["status"] = [str(error)]
        if parsed.session is not None and not errors:
            who = (
                ("r", parsed.registration.pk)
                if parsed.registration
                else ("w", parsed.walk_in_name.lower())
            )
            key = (parsed.session.pk, who)
            if key in self._seen:
                errors["name"] = [
                    _("The same person and session are also on row %(row)s.")
                    % {"row": self.line_of(self._seen[key])}
                ]
            else:
                self._seen[key] = number
        self.current = parsed

    def _session(self, row, errors):
        uid = as_text(row.get("session_uid"))
        if uid:
            session = self.sessions_by_uid.get(uid)
            if session is None:
                errors["session_uid"] = [_("No session you can see has this uid.")]
            return session
        title = as_text(row.get("event"))
        if not title:
            errors["event"] = [_("Give the event's title, or the session uid.")]
            return None
        try:
            start = parse_datetime(row.get("session"), column_label=_("session"))
        except ValueError as error:
            errors["session"] = [str(error)]
            return None
        matches = self.sessions_by_start.get((title.lower(), start), [])
        if len(matches) != 1:
            errors["session"] = [
                _("No session of “%(title)s” that you can see starts then.")
                % {"title": title}
                if not matches
                else _("More than one session matches; use the session uid.")
            ]
            return None
        return matches[0]

    def _registrant(self, session, name, email, errors):
        if email:
            matches = self.by_email.get((session.event_id, email.lower()), [])
            column = "email"
        elif name:
            matches = self.by_name.get((session.event_id, name.lower()), [])
            column = "name"
        else:
            errors["name"] = [_("Give the person's name or email.")]
            return None
        confirmed = [r for r in matches if r.status == RegistrationStatus.CONFIRMED]
        if len(confirmed) == 1:
            return confirmed[0]
        if len(confirmed) > 1:
            errors[column] = [
                _("More than one person on this event has this name; use the email.")
            ]
        elif matches:
            errors[column] = [
                _(
                    "This person has no confirmed place on this event. Mark them "
                    "as a walk-in instead."
                )
            ]
        else:
            errors[column] = [
                _(
                    "Nobody registered for this event has this %(what)s. For "
                    "people who came without signing up, write yes in walk_in."
                )
                % {"what": _("email") if column == "email" else _("name")}
            ]
        return None

    def init_instance(self, row=None):
        parsed = self.current
        return AttendanceRecord(
            session=parsed.session,
            registration=parsed.registration,
            walk_in_name=parsed.walk_in_name,
        )

    def snapshot(self, record):
        return (record.status,)

    def import_instance(self, record, row, **kwargs):
        parsed = self.current
        if parsed.errors:
            raise ValidationError(parsed.errors)
        record.status = parsed.status

    # Saving ------------------------------------------------------------------

    def save_instance(self, record, is_create, row, **kwargs):
        """Collect the row's status for its session; walk-ins new to the
        session are added now (as present) and corrected with the rest."""
        session = record.session
        if record.registration_id:
            self.pending[session.pk][str(record.registration_id)] = record.status
            self.imported[session.pk].add(record.registration_id)
            return
        if is_create:
            try:
                created, _new = records.add_walk_in(
                    session=session, name=record.walk_in_name, user=self.user
                )
            except AttendanceError as error:
                raise ValidationError({"name": [error.message]}) from error
            record.pk = created.pk
            self.imported[session.pk].add(("w", created.pk))
            if record.status == AttendanceStatus.PRESENT:
                return
        self.pending[session.pk][f"w{record.pk}"] = record.status
        self.imported[session.pk].add(("w", record.pk))

    def after_import(self, dataset, result, **kwargs):
        """Save each session's statuses in one ``record_attendance`` call and
        mark the records as made by an import."""
        for session_id, statuses in self.pending.items():
            if statuses:
                records.record_attendance(
                    session=self.sessions[session_id], statuses=statuses, user=self.user
                )
        for session_id, touched in self.imported.items():
            registration_ids = [t for t in touched if not isinstance(t, tuple)]
            walk_in_ids = [t[1] for t in touched if isinstance(t, tuple)]
            AttendanceRecord.objects.filter(session_id=session_id).filter(
                registration_id__in=registration_ids
            ).exclude(method=RecordedBy.IMPORT).update(method=RecordedBy.IMPORT)
            AttendanceRecord.objects.filter(pk__in=walk_in_ids).exclude(
                method=RecordedBy.IMPORT
            ).update(method=RecordedBy.IMPORT)

    # Export ------------------------------------------------------------------

    def dehydrate_event(self, record):
        return record.session.event.title

    def dehydrate_session(self, record):
        return record.session.start

    def dehydrate_name(self, record):
        return (
            record.registration.name if record.registration_id else record.walk_in_name
        )

    def dehydrate_email(self, record):
        return record.registration.email if record.registration_id else ""

    def dehydrate_walk_in(self, record):
        return record.registration_id is None

    # Permissions -------------------------------------------------------------

    @classmethod
    def can_import(cls, user):
        """Coordinators, and people who may see some sessions' rosters."""
        return is_coordinator(user) or sessions_visible_to(user).exists()

    can_export = can_import

    @classmethod
    def export_queryset(cls, request):
        filterset = SessionFilterSet(
            request.GET, queryset=sessions_visible_to(request.user), request=request
        )
        if not filterset.is_valid():
            raise ValidationError(_("The listing's filters are not valid."))
        queryset = (
            AttendanceRecord.objects.filter(session__in=filterset.qs.values("pk"))
            .select_related("session__event", "registration")
            .order_by("session__start", "session_id", "pk")
        )
        return queryset, filters_description(filterset, request)

    @classmethod
    def listing_url(cls):
        return reverse("event_sessions:index")
