"""Wagtail admin screens for sessions and venues.

The screens parse input and call ``events.sessions``; none changes a
session directly, so the UID and sequence rules hold everywhere.
"""

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet, ViewSetGroup
from wagtail.admin.widgets import AdminDateInput, AdminDateTimeInput, AdminTimeInput
from wagtail.snippets.views.snippets import IndexView as SnippetIndexView
from wagtail.snippets.views.snippets import SnippetViewSet

from core.forms import SearchWordsMixin
from spreadsheets.views import SpreadsheetButtonsMixin

from . import open_series
from . import sessions as session_workflows
from .admin_links import (
    registration_admin_links,
    session_action_url,
    sessions_list_url,
)
from .admin_registrations import (
    DomainErrorFormMixin,
    RegistrationViewSet,
    can_see_registrations,
)
from .errors import EventsError
from .filters import SessionFilterSet, VenueFilterSet
from .models import (
    MAX_SESSION_LENGTH,
    Closure,
    EventPage,
    EventSession,
    SeriesChangeKind,
    SeriesRule,
    Venue,
)
from .permissions import events_visible_to


def _can_edit_event(user, event):
    return event.permissions_for_user(user).can_edit()


# Sessions -------------------------------------------------------------------


def safe_next_url(request) -> str | None:
    """The ``next`` address a screen was opened with, if it is a page of
    this site (never another site's, so a crafted link cannot send a
    coordinator elsewhere)."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(
        next_url,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return next_url
    return None


def return_url(request, event) -> str:
    """Where a session screen goes back to: where it was opened from (the
    page editor or a sessions listing), else the event's sessions listing."""
    return safe_next_url(request) or sessions_list_url(event)


class ReturnToNextMixin:
    """Create and edit views of sessions go back to where they were opened
    from (see ``return_url``), keeping ``next`` across the form's POST."""

    def get_success_url(self):
        return return_url(self.request, self.object.event)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = safe_next_url(self.request)
        if next_url and context.get("action_url"):
            separator = "&" if "?" in context["action_url"] else "?"
            context["action_url"] += separator + urlencode({"next": next_url})
        return context


class SessionForm(WagtailAdminModelForm):
    """Fields a coordinator sets on a session; the workflow saves them."""

    class Meta:
        model = EventSession
        fields = ["event", "start", "end", "venue", "public_note"]
        widgets = {"start": AdminDateTimeInput, "end": AdminDateTimeInput}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", _("A session must end after it starts."))
        elif start and end and end - start > MAX_SESSION_LENGTH:
            self.add_error("end", session_workflows.too_long_message())
        return cleaned


class SessionEditForm(SessionForm):
    """Editing keeps the session on its event."""

    class Meta(SessionForm.Meta):
        fields = ["start", "end", "venue", "public_note"]


class SessionCreateView(ReturnToNextMixin, DomainErrorFormMixin, generic.CreateView):
    def save_instance(self):
        data = self.form.cleaned_data
        session = session_workflows.add_session(
            event=data["event"],
            start=data["start"],
            end=data["end"],
            venue=data["venue"],
            public_note=data["public_note"],
            user=self.request.user,
        )
        return session


class SessionEditView(ReturnToNextMixin, DomainErrorFormMixin, generic.EditView):
    """Move a session; the screen says who will be told if it moves."""

    template_name = "events/admin/session_edit.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            who_is_told_context(
                self.request,
                self.object,
                heading=_("Who is told if it moves"),
                moving=True,
            )
        )
        return context

    def save_instance(self):
        data = self.form.cleaned_data
        session = session_workflows.reschedule_session(
            session=self.object,
            start=data["start"],
            end=data["end"],
            venue=data["venue"],
            public_note=data["public_note"],
            user=self.request.user,
        )
        return session


class SessionDeleteView(generic.DeleteView):
    """Deletes only a session added by mistake (``deletion_refusal``); for
    any other, says why and points to cancelling."""

    def dispatch(self, request, *args, **kwargs):
        refusal = session_workflows.deletion_refusal(self.object)
        if refusal:
            messages.error(request, refusal.message)
            return redirect(self.get_edit_url(self.object))
        return super().dispatch(request, *args, **kwargs)

    def get_edit_url(self, instance):
        return reverse("event_sessions:edit", args=[instance.pk])


class SessionIndexView(SearchWordsMixin, SpreadsheetButtonsMixin, generic.IndexView):
    """Sessions listing; moving, cancelling or reinstating a session from it
    comes back to it, with its filters."""

    spreadsheet_resources = ("schedule", "attendance")

    def get_edit_url(self, instance):
        return session_action_url("edit", instance, self.request.get_full_path())

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.is_cancelled:
            label, name = _("Reinstate"), "reinstate"
        else:
            label, name = _("Cancel session"), "cancel"
        buttons.append(
            MenuItem(
                label,
                url=session_action_url(name, instance, self.request.get_full_path()),
                icon_name="undo" if name == "reinstate" else "cross",
                priority=25,
            )
        )
        if not instance.is_cancelled and not instance.is_past:
            buttons.append(
                MenuItem(
                    _("Change the rest of the series"),
                    url=session_action_url(
                        "rest_of_series", instance, self.request.get_full_path()
                    ),
                    icon_name="date",
                    priority=26,
                )
            )
        return buttons


class SessionViewSet(ModelViewSet):
    """Sessions: list, add, move, cancel and reinstate; weekly series."""

    model = EventSession
    icon = "date"
    menu_label = gettext_lazy("Sessions")
    url_prefix = "sessions"
    url_namespace = "event_sessions"
    index_view_class = SessionIndexView
    add_view_class = SessionCreateView
    edit_view_class = SessionEditView
    delete_view_class = SessionDeleteView
    filterset_class = SessionFilterSet
    list_display = [
        "event",
        Column("start", label=gettext_lazy("Starts")),
        Column("status", accessor="get_status_display", label=gettext_lazy("Status")),
        Column("effective_venue", label=gettext_lazy("Venue")),
        Column("sequence", label=gettext_lazy("Changes")),
    ]
    ordering = ["start"]
    inspect_view_enabled = True
    copy_view_enabled = False

    def get_form_class(self, for_update=False):
        return SessionEditForm if for_update else SessionForm

    def get_queryset(self, request):
        return EventSession.objects.select_related("event", "venue", "event__venue")

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/cancel/", cancel_session_view, name="cancel"),
            path("<int:pk>/reinstate/", reinstate_session_view, name="reinstate"),
            path("series/<id:event_id>/", series_view, name="series"),
            path("series-rules/<int:pk>/stop/", stop_series_view, name="stop_series"),
            path(
                "<int:pk>/rest-of-series/",
                rest_of_series_view,
                name="rest_of_series",
            ),
        ]


class CancelSessionForm(forms.Form):
    public_note = forms.CharField(
        label=gettext_lazy("Note for participants"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("Optional, shown with the session, e.g. 'Snow day'."),
    )


def _session_for_change(request, pk):
    session = get_object_or_404(EventSession.objects.select_related("event"), pk=pk)
    if not request.user.has_perm("events.change_eventsession") or not _can_edit_event(
        request.user, session.event
    ):
        raise PermissionDenied
    return session


def audience_lines(audience: session_workflows.ChangeAudience) -> list[str]:
    """How many people are told about a change to a session, and how, in
    sentences."""
    if audience.past:
        return [_("This session is over, so nobody is told.")]
    if not audience.emailed and not audience.texted and not audience.to_call:
        return [_("Nobody has a place yet, so nobody needs to be told.")]
    lines = []
    if audience.emailed:
        lines.append(
            ngettext(
                "%(count)s person with a place will be emailed.",
                "%(count)s people with a place will be emailed.",
                audience.emailed,
            )
            % {"count": audience.emailed}
        )
    if audience.texted:
        lines.append(
            ngettext(
                "%(count)s person with a place will get a text message.",
                "%(count)s people with a place will get a text message.",
                audience.texted,
            )
            % {"count": audience.texted}
        )
    if audience.to_call:
        count = len(audience.to_call)
        lines.append(
            ngettext(
                "%(count)s person with a place can only be reached by phone: "
                "they go on the call list.",
                "%(count)s people with a place can only be reached by phone: "
                "they go on the call list.",
                count,
            )
            % {"count": count}
        )
    if audience.if_still_to_come:
        lines.append(_("They are told only if the new time is still to come."))
    return lines


def who_is_told_context(
    request, session, *, heading, moving=False, audience=None
) -> dict:
    """Context of ``events/admin/who_is_told.html`` for a change to
    ``session`` (or the ``audience`` given, as for a change to the rest of
    a series). Names and phone numbers only for someone who may open the
    registrations listing and see this event's people there
    (``events_visible_to``); everyone else sees the numbers."""
    if audience is None:
        audience = session_workflows.change_audience(session, moving=moving)
    may_see_people = (
        can_see_registrations(request.user)
        and events_visible_to(request.user).filter(pk=session.event_id).exists()
    )
    return {
        "audience_heading": heading,
        "audience_lines": audience_lines(audience),
        "to_call": audience.to_call if may_see_people else [],
        "registrations_url": (
            registration_admin_links(session.event)["registrations"]
            if may_see_people
            else None
        ),
    }


def _confirm_session(request, session, **context):
    return TemplateResponse(
        request,
        "events/admin/confirm_session_action.html",
        {
            "session": session,
            # Checked already: the form carries it to the POST as it is.
            "back_url": return_url(request, session.event),
            **context,
        },
    )


@require_http_methods(["GET", "POST"])
def cancel_session_view(request, pk):
    """Say who will be told, ask for confirmation, then cancel the session."""
    session = _session_for_change(request, pk)
    form = CancelSessionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            session_workflows.cancel_session(
                session=session,
                public_note=form.cleaned_data["public_note"],
                user=request.user,
            )
        except EventsError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Session cancelled: %s") % session)
        return redirect(return_url(request, session.event))
    return _confirm_session(
        request,
        session,
        form=form,
        title=_("Cancel session"),
        confirm_label=_("Yes, cancel this session"),
        explanation=_(
            "The session stays listed, marked as cancelled, and calendars "
            "that hold it will show it as cancelled."
        ),
        **who_is_told_context(request, session, heading=_("Who is told")),
    )


@require_http_methods(["GET", "POST"])
def reinstate_session_view(request, pk):
    """Ask for confirmation, then undo a cancellation."""
    session = _session_for_change(request, pk)
    if request.method == "POST":
        try:
            session_workflows.reinstate_session(session=session, user=request.user)
        except EventsError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Session reinstated: %s") % session)
        return redirect(return_url(request, session.event))
    return _confirm_session(
        request,
        session,
        title=_("Reinstate session"),
        confirm_label=_("Yes, reinstate this session"),
        explanation=_("The session will go ahead as scheduled."),
    )


def _check_may_add_sessions(request, event) -> None:
    """Series are for whoever may add sessions and edit the event."""
    if not request.user.has_perm("events.add_eventsession") or not _can_edit_event(
        request.user, event
    ):
        raise PermissionDenied


DATE_SEPARATORS = re.compile(r"[\s,;]+")


class SeriesForm(forms.Form):
    """A series of sessions at the same local time: every week or every few
    weeks, or monthly on a weekday or a date, ending after a number of dates
    or on an end date, skipping given dates and the program's closures."""

    first_date = forms.DateField(
        label=gettext_lazy("First session date"),
        widget=AdminDateInput,
        help_text=gettext_lazy(
            "For a monthly series, the series starts on the first matching "
            "date on or after this one."
        ),
    )
    start_time = forms.TimeField(label=gettext_lazy("Starts at"), widget=AdminTimeInput)
    end_time = forms.TimeField(label=gettext_lazy("Ends at"), widget=AdminTimeInput)
    frequency = forms.ChoiceField(
        label=gettext_lazy("Repeats"),
        choices=session_workflows.Frequency.choices,
        initial=session_workflows.Frequency.WEEKLY,
        widget=forms.RadioSelect,
    )
    interval = forms.IntegerField(
        label=gettext_lazy("Every how many weeks"),
        min_value=1,
        max_value=session_workflows.MAX_INTERVAL,
        initial=1,
        required=False,
        help_text=gettext_lazy(
            "For a weekly series: 1 for every week, 2 for every two weeks."
        ),
    )
    weekday_position = forms.TypedChoiceField(
        label=gettext_lazy("Which weekday of the month"),
        choices=[("", "---------"), *session_workflows.WEEKDAY_POSITIONS.items()],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=gettext_lazy(
            "For a monthly series on a weekday, e.g. 'First' for the first "
            "Thursday of each month."
        ),
    )
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("Weekday"),
        choices=[
            ("", gettext_lazy("The weekday of the first session date")),
            *enumerate(
                [
                    gettext_lazy("Monday"),
                    gettext_lazy("Tuesday"),
                    gettext_lazy("Wednesday"),
                    gettext_lazy("Thursday"),
                    gettext_lazy("Friday"),
                    gettext_lazy("Saturday"),
                    gettext_lazy("Sunday"),
                ]
            ),
        ],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=gettext_lazy("For a monthly series on a weekday."),
    )
    month_day = forms.IntegerField(
        label=gettext_lazy("Day of the month"),
        min_value=1,
        max_value=31,
        required=False,
        help_text=gettext_lazy(
            "For a monthly series on a date, e.g. 15. Leave empty to use the "
            "day of the first session date. Months without that day (the 31st "
            "in April) have no session."
        ),
    )
    ends = forms.ChoiceField(
        label=gettext_lazy("Ends"),
        choices=[
            ("count", gettext_lazy("After a number of dates")),
            ("until", gettext_lazy("On a date")),
            ("open", gettext_lazy("Keeps going (open-ended)")),
        ],
        initial="count",
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "A series that keeps going has its sessions made a few weeks "
            "ahead, and more are added every day until you stop it."
        ),
    )
    count = forms.IntegerField(
        label=gettext_lazy("Number of dates"),
        min_value=1,
        max_value=session_workflows.MAX_SERIES_SESSIONS,
        initial=8,
        required=False,
        help_text=gettext_lazy(
            "When the series ends after a number of dates: how many. Skipped "
            "dates and closures count too."
        ),
    )
    until = forms.DateField(
        label=gettext_lazy("Last date"),
        widget=AdminDateInput,
        required=False,
        help_text=gettext_lazy(
            "When the series ends on a date: no session after this day."
        ),
    )
    skip_dates = forms.CharField(
        label=gettext_lazy("Skip these dates"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Optional. Dates with no session: one per line, written like "
            "2026-12-24. The program's closures are skipped without being "
            "listed here."
        ),
    )
    venue = forms.ModelChoiceField(
        queryset=Venue.objects.all(),
        required=False,
        label=gettext_lazy("Venue"),
        help_text=gettext_lazy("Leave empty to use the event's venue."),
    )

    def clean_skip_dates(self):
        field = forms.DateField(input_formats=["%Y-%m-%d"])
        dates, bad = [], []
        for token in DATE_SEPARATORS.split(self.cleaned_data["skip_dates"].strip()):
            if not token:
                continue
            try:
                dates.append(field.clean(token))
            except forms.ValidationError:
                bad.append(token)
        if bad:
            raise forms.ValidationError(
                _("These are not dates like 2026-12-24: %(bad)s"),
                params={"bad": ", ".join(bad)},
            )
        return dates

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", _("The end time must be after the start time."))
        frequency = cleaned.get("frequency")
        if (
            frequency == session_workflows.Frequency.MONTHLY_BY_WEEKDAY
            and cleaned.get("weekday_position") is None
            and "weekday_position" not in self.errors
        ):
            self.add_error(
                "weekday_position",
                _("Choose which weekday of the month: first to fourth, or last."),
            )
        # Only the end chosen must be given; the other is ignored.
        ends = cleaned.get("ends")
        if (
            ends in ("count", "until")
            and ends not in self.errors
            and cleaned.get(ends) is None
        ):
            self.add_error(
                ends,
                _("Give the number of dates.")
                if ends == "count"
                else _("Give the last date."),
            )
        return cleaned

    def pattern(self) -> session_workflows.RepeatPattern:
        """The repeat pattern the valid form describes. Fields for another
        frequency than the one chosen are ignored."""
        data = self.cleaned_data
        frequency = data["frequency"]
        Frequency = session_workflows.Frequency
        weekly = frequency == Frequency.WEEKLY
        by_weekday = frequency == Frequency.MONTHLY_BY_WEEKDAY
        by_date = frequency == Frequency.MONTHLY_BY_DATE
        return session_workflows.RepeatPattern(
            frequency=frequency,
            interval=(data["interval"] or 1) if weekly else 1,
            weekday_position=data["weekday_position"] if by_weekday else None,
            weekday=data["weekday"] if by_weekday else None,
            month_day=data["month_day"] if by_date else None,
            # Neither for a series that keeps going (``events.open_series``).
            count=data["count"] if data["ends"] == "count" else None,
            until=data["until"] if data["ends"] == "until" else None,
        )


#: The series form field each of ``generate_series``'s refusals is shown
#: next to; any other refusal goes above the form.
SERIES_ERROR_FIELDS = {
    "skip_date_not_in_series": "skip_dates",
    "already_scheduled": "first_date",
    "no_sessions": "first_date",
    "end_before_start": "end_time",
    "time_does_not_exist": "start_time",
    "no_frequency": "frequency",
    "interval_out_of_range": "interval",
    "no_weekday_position": "weekday_position",
    "no_weekday": "weekday",
    "month_day_out_of_range": "month_day",
    "no_end": "ends",
    "two_ends": "ends",
    "count_out_of_range": "count",
    "until_before_start": "until",
    "too_many_sessions": "until",
    "skip_date_too_far": "skip_dates",
}


@require_http_methods(["GET", "POST"])
def series_view(request, event_id):
    """Preview or generate a series of sessions for one event.

    "Preview" shows the sessions the series would add and the dates it would
    leave out, writing nothing; "Add sessions" creates them. A series that
    keeps going is started through ``events.open_series``, which keeps its
    rule for the daily top-ups.
    """
    event = get_object_or_404(EventPage, pk=event_id)
    _check_may_add_sessions(request, event)
    form = SeriesForm(request.POST if request.method == "POST" else None)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        arguments = {
            "event": event,
            "pattern": form.pattern(),
            "first_date": data["first_date"],
            "start_time": data["start_time"],
            "end_time": data["end_time"],
            "skip_dates": data["skip_dates"],
            "venue": data["venue"],
        }
        if data["ends"] == "open":
            plan, make = open_series.plan_open_series, open_series.start_open_series
        else:
            plan = session_workflows.plan_series
            make = session_workflows.generate_series
        try:
            if "preview" in request.POST:
                preview = plan(**arguments)
            else:
                series = make(**arguments, user=request.user)
                messages.success(request, series.summary())
                return redirect("wagtailadmin_pages:edit", event.pk)
        except EventsError as error:
            form.add_error(SERIES_ERROR_FIELDS.get(error.code), error.message)
    return TemplateResponse(
        request,
        "events/admin/series.html",
        {
            "event": event,
            "form": form,
            "preview": preview,
            "weeks_ahead": open_series.weeks_ahead(),
        },
    )


class StopSeriesForm(forms.Form):
    """When a series that keeps going stops: now, or after a last date."""

    last_date = forms.DateField(
        label=gettext_lazy("Last date"),
        widget=AdminDateInput,
        required=False,
        help_text=gettext_lazy(
            "Optional. No session is made after this day. Leave empty to "
            "stop now: no sessions after those already made."
        ),
    )


def _first_to_come_url(event) -> str | None:
    """The "Change the rest of the series" screen from the event's next
    session still to come, to cancel sessions already made; None without
    one."""
    session = event.sessions.upcoming().not_cancelled().order_by("start").first()
    if session is None:
        return None
    back = reverse("wagtailadmin_pages:edit", args=[event.pk])
    return session_action_url("rest_of_series", session, back)


@require_http_methods(["GET", "POST"])
def stop_series_view(request, pk):
    """Stop the top-ups of a series that keeps going
    (``open_series.stop_series``); sessions already made stay."""
    rule = get_object_or_404(SeriesRule.objects.select_related("event"), pk=pk)
    event = rule.event
    _check_may_add_sessions(request, event)
    form = StopSeriesForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            rule = open_series.stop_series(
                rule=rule,
                last_date=form.cleaned_data["last_date"],
                user=request.user,
            )
        except EventsError as error:
            form.add_error(
                "last_date" if error.code == "until_before_start" else None,
                error.message,
            )
        else:
            messages.success(
                request,
                _("The series stops: %(rule)s.")
                % {"rule": open_series.rule_in_words(rule)},
            )
            return redirect("wagtailadmin_pages:edit", event.pk)
    return TemplateResponse(
        request,
        "events/admin/stop_series.html",
        {
            "event": event,
            "rule": rule,
            "rule_in_words": open_series.rule_in_words(rule),
            "form": form,
            "back_url": reverse("wagtailadmin_pages:edit", args=[event.pk]),
            "rest_of_series_url": _first_to_come_url(event),
        },
    )


WEEKDAYS = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]


class RestOfSeriesForm(forms.Form):
    """Change every session still to come from one: a new time of day,
    another weekday, another venue, or cancel them."""

    from_session = forms.ModelChoiceField(
        queryset=EventSession.objects.none(),
        label=gettext_lazy("From this session on"),
        help_text=gettext_lazy(
            "This session and every later one still to come changes. "
            "Sessions already cancelled stay as they are."
        ),
    )
    change = forms.ChoiceField(
        label=gettext_lazy("What changes"),
        choices=SeriesChangeKind.choices,
        widget=forms.RadioSelect,
    )
    start_time = forms.TimeField(
        label=gettext_lazy("New start time"),
        widget=AdminTimeInput,
        required=False,
        help_text=gettext_lazy("For a new time of day. The dates stay the same."),
    )
    end_time = forms.TimeField(
        label=gettext_lazy("New end time"), widget=AdminTimeInput, required=False
    )
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("New weekday"),
        choices=[("", "---------"), *enumerate(WEEKDAYS)],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=gettext_lazy(
            "For another weekday: each session moves to that day of the same "
            "week (Monday to Sunday), at the same time."
        ),
    )
    venue = forms.ModelChoiceField(
        queryset=Venue.objects.all(),
        required=False,
        label=gettext_lazy("New venue"),
        help_text=gettext_lazy("For another venue."),
    )

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_session"].queryset = (
            EventSession.objects.filter(event=event)
            .upcoming()
            .not_cancelled()
            .select_related("event")
            .order_by("start")
        )

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("change")
        needed = {
            SeriesChangeKind.TIME: {
                "start_time": _("Give the new start time."),
                "end_time": _("Give the new end time."),
            },
            SeriesChangeKind.WEEKDAY: {"weekday": _("Choose the new weekday.")},
            SeriesChangeKind.VENUE: {"venue": _("Choose the new venue.")},
        }.get(kind, {})
        for name, message in needed.items():
            if cleaned.get(name) is None and name not in self.errors:
                self.add_error(name, message)
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if kind == SeriesChangeKind.TIME and start and end and end <= start:
            self.add_error("end_time", _("The end time must be after the start time."))
        return cleaned

    def change_wanted(self) -> session_workflows.RestOfSeriesChange:
        """The change the valid form asks for; fields of other changes are
        ignored."""
        data = self.cleaned_data
        kind = data["change"]
        return session_workflows.RestOfSeriesChange(
            kind=kind,
            start_time=data["start_time"] if kind == SeriesChangeKind.TIME else None,
            end_time=data["end_time"] if kind == SeriesChangeKind.TIME else None,
            weekday=data["weekday"] if kind == SeriesChangeKind.WEEKDAY else None,
            venue=data["venue"] if kind == SeriesChangeKind.VENUE else None,
        )


#: The field each refusal of ``change_rest_of_series`` is shown next to.
REST_OF_SERIES_ERROR_FIELDS = {
    "no_change_kind": "change",
    "no_times": "start_time",
    "end_before_start": "end_time",
    "time_does_not_exist": "start_time",
    "no_weekday": "weekday",
    "no_venue": "venue",
    "no_from_session": "from_session",
    "no_sessions": "from_session",
    "in_the_past": "from_session",
    "nothing_changes": "change",
    "already_scheduled": "change",
}


@require_http_methods(["GET", "POST"])
def rest_of_series_view(request, pk):
    """Change every session still to come from one at once.

    "Preview" lists each session as it is and as it would be, and who would
    be told by which channel, writing nothing; "Apply" makes the change
    (``sessions.change_rest_of_series``), and each person is told once.
    """
    session = _session_for_change(request, pk)
    event = session.event
    posted = request.POST if request.method == "POST" else None
    form = RestOfSeriesForm(posted, event=event, initial={"from_session": session.pk})
    preview = None
    context = {}
    if posted is not None and form.is_valid():
        arguments = {
            "event": event,
            "change": form.change_wanted(),
            "from_session": form.cleaned_data["from_session"],
        }
        try:
            if "apply" in request.POST:
                record = session_workflows.change_rest_of_series(
                    **arguments, user=request.user
                )
                count = record.sessions.count()
                messages.success(
                    request,
                    ngettext(
                        "%(count)s session changed. Everyone with a place is "
                        "told once.",
                        "%(count)s sessions changed. Everyone with a place is "
                        "told once.",
                        count,
                    )
                    % {"count": count},
                )
                return redirect(return_url(request, event))
            preview = session_workflows.plan_rest_of_series(**arguments)
        except EventsError as error:
            form.add_error(REST_OF_SERIES_ERROR_FIELDS.get(error.code), error.message)
        else:
            audience = session_workflows.series_change_audience(
                [p.session for p in preview], event=event
            )
            context = who_is_told_context(
                request,
                session,
                heading=_("Who is told, once each"),
                audience=audience,
            )
    return TemplateResponse(
        request,
        "events/admin/rest_of_series.html",
        {
            "session": session,
            "event": event,
            "form": form,
            "preview": preview,
            "back_url": return_url(request, event),
            **context,
        },
    )


# Venues ---------------------------------------------------------------------


class VenueIndexView(SearchWordsMixin, SpreadsheetButtonsMixin, SnippetIndexView):
    """Venue listing with spreadsheet export (filters kept) and import."""

    spreadsheet_resources = ("venues",)


class VenueViewSet(SnippetViewSet):
    """Venues: list, filter by setting and access, search by name."""

    model = Venue
    icon = "site"
    menu_label = gettext_lazy("Venues")
    list_display = [
        "name",
        "room",
        Column(
            "setting", accessor="get_setting_display", label=gettext_lazy("Setting")
        ),
        "default_capacity",
    ]
    index_view_class = VenueIndexView
    filterset_class = VenueFilterSet
    ordering = ["name"]


class ClosureViewSet(SnippetViewSet):
    """Closures: the date ranges, such as the winter holidays, that every
    series generated afterwards leaves out."""

    model = Closure
    icon = "calendar-alt"
    menu_label = gettext_lazy("Closures")
    list_display = ["name", "first_day", "last_day"]
    ordering = ["-first_day"]


class EventsAdminGroup(ViewSetGroup):
    """The Events menu: sessions, registrations, venues and closures."""

    menu_label = gettext_lazy("Events")
    menu_icon = "date"
    menu_order = 200
    items = (SessionViewSet, RegistrationViewSet, VenueViewSet, ClosureViewSet)
