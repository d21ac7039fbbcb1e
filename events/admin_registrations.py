"""Wagtail admin screens for registrations: the confirmed list and waitlist
of each event, adding someone by hand, cancelling, promoting, moving, and
changing capacity. Every change goes through ``events.registration``.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy

from core import audit
from core.dates import site_zone
from core.forms import TypedPhoneNumberWidget
from core.phones import INVALID_PHONE_MESSAGE, PHONE_HELP_TEXT, phone_display
from spreadsheets.views import SpreadsheetButtonsMixin

from . import drop_in, privacy
from . import registration as workflows
from .admin_links import registration_admin_links, registrations_list_url
from .choosers import SCOPE_ARGUMENT, EventChoiceField
from .consent import CONSENT_WORDING
from .errors import EventsError
from .filters import RegistrationFilterSet
from .messaging import route
from .models import (
    Channel,
    EventPage,
    EventSession,
    MessageKind,
    PlaceOffer,
    Registration,
    RegistrationStatus,
    SignUpPer,
)
from .permissions import events_visible_to, registrations_visible_to
from .questions import answers_text, shown_answers_prefetch


class AddRegistrationForm(WagtailAdminModelForm):
    """A coordinator adds someone by hand; capacity and the waitlist still hold.

    The event is picked in the event chooser (``events.choosers``), so the
    form lists no events; the view narrows the field, there and in the
    chooser, to ``events_to_add_people_to``. Consent is asked per channel,
    in the words of ``events.consent``, which the coordinator reads to the
    person."""

    event = EventChoiceField(label=gettext_lazy("Event"))

    consent = forms.MultipleChoiceField(
        label=gettext_lazy("They agreed to"),
        choices=[(channel, wording) for channel, wording in CONSENT_WORDING.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Registration
        fields = [
            "event",
            "session",
            "name",
            "email",
            "phone",
            "call_times",
            "voicemail_ok",
            "support_needs",
        ]
        error_messages = {"phone": {"invalid": INVALID_PHONE_MESSAGE}}
        help_texts = {"phone": PHONE_HELP_TEXT}
        widgets = {"phone": TypedPhoneNumberWidget}

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("email")
            and not cleaned.get("phone")
            and "phone" not in self.errors
            and not self.instance.phone_as_typed
        ):
            self.add_error("email", _("Give an email address or a phone number."))
        if cleaned.get("phone"):
            # A checked number replaces the one kept as typed.
            self.instance.phone_as_typed = ""
        else:
            cleaned["call_times"], cleaned["voicemail_ok"] = "", False
        return cleaned


class EditRegistrationForm(AddRegistrationForm):
    """Contact details only; status changes through the actions, and consent
    only through the person's own manage page."""

    event = None
    consent = None

    class Meta(AddRegistrationForm.Meta):
        fields = [
            "name",
            "email",
            "phone",
            "call_times",
            "voicemail_ok",
            "support_needs",
        ]


class DomainErrorFormMixin:
    """Turns a workflow's EventsError into a form error instead of a crash.

    Used by every admin create and edit view that saves through a workflow.
    """

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except EventsError as error:
            form.add_error(None, error.message)
            self.produced_error_code = error.code
            self.produced_error_message = error.message
            return self.form_invalid(form)


class RegistrationCreateView(DomainErrorFormMixin, generic.CreateView):
    """Adds someone to an event with sign-up whose people the user may see;
    any other event is not a valid choice, so the form cannot tell whether
    someone is registered there."""

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["event"].choose_from("add", self.request.user)
        if "session" in form.fields:
            form.fields["session"].label = _("Date (drop-in events only)")
            form.fields["session"].queryset = (
                EventSession.objects.filter(
                    event__in=events_visible_to(self.request.user),
                    event__sign_up_per=SignUpPer.SESSION,
                )
                .not_cancelled()
                .select_related("event")
                .order_by("-start")
            )
        return form

    def save_instance(self):
        data = self.form.cleaned_data
        if data.get("session") is not None:
            return self._add_to_date(data)
        result = workflows.register(
            event=data["event"],
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            support_needs=data["support_needs"],
            call_times=data["call_times"],
            voicemail_ok=data["voicemail_ok"],
            consent=data["consent"],
            by_coordinator=True,
            refuse_repeat=True,
            user=self.request.user,
        )
        return result.registration

    def _add_to_date(self, data):
        """A place on one date of a drop-in event (``drop_in``), refused
        when the person already holds that date."""
        result = drop_in.register_sessions(
            event=data["event"],
            session_ids=[data["session"].pk],
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            support_needs=data["support_needs"],
            call_times=data["call_times"],
            voicemail_ok=data["voicemail_ok"],
            consent=data["consent"],
            by_coordinator=True,
            user=self.request.user,
        )[0]
        if not result.created:
            existing = result.registration
            raise EventsError(
                _("%(name)s is already registered for this date (%(status)s).")
                % {"name": existing.name, "status": existing.get_status_display()},
                code="already_registered",
            )
        return result.registration


def visible_registrations(request):
    """The registrations every screen here starts from: those the user may
    see (``registrations_visible_to``), with their events and, for drop-in
    places, their dates."""
    return registrations_visible_to(request.user).select_related("event", "session")


class RegistrationIndexView(SpreadsheetButtonsMixin, generic.IndexView):
    """The listing and its search show only the registrations the user may
    see; its export (``RegistrationResource.export_queryset``) asks the same
    rule, so it holds the same rows."""

    spreadsheet_resources = ("registrations",)

    def get_base_queryset(self):
        # The listing shows no support needs: they stay encrypted.
        records = _attendance_model().objects.filter(registration=OuterRef("pk"))
        offer = PlaceOffer.objects.open().filter(registration=OuterRef("pk"))
        return (
            visible_registrations(self.request)
            .defer("support_needs")
            .annotate(
                has_attendance=Exists(records),
                offer_until=Subquery(offer.values("expires_at")[:1]),
            )
        )

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        log_listing_viewed(self.request, count=len(context["object_list"]))
        return context

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.has_attendance:
            # Deleting would delete the attendance too: erasure replaces it.
            delete_url = reverse(self.delete_url_name, args=[quote(instance.pk)])
            buttons = [b for b in buttons if getattr(b, "url", None) != delete_url]
        actions = []
        if instance.status != RegistrationStatus.CANCELLED:
            actions += [
                ("cancel", _("Cancel"), "cross"),
                ("move", _("Move"), "resubmit"),
            ]
        if instance.status == RegistrationStatus.WAITLISTED:
            actions.append(("promote", _("Give a place"), "arrow-up"))
        for name, label, icon in actions:
            buttons.append(
                MenuItem(
                    label,
                    url=reverse(f"event_registrations:{name}", args=[instance.pk]),
                    icon_name=icon,
                    priority=25,
                )
            )
        return buttons


def offer_text(registration) -> str:
    """The listing's note of an open waitlist offer (``events.offers``):
    until when the place is held for this person."""
    until = getattr(registration, "offer_until", None)
    if until is None:
        return ""
    return _("Offered a place until %(when)s") % {"when": site_time_text(until)}


def site_time_text(value) -> str:
    """A stored (UTC) moment as the site's wall-clock time, naming the zone:
    "14 January 2027, 5:30 p.m. (Toronto time)".

    The zone is the site's ``TIME_ZONE``, not the admin user's own choice,
    so every coordinator reads the same time as the public pages show.
    """
    place = settings.TIME_ZONE.rsplit("/", 1)[-1].replace("_", " ")
    return _("%(when)s (%(place)s time)") % {
        "when": date_format(timezone.localtime(value, site_zone()), "DATETIME_FORMAT"),
        "place": place,
    }


LISTING_VIEWED = "events.registrations.viewed"
INSPECTED = "events.registration.viewed"


def log_listing_viewed(request, *, count: int) -> None:
    """Write that the user saw ``count`` people in the registrations
    listing, with its event filter: on the Registration type, as exports
    are, since one listing may span events. Nothing for an empty page."""
    if not count:
        return
    # Only what could be an id or a page number: the query string is
    # anyone's to write, and the entry is stored as JSON (PostgreSQL
    # refuses a NUL character in it).
    events = [value for value in request.GET.getlist("event") if value.isdigit()]
    page = request.GET.get("p", "1")[:10]
    audit.log_access(
        ContentType.objects.get_for_model(Registration),
        LISTING_VIEWED,
        user=request.user,
        title=_("Registrations listing: %(count)s rows") % {"count": count},
        count=count,
        events=events[:20],
        page=page if page.isdigit() else "1",
    )


class RegistrationInspectView(generic.InspectView):
    """One registration in words: times in the site's zone, yes or no for
    consent, and a phrase where a field is empty (never "None" or "True").
    Only one the user may see: any other id is a 404. Each look is written
    to the audit log."""

    def get_object(self, queryset=None):
        registration = get_object_or_404(
            visible_registrations(self.request), pk=unquote(str(self.pk))
        )
        audit.log_access(
            registration,
            INSPECTED,
            user=self.request.user,
            title=str(registration),
            count=1,
            event=registration.event_id,
        )
        return registration

    def get_consents_display_value(self):
        """Each channel's consent in words: given (when, which wording),
        withdrawn (when), or not given."""
        held = {consent.channel: consent for consent in self.object.consents.all()}
        parts = []
        for channel, label in Channel.choices:
            consent = held.get(channel)
            if consent is None:
                state = _("not given")
            elif consent.withdrawn_at is not None:
                state = _("withdrawn %(when)s") % {
                    "when": site_time_text(consent.withdrawn_at)
                }
            else:
                state = _("given %(when)s (wording %(version)s)") % {
                    "when": site_time_text(consent.given_at),
                    "version": consent.wording_version,
                }
            parts.append(f"{label}: {state}")
        return "; ".join(parts)

    def get_answers_display_value(self):
        """The answers to the event's own questions, demographic ones left
        out: those are shown only as totals in the reports."""
        registration = (
            Registration.objects.filter(pk=self.object.pk)
            .prefetch_related(shown_answers_prefetch())
            .get()
        )
        pairs = answers_text(registration)
        if not pairs:
            return _("None given")
        return "; ".join(f"{label}: {value}" for label, value in pairs)

    def get_created_at_display_value(self):
        return site_time_text(self.object.created_at)

    def get_cancelled_at_display_value(self):
        if self.object.cancelled_at is None:
            return _("Not cancelled")
        return site_time_text(self.object.cancelled_at)

    def get_waitlist_position_display_value(self):
        if self.object.waitlist_position is None:
            return _("Not on the waitlist")
        return str(self.object.waitlist_position)

    def get_email_display_value(self):
        return self.object.email or _("Not given")

    def get_phone_display_value(self):
        if self.object.phone:
            return phone_display(self.object.phone)
        if self.object.phone_as_typed:
            return _("Not a number we could read: check it with the person")
        return _("Not given")

    def get_phone_as_typed_display_value(self):
        return self.object.phone_as_typed or _("Nothing to check")

    def get_call_times_display_value(self):
        return self.object.call_times or _("Not given")

    def get_voicemail_ok_display_value(self):
        return _("Yes") if self.object.voicemail_ok else _("No")

    def get_support_needs_display_value(self):
        return self.object.support_needs or _("Not given")

    def get_anonymised_at_display_value(self):
        if self.object.anonymised_at is None:
            return _("Not anonymised")
        return _("Anonymised on %(when)s") % {
            "when": site_time_text(self.object.anonymised_at)
        }


# Every screen of one registration looks it up among those the user may
# see, so another group's id is a 404: edit and delete through
# ``get_queryset``, history and usage (listings of their own) through
# ``get_base_object_queryset``.


class RegistrationEditView(generic.EditView):
    """Contact details of one registration; an anonymised one has none to
    edit, and typing them back in would undo the erasure."""

    def get_queryset(self):
        return visible_registrations(self.request)

    def _refusal(self):
        registration = self.get_object()
        if registration.anonymised_at is None:
            return None
        messages.error(
            self.request,
            _("This registration is anonymised: it has no details to edit."),
        )
        return _back(registration)

    def get(self, request, *args, **kwargs):
        return self._refusal() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self._refusal() or super().post(request, *args, **kwargs)


class RegistrationDeleteView(generic.DeleteView):
    """Deletes a registration added by mistake (``privacy.delete_registration``,
    whose audit entry holds no name). One with attendance records cannot be
    deleted: the screen says so and points to erasure."""

    success_message = gettext_lazy("Registration deleted.")

    def get_queryset(self):
        return visible_registrations(self.request)

    def _refusal(self):
        if not self.object.attendance.exists():
            return None
        messages.error(
            self.request,
            _(
                "This registration has attendance records, so it cannot be "
                "deleted: the reports count them. To remove the person's "
                "details, a coordinator can erase them (Settings, Erase a "
                "person's details)."
            ),
        )
        return _back(self.object)

    def get(self, request, *args, **kwargs):
        return self._refusal() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self._refusal() or super().post(request, *args, **kwargs)

    def delete_action(self):
        privacy.delete_registration(registration=self.object, user=self.request.user)

    def get_success_message(self):
        return str(self.success_message)


class RegistrationHistoryView(generic.HistoryView):
    def get_base_object_queryset(self):
        return visible_registrations(self.request)


class RegistrationUsageView(generic.UsageView):
    def get_base_object_queryset(self):
        return visible_registrations(self.request)


class RegistrationViewSet(ModelViewSet):
    """Registrations: confirmed people first, then the waitlist in order."""

    model = Registration
    icon = "group"
    menu_label = gettext_lazy("Registrations")
    url_prefix = "registrations"
    url_namespace = "event_registrations"
    index_view_class = RegistrationIndexView
    add_view_class = RegistrationCreateView
    edit_view_class = RegistrationEditView
    delete_view_class = RegistrationDeleteView
    history_view_class = RegistrationHistoryView
    usage_view_class = RegistrationUsageView
    inspect_view_class = RegistrationInspectView
    filterset_class = RegistrationFilterSet
    list_display = [
        "name",
        "event",
        Column("session_label", label=gettext_lazy("Date")),
        Column("status", accessor="get_status_display", label=gettext_lazy("Status")),
        Column("waitlist_position", label=gettext_lazy("Waitlist")),
        Column("offer", accessor=offer_text, label=gettext_lazy("Offer")),
        Column("created_at", label=gettext_lazy("Signed up")),
        Column("phone_check_label", label=gettext_lazy("Phone")),
    ]
    # Grouped by event (its id, not its title: a sort on the joined title
    # sorted every registration before the first page, 72 ms of SQL at 10x
    # on SQLite), then confirmed before waitlisted, in waitlist order. The
    # index ``registration_listing_order`` holds this order, so the page is
    # read from it and stops after one page.
    ordering = ["event_id", "status", "waitlist_position", "created_at"]
    search_fields = ["name", "email"]
    search_backend_name = None
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "event",
        "session",
        "name",
        "email",
        "phone",
        "phone_as_typed",
        "call_times",
        "voicemail_ok",
        "support_needs",
        "consents",
        "answers",
        "status",
        "waitlist_position",
        "created_at",
        "cancelled_at",
        "anonymised_at",
    ]

    def get_form_class(self, for_update=False):
        return EditRegistrationForm if for_update else AddRegistrationForm

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/cancel/", cancel_view, name="cancel"),
            path("<int:pk>/promote/", promote_view, name="promote"),
            path("<int:pk>/move/", move_view, name="move"),
            path("capacity/<id:event_id>/", capacity_view, name="capacity"),
        ]


#: Who may open the registrations listing, as its index view decides it.
registration_permission_policy = ModelPermissionPolicy(Registration)


def can_see_registrations(user) -> bool:
    """Whether ``user`` may open the registrations listing, where names and
    contact details already show: other screens show them only to such
    a user, and numbers to everyone else."""
    return registration_permission_policy.user_has_any_permission(
        user, ["add", "change", "delete", "view"]
    )


def names(registrations) -> str:
    """'Ana, Ben and Chris': who a message is about."""
    people = [registration.name for registration in registrations]
    if len(people) < 2:
        return "".join(people)
    return _("%(first)s and %(last)s") % {
        "first": ", ".join(people[:-1]),
        "last": people[-1],
    }


def promoted_sentence(promoted) -> str:
    """Who got a place from the waitlist, and whom staff must phone because
    no email or text can tell them ('' for nobody)."""
    if not promoted:
        return ""
    sentences = [
        ngettext(
            "%(names)s got a place from the waitlist.",
            "%(names)s got places from the waitlist.",
            len(promoted),
        )
        % {"names": names(promoted)}
    ]
    to_call = [
        person for person in promoted if route(person, MessageKind.PROMOTED).call
    ]
    if to_call:
        sentences.append(
            ngettext(
                "%(names)s can only be reached by phone: they are on the call list.",
                "%(names)s can only be reached by phone: they are on the call list.",
                len(to_call),
            )
            % {"names": names(to_call)}
        )
    return " ".join(sentences)


def offered_sentence(event_id, *, since) -> str:
    """Who was offered a freed place (``events.offers``) since ``since``,
    and until when ('' for nobody)."""
    offered = list(
        PlaceOffer.objects.open()
        .filter(registration__event_id=event_id, created_at__gte=since)
        .select_related("registration")
        .order_by("created_at", "pk")
    )
    if not offered:
        return ""
    return ngettext(
        "%(names)s was offered the place until %(when)s.",
        "%(names)s were offered places until %(when)s.",
        len(offered),
    ) % {
        "names": names([offer.registration for offer in offered]),
        "when": site_time_text(offered[0].expires_at),
    }


def _registration_for_change(request, pk):
    """The registration an action works on: a 404 unless the user may see
    it, then a 403 unless they may change registrations."""
    registration = get_object_or_404(visible_registrations(request), pk=pk)
    if not request.user.has_perm("events.change_registration"):
        raise PermissionDenied
    return registration


def _attendance_model():
    """The attendance app's record model, through Registration's reverse
    relation: the layer above owns it, and events may not import it."""
    return Registration._meta.get_field("attendance").related_model


def _back(registration):
    return redirect(registrations_list_url(registration.event_id))


def _told_how(registration) -> str:
    """How the person hears about a change to their place."""
    if registration.can_be_emailed:
        return _("They are told by email.")
    return _("They gave no email, so nobody is told: call them.")


def _confirm(request, registration, *, title, explanation, confirm_label, form=None):
    return TemplateResponse(
        request,
        "events/admin/confirm_registration_action.html",
        {
            "registration": registration,
            "title": title,
            "explanation": explanation,
            "confirm_label": confirm_label,
            "form": form,
        },
    )


@require_http_methods(["GET", "POST"])
def cancel_view(request, pk):
    registration = _registration_for_change(request, pk)
    if request.method == "POST":
        started = timezone.now()
        try:
            cancelled = workflows.cancel(registration=registration, user=request.user)
        except EventsError as error:
            messages.error(request, error.message)
        else:
            text = _("Registration of %s cancelled.") % registration.name
            if cancelled.promoted:
                text += " " + promoted_sentence(cancelled.promoted)
            if offered := offered_sentence(registration.event_id, since=started):
                text += " " + offered
            messages.success(request, text)
        return _back(registration)
    return _confirm(
        request,
        registration,
        title=_("Cancel registration"),
        explanation=" ".join(
            [
                _(
                    "If they had a place, it goes to (or is offered to) the "
                    "first person waiting."
                ),
                _told_how(registration),
            ]
        ),
        confirm_label=_("Yes, cancel"),
    )


@require_http_methods(["GET", "POST"])
def promote_view(request, pk):
    registration = _registration_for_change(request, pk)
    if request.method == "POST":
        try:
            promoted = workflows.promote(registration=registration, user=request.user)
        except EventsError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, promoted_sentence([promoted]))
        return _back(registration)
    return _confirm(
        request,
        registration,
        title=_("Give a place"),
        explanation=" ".join(
            [
                _(
                    "This gives the person a free place now, ahead of others "
                    "waiting. It is refused when the event is full."
                ),
                _told_how(registration),
            ]
        ),
        confirm_label=_("Yes, give a place"),
    )


class MoveForm(forms.Form):
    """The event to move to, picked in the event chooser; the view narrows
    it, there and in the chooser, to ``events_to_move_people_to``."""

    to_event = EventChoiceField(
        queryset=EventPage.objects.none(),
        label=gettext_lazy("Move to"),
        help_text=gettext_lazy("A published event."),
    )


@require_http_methods(["GET", "POST"])
def move_view(request, pk):
    registration = _registration_for_change(request, pk)
    form = MoveForm(request.POST if request.method == "POST" else None)
    form.fields["to_event"].choose_from(
        "move", request.user, **{SCOPE_ARGUMENT: registration.event_id}
    )
    if request.method == "POST" and form.is_valid():
        try:
            moved = workflows.move(
                registration=registration,
                to_event=form.cleaned_data["to_event"],
                user=request.user,
            )
        except EventsError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Moved to %(event)s (%(status)s).")
                % {"event": moved.event.title, "status": moved.get_status_display()},
            )
            return _back(registration)
    return _confirm(
        request,
        registration,
        title=_("Move to another event"),
        explanation=_(
            "The person gets a place on the other event (or its waitlist if it "
            "is full); their place here goes to the next person waiting."
        ),
        confirm_label=_("Move"),
        form=form,
    )


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(
        label=gettext_lazy("Capacity"),
        min_value=0,
        required=False,
        help_text=gettext_lazy(
            "Leave empty for no limit. If places open, the waitlist is promoted "
            "in order and everyone promoted is told, or, when the event has "
            "hours to accept a place, the places are offered in order."
        ),
    )


@require_http_methods(["GET", "POST"])
def capacity_view(request, event_id):
    event = get_object_or_404(events_visible_to(request.user), pk=event_id)
    if (
        not request.user.has_perm("events.change_registration")
        or not event.permissions_for_user(request.user).can_publish()
    ):
        raise PermissionDenied
    form = CapacityForm(
        request.POST if request.method == "POST" else None,
        initial={"capacity": event.capacity},
    )
    if request.method == "POST" and form.is_valid():
        started = timezone.now()
        try:
            promoted = workflows.change_capacity(
                event=event, capacity=form.cleaned_data["capacity"], user=request.user
            )
        except EventsError as error:
            form.add_error(None, error.message)
        else:
            capacity = form.cleaned_data["capacity"]
            confirmed = event.registrations.confirmed().count()
            if promoted:
                text = _("Capacity saved.") + " " + promoted_sentence(promoted)
            elif capacity is not None and confirmed > capacity:
                text = _(
                    "Capacity saved. %(confirmed)s people already have a place, "
                    "more than %(capacity)s: everyone keeps their place, and "
                    "nobody new gets one until fewer than %(capacity)s have one."
                ) % {"confirmed": confirmed, "capacity": capacity}
            else:
                text = _("Capacity saved.")
            if offered := offered_sentence(event.pk, since=started):
                text += " " + offered
            messages.success(request, text)
            return redirect(registration_admin_links(event)["registrations"])
    return TemplateResponse(
        request,
        "events/admin/capacity.html",
        {"event": event, "form": form, "places_left": event.places_left},
    )
