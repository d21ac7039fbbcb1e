"""The registrations spreadsheet: one row per person signed up for an
event (per person and date, for a drop-in event: ``session_id``)."""

import contextlib
import dataclasses
from collections import defaultdict

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader

from core.phones import (
    INVALID_PHONE_MESSAGE,
    InvalidPhoneNumber,
    phone_display,
    to_e164,
)
from spreadsheets.cells import (
    as_text,
    parse_choice,
    parse_int,
)
from spreadsheets.errors import SpreadsheetError
from spreadsheets.resources import (
    GatherResource,
    filters_description,
    search_text,
)

from .. import drop_in
from .. import registration as registration_workflows
from ..choosers import EventChoiceField
from ..errors import EventsError
from ..filters import RegistrationFilterSet
from ..models import (
    EventPage,
    Registration,
    RegistrationAnswer,
    RegistrationQuestion,
    RegistrationStatus,
)
from ..permissions import events_visible_to, is_coordinator, registrations_visible_to
from ..questions import display_value
from ..registration import person_key
from .shared import listing_url, valid_filterset

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

    def matches(self, event_id, key, session_id=None):
        found = Matches()
        queryset = Registration.objects.filter(
            event_id=event_id, session_id=session_id
        ).order_by("-created_at")
        if key[0] == "email":
            queryset = queryset.filter(email__iexact=key[1])
            for registration in queryset:
                found.add(registration)
        else:
            for registration in queryset.filter(email="", phone=key[1]):
                found.add(registration)
        return found

    def get_instance(self, row):
        parsed = self.resource.current
        if parsed.event is None or parsed.key is None:
            return None
        found = self.matches(parsed.event.pk, parsed.key, parsed.session_id)
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
                self.by_key[(registration.event_id, registration.session_id, key)].add(
                    registration
                )

    def matches(self, event_id, key, session_id=None):
        return self.by_key.get((event_id, session_id, key), Matches())


#: The column a workflow's refusal is shown in, by its code (else the event's).
ERROR_COLUMNS = {
    "name_missing": "name",
    "no_contact": "email",
    "phone_invalid": "phone",
    "full": "status",
    "cannot_waitlist": "status",
    "cannot_change_status": "status",
    "session_missing": "session_id",
    "bad_session": "session_id",
    "session_cancelled": "session_id",
    "session_past": "session_id",
    "session_full": "status",
}


@dataclasses.dataclass
class ParsedRegistrationRow:
    """One row as read: its errors by column, its event, who the person is
    (``person_key``) and the status it asks for."""

    errors: dict
    event: EventPage | None = None
    key: tuple | None = None
    status: str | None = None
    #: The date of a drop-in place (None: the whole series).
    session_id: int | None = None


def question_columns(registrations, *, taken=()):
    """([(header, {event id: question id})], {question id: question}) for
    the export of ``registrations``; ``question_answers`` gives the answers.

    A header is the question's label; one that a standard column (in
    ``taken``) already has gets " (question)" after it, so every header is
    unique (the JSON export is keyed by header).
    """
    event_ids = registrations.order_by().values("event_id")
    questions = (
        RegistrationQuestion.objects.filter(event_id__in=event_ids, demographic=False)
        .order_by("event__title", "event_id", "sort_order", "pk")
        .only("pk", "event_id", "label", "kind")
    )
    taken = {name.lower() for name in taken}
    columns: dict[str, dict] = {}
    by_id = {}
    for question in questions:
        header = question.label.strip()
        if header.lower() in taken:
            header = _("%(label)s (question)") % {"label": header}
        columns.setdefault(header, {}).setdefault(question.event_id, question.pk)
        by_id[question.pk] = question
    return list(columns.items()), by_id


def question_answers(registration_ids, questions) -> dict:
    """{(registration id, question id): answer as shown} for the
    registrations ``registration_ids`` (ids or a ``values("pk")`` query) and
    ``questions`` ({id: question}, from ``question_columns``)."""
    answers = {}
    if questions:
        rows = RegistrationAnswer.objects.filter(
            question_id__in=list(questions), registration_id__in=registration_ids
        ).values_list("registration_id", "question_id", "value")
        for registration_id, question_id, value in rows.iterator():
            answers[(registration_id, question_id)] = display_value(
                questions[question_id], value
            )
    return answers


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
        # Exported for the call list; an import leaves them as they are.
        "call_times": gettext_lazy("best times to call"),
        "voicemail_ok": gettext_lazy("voicemail ok"),
        "phone_as_typed": gettext_lazy("phone to check"),
        # The date of a drop-in place; empty for the whole series. Last, so
        # files made before it keep their columns.
        "session_id": gettext_lazy("session id"),
    }
    required_columns = ("name",)
    column_aliases = {"event_title": "event", "e_mail": "email", "telephone": "phone"}
    #: Look events up from one query per import (the peer does one per row).
    cached_lookups = True
    #: The export's answer columns (``question_columns``), set per export;
    #: an import leaves answers as they are.
    question_columns: list = []
    questions: dict = {}
    answers: dict = {}

    event_id = Field(attribute="event_id", column_name="event_id")
    event = Field(attribute="event__title", column_name="event", readonly=True)
    session_id = Field(attribute="session_id", column_name="session_id")
    name = Field(attribute="name", column_name="name")
    email = Field(attribute="email", column_name="email")
    phone = Field(attribute="phone", column_name="phone")
    status = Field(attribute="status", column_name="status")
    call_times = Field(attribute="call_times", column_name="call_times", readonly=True)
    voicemail_ok = Field(
        attribute="voicemail_ok", column_name="voicemail_ok", readonly=True
    )
    phone_as_typed = Field(
        attribute="phone_as_typed", column_name="phone_as_typed", readonly=True
    )

    class Meta(GatherResource.Meta):
        model = Registration
        fields = (
            "event_id",
            "event",
            "name",
            "email",
            "phone",
            "status",
            "call_times",
            "voicemail_ok",
            "phone_as_typed",
            "session_id",
        )
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
        return set(events_visible_to(self.user).values_list("pk", flat=True))

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
                self.active_in_file.add(
                    (as_text(row.get("event_id")), as_text(row.get("session_id")), key)
                )
        self._seen = {}

    def _event(self, event_id):
        if self.cached_lookups:
            return self.events.get(event_id)
        if event_id not in self.events:
            return None
        return EventPage.objects.filter(pk=event_id).first()

    # Parsing -----------------------------------------------------------------

    def before_import_row(self, row, **kwargs):
        parsed = ParsedRegistrationRow(errors={})
        self._parse_event(parsed, row)
        self._parse_session(parsed, row)
        self._parse_person(parsed, row)
        try:
            parsed.status = parse_choice(
                row.get("status"), RegistrationStatus, column_label=_("status")
            )
        except ValueError as error:
            parsed.errors["status"] = [str(error)]
        if "email" not in parsed.errors:
            parsed.key = person_key(parsed.email, parsed.phone)
        self._check_repeat(parsed, kwargs.get("row_number"))
        parsed.row_event_id = as_text(row.get("event_id"))
        parsed.row_session_id = as_text(row.get("session_id"))
        self.current = parsed

    def _parse_event(self, parsed, row):
        """The row's event: by its event_id, else the one chosen in the form."""
        errors = parsed.errors
        column = "event_id" if "event_id" in row else NON_FIELD_ERRORS
        try:
            event_id = parse_int(row.get("event_id"), column_label="event_id")
        except ValueError as error:
            errors["event_id"] = [str(error)]
            return
        if event_id and self.default_event_id and event_id != self.default_event_id:
            errors[column] = [
                _("This row is for another event (id %(id)s) than the one chosen.")
                % {"id": event_id}
            ]
            return
        event_id = event_id or self.default_event_id
        if not event_id:
            errors[column] = [
                _(
                    "Choose the event in the form, or give an event_id on each "
                    "row (as exports do): event titles can repeat, so a title "
                    "alone is not enough."
                )
            ]
            return
        parsed.event = self._event(event_id)
        if parsed.event is None:
            errors[column] = [
                _("There is no event with id %(id)s that you can manage.")
                % {"id": event_id}
            ]

    def _parse_session(self, parsed, row):
        """The row's date (``session_id``), for a drop-in event: a date of
        the row's event; ``register_sessions`` checks it again."""
        try:
            session_id = parse_int(row.get("session_id"), column_label="session_id")
        except ValueError as error:
            parsed.errors["session_id"] = [str(error)]
            return
        event = parsed.event
        if event is None:
            return
        if session_id and not drop_in.is_per_session(event):
            parsed.errors["session_id"] = [
                _(
                    "People sign up for the whole series of this event: leave "
                    "the session id empty."
                )
            ]
        elif drop_in.is_per_session(event) and not session_id:
            parsed.errors["session_id"] = [
                _("Give the session id of the date this person signed up for.")
            ]
        parsed.session_id = session_id or None

    def _parse_person(self, parsed, row):
        errors = parsed.errors
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
        elif phone:
            # Stored, and compared with the people held, in E.164.
            try:
                phone = to_e164(phone)
            except InvalidPhoneNumber:
                errors["phone"] = [str(INVALID_PHONE_MESSAGE)]
        if not email and not phone:
            errors["email" if "email" in row else "phone"] = [
                _("Give an email address or a phone number.")
            ]
        parsed.name, parsed.email, parsed.phone = name, email, phone

    def _check_repeat(self, parsed, number):
        """One row per person and event. Rows that cancel are not counted:
        they may be about an older registration (see ``choose``)."""
        if not (parsed.event and parsed.key):
            return
        if parsed.status == RegistrationStatus.CANCELLED:
            return
        seen_key = (parsed.event.pk, parsed.session_id, parsed.key)
        if seen_key in self._seen:
            column = "email" if parsed.key[0] == "email" else "phone"
            parsed.errors[column] = [
                _("The same person is also on row %(row)s.")
                % {"row": self.line_of(self._seen[seen_key])}
            ]
        else:
            self._seen[seen_key] = number

    def choose(self, found, parsed):
        """Which existing registration a row is about, or None for a new one."""
        if parsed.status == RegistrationStatus.CANCELLED:
            if (
                parsed.row_event_id,
                parsed.row_session_id,
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
            refusal = registration_workflows.status_change_refusal(
                registration=registration, status=parsed.status
            )
            if refusal:
                errors["status"] = [refusal.message]
        if errors:
            raise ValidationError(errors)
        registration.name = parsed.name
        if "phone" in row:
            registration.phone = parsed.phone
            if parsed.phone:
                # A checked number replaces one kept as typed (migration 0010).
                registration.phone_as_typed = ""
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
        try:
            if is_create:
                self._save_new(registration, number)
                return
            # The status first: a refused change leaves the whole row out.
            self._save_status(registration, number)
            self._save_details(registration)
        except EventsError as error:
            column = ERROR_COLUMNS.get(
                error.code, "event_id" if "event_id" in row else NON_FIELD_ERRORS
            )
            raise ValidationError({column: [error.message]}) from error

    def _save_new(self, registration, number):
        parsed = self.current
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

    def _save_status(self, registration, number):
        wanted = registration._wanted_status
        if wanted == registration.status:
            return
        with self._changing(self.current.event):
            registration_workflows.change_status(
                registration=registration, status=wanted
            )
        self.row_notes[number] = (
            _("Cancelled.")
            if wanted == RegistrationStatus.CANCELLED
            else _("Given a place from the waitlist.")
        )

    def _save_details(self, registration):
        """A changed name or phone: saved now, or with the batch's others."""
        before = registration._gather_snapshot
        if (registration.name, registration.phone) == before[:2]:
            return
        registration.updated_at = timezone.now()
        if self.batch is None:
            registration.save(
                update_fields=["name", "phone", "phone_as_typed", "updated_at"]
            )
        else:
            self.renamed.append(registration)

    def _add(self, parsed):
        """A new person: added to the batch in bulk mode, else registered now
        (the library's default, one row at a time)."""
        person = {"event": parsed.event, "name": parsed.name}
        person.update(email=parsed.email, phone=parsed.phone)
        if parsed.session_id is not None:
            # A drop-in date: its own workflow, which locks the event itself.
            with self._changing(parsed.event):
                [result] = drop_in.register_sessions(
                    **person,
                    session_ids=[parsed.session_id],
                    by_coordinator=True,
                    notify=self.notify,
                )
            return result
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
                renamed,
                ["name", "phone", "phone_as_typed", "updated_at"],
                batch_size=500,
            )
        except DatabaseError as error:
            self.handle_import_error(kwargs.get("result"), error, raise_errors)

    # Export ------------------------------------------------------------------

    def before_export(self, queryset, **kwargs):
        """Load the answers the export shows, in two queries (or one more per
        chunk, ``chunked``): one column per question label after the
        standard columns (events sharing a label share its column).
        Demographic questions have no column: their answers are shown only
        as totals, in the reports."""
        super().before_export(queryset, **kwargs)
        self.question_columns, self.questions = question_columns(
            queryset, taken=set(self._meta.export_order)
        )
        self.answers = {}
        if not kwargs.get("chunked"):
            self.answers = question_answers(
                queryset.order_by().values("pk"), self.questions
            )

    def before_export_chunk(self, instances):
        """A background export's answers, one chunk of rows at a time."""
        self.answers = question_answers(
            [instance.pk for instance in instances], self.questions
        )

    def get_export_headers(self, selected_fields=None):
        headers = super().get_export_headers(selected_fields)
        return headers + [header for header, _ids in self.question_columns]

    def export_resource(self, instance, selected_fields=None, **kwargs):
        row = super().export_resource(instance, selected_fields, **kwargs)
        for _header, by_event in self.question_columns:
            question_id = by_event.get(instance.event_id)
            row.append(self.answers.get((instance.pk, question_id), ""))
        return row

    def dehydrate_event_id(self, registration):
        return registration.event_id

    def dehydrate_session_id(self, registration):
        return registration.session_id or ""

    def dehydrate_event(self, registration):
        return registration.event.title

    def dehydrate_phone(self, registration):
        """The number as staff dial it (``phone_display``): "(416) 555-0100"
        in the site's region, "+44 20 7946 0958" abroad; an import reads
        either back."""
        return phone_display(registration.phone)

    def dehydrate_voicemail_ok(self, registration):
        return _("yes") if registration.voicemail_ok else _("no")

    # Permissions -------------------------------------------------------------

    @classmethod
    def can_import(cls, user):
        return user.has_perms(
            ["events.add_registration", "events.change_registration"]
        ) and (is_coordinator(user) or events_visible_to(user).exists())

    @classmethod
    def can_export(cls, user):
        """Personal data: coordinators, or people allowed to see some
        sessions' rosters (they get those events' registrations only)."""
        if is_coordinator(user):
            return True
        return (
            user.has_perm("events.view_registration")
            and events_visible_to(user).exists()
        )

    @classmethod
    def upload_fields(cls, user):
        from django import forms

        return {
            "event": EventChoiceField(
                queryset=events_visible_to(user),
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
        queryset = valid_filterset(filterset)
        query = search_text(request)
        if query:
            queryset = queryset.filter(
                Q(name__icontains=query) | Q(email__icontains=query)
            )
        # The spreadsheet has no support needs column: leaving them encrypted
        # in the database keeps an export from decrypting thousands of them.
        queryset = queryset.defer("support_needs").order_by(
            "event__title", "status", "waitlist_position", "created_at", "pk"
        )
        return queryset, filters_description(filterset, request)

    @classmethod
    def listing_url(cls):
        return listing_url("event_registrations:index")
