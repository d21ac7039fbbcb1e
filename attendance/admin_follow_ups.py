"""The coordinators' follow-up inbox in the Wagtail admin ("Follow-ups").

One listing of everything to act on (``attendance.follow_ups``): open items
first, then resolved ones, newest first; filtered by kind, by event (those
with open items) and by "assigned to me". Each row says in plain words what
it is, read from its source when shown: a flagged session note (its event,
session date and the facilitator's words), a call waiting (the person's
first name and initial, and why), or a message not delivered (channel, what
it was about, the error, the person's first name and initial, when; with a
"try again" button). Rows are assigned, acknowledged, resolved and reopened
with POST buttons; each change is written to the audit log by the workflow.

Below the listing, "Email me when…" is the coordinator's own
``StaffNotificationPreference``.

Only coordinators (and superusers) may open these screens; anyone else gets
a 403 page saying so.
"""

import dataclasses

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.forms import PageChoiceField
from core.http import private
from events.models import DeliveryStatus, EventPage
from events.permissions import coordinators, is_coordinator

from . import follow_ups, notifications
from .errors import AttendanceError
from .models import FollowUp, FollowUpKind

#: What the "Show" filter offers.
SHOW_ALL, SHOW_OPEN, SHOW_RESOLVED = "", "open", "resolved"


class FollowUpFilterForm(forms.Form):
    """The inbox's filters, read from the query string."""

    show = forms.ChoiceField(
        label=gettext_lazy("Show"),
        choices=[
            (SHOW_ALL, gettext_lazy("Open, then resolved")),
            (SHOW_OPEN, gettext_lazy("Open only")),
            (SHOW_RESOLVED, gettext_lazy("Resolved only")),
        ],
        required=False,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("", gettext_lazy("All kinds")), *FollowUpKind.choices],
        required=False,
    )
    event = PageChoiceField(
        label=gettext_lazy("Event"),
        queryset=EventPage.objects.none(),
        required=False,
        empty_label=gettext_lazy("All events with open items"),
    )
    mine = forms.BooleanField(label=gettext_lazy("Assigned to me"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].queryset = EventPage.objects.filter(
            pk__in=FollowUp.objects.open().values("event_id")
        ).order_by("title", "pk")

    def filter(self, queryset, user):
        data = self.cleaned_data
        if data["show"] == SHOW_OPEN:
            queryset = queryset.filter(is_open=True)
        elif data["show"] == SHOW_RESOLVED:
            queryset = queryset.filter(is_open=False)
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["event"]:
            queryset = queryset.filter(event=data["event"])
        if data["mine"]:
            queryset = queryset.filter(assigned_to=user)
        return queryset


class PreferenceForm(forms.Form):
    """ "Email me when…": the coordinator's own notification choices."""

    email_on_flagged_note = forms.BooleanField(
        label=gettext_lazy("A facilitator flags a session note"),
        help_text=gettext_lazy(
            "The email says which event and session; read the note here."
        ),
        required=False,
    )
    daily_digest = forms.BooleanField(
        label=gettext_lazy(
            "Once a day: new sign-ups and cancellations, and open follow-ups"
        ),
        help_text=gettext_lazy("Numbers only. Nothing is sent on a quiet day."),
        required=False,
    )


@dataclasses.dataclass
class Row:
    """One follow-up as the inbox shows it."""

    follow_up: FollowUp
    heading: str
    details: list  # of (label, value)
    quote: str = ""
    settled: str = ""
    links: list = dataclasses.field(default_factory=list)  # of (label, url)
    can_try_again: bool = False

    @property
    def is_open(self) -> bool:
        return self.follow_up.is_open


def _call_list_url() -> str:
    """The call list's address, once it exists; else ""."""
    try:
        return reverse("events_calls")
    except NoReverseMatch:
        return ""


def _event_link(event) -> tuple[str, str]:
    return (
        _("Open the event: %(title)s") % {"title": event.title},
        reverse("wagtailadmin_pages:edit", args=[event.pk]),
    )


def describe(follow_up: FollowUp, *, call_list_url: str = "") -> Row:
    """What ``follow_up`` is, in plain words (reads what ``for_listing``
    selected: no query)."""
    event = follow_up.event
    settled = follow_ups.settled_at_source(follow_up)
    if follow_up.kind == FollowUpKind.FLAGGED_NOTE:
        note = follow_up.session_note
        return Row(
            follow_up=follow_up,
            heading=_("A facilitator flagged a session note"),
            details=[
                (_("Event"), event.title),
                (_("Session"), note.session.start),
            ],
            quote=note.follow_ups or _("(No follow-up written; the note is flagged.)"),
            settled=settled,
            links=[_event_link(event)],
        )
    registration = follow_up.registration
    person = registration.first_name_and_initial if registration else ""
    if follow_up.kind == FollowUpKind.CALL:
        call = follow_up.call_request
        links = [_event_link(event)]
        if call_list_url:
            links.insert(0, (_("Open the call list"), call_list_url))
        return Row(
            follow_up=follow_up,
            heading=_("Someone is waiting for a call"),
            details=[
                (_("Person"), person),
                (_("Why"), call.get_reason_display()),
                (_("Event"), event.title),
                (_("Since"), call.created_at),
            ],
            settled=settled,
            links=links,
        )
    delivery = follow_up.delivery
    details = [
        (_("Person"), person),
        (_("How"), delivery.get_channel_display()),
        (_("About"), delivery.get_kind_display()),
        (_("Event"), event.title),
        (_("Error"), delivery.error or _("None given")),
        (_("Failed"), follow_up.created_at),
    ]
    if delivery.status == DeliveryStatus.PENDING:
        details.append((_("Now"), _("Being tried again")))
    return Row(
        follow_up=follow_up,
        heading=_("A message could not be delivered"),
        details=details,
        settled=settled,
        links=[_event_link(event)],
        can_try_again=delivery.status == DeliveryStatus.FAILED,
    )


def _forbidden(request):
    # A 403 page of its own: Wagtail turns PermissionDenied into a redirect
    # to the dashboard, which would not say why.
    return TemplateResponse(
        request, "attendance/follow_ups/forbidden.html", {}, status=403
    )


def _coordinator_choices():
    return [
        (user.pk, user.get_full_name() or user.get_username())
        for user in coordinators().order_by("first_name", "last_name", "username")
    ]


@never_cache
@require_GET
def follow_ups_view(request):
    """The inbox: filters, the rows, and "Email me when…"."""
    if not is_coordinator(request.user):
        return _forbidden(request)
    form = FollowUpFilterForm(request.GET)
    queryset = FollowUp.objects.for_listing().order_by("-is_open", "-created_at", "-pk")
    if form.is_valid():
        queryset = form.filter(queryset, request.user)
    paginator = Paginator(queryset, settings.GATHER_LISTING_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("p"))
    call_list_url = _call_list_url()
    rows = [describe(each, call_list_url=call_list_url) for each in page]
    preference = notifications.preference_for(request.user)
    response = TemplateResponse(
        request,
        "attendance/follow_ups/index.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "elided_page_range": paginator.get_elided_page_range(page.number),
            "coordinators": _coordinator_choices(),
            "return_query": request.GET.urlencode(),
            "preference_form": PreferenceForm(
                initial={
                    "email_on_flagged_note": preference.email_on_flagged_note,
                    "daily_digest": preference.daily_digest,
                }
            ),
        },
    )
    return private(response)


def _back(request):
    """To the inbox, with the filters and page it was posted from."""
    query = QueryDict(request.POST.get("return_query", ""))
    url = reverse("follow_ups")
    return redirect(f"{url}?{query.urlencode()}" if query else url)


#: What each button does: the workflow, and what to say after it.
ACTIONS = {
    "assign_me": (
        lambda f, request, to: follow_ups.assign(
            follow_up=f, to=request.user, user=request.user
        ),
        gettext_lazy("Assigned to you."),
    ),
    "assign": (
        lambda f, request, to: follow_ups.assign(follow_up=f, to=to, user=request.user),
        gettext_lazy("Assigned."),
    ),
    "acknowledge": (
        lambda f, request, to: follow_ups.acknowledge(follow_up=f, user=request.user),
        gettext_lazy("Marked as seen."),
    ),
    "resolve": (
        lambda f, request, to: follow_ups.resolve(follow_up=f, user=request.user),
        gettext_lazy("Resolved."),
    ),
    "reopen": (
        lambda f, request, to: follow_ups.reopen(follow_up=f, user=request.user),
        gettext_lazy("Reopened."),
    ),
    "try_again": (
        lambda f, request, to: follow_ups.try_again(follow_up=f, user=request.user),
        gettext_lazy("The message will be sent again in a moment."),
    ),
}


@never_cache
@require_POST
def follow_up_action_view(request, follow_up_id):
    """One button of one row: ``action`` names it (``ACTIONS``); "assign"
    also posts ``assignee``, a coordinator's id ("" for nobody)."""
    if not is_coordinator(request.user):
        return _forbidden(request)
    follow_up = get_object_or_404(FollowUp, pk=follow_up_id)
    action = ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, _("That is not something a follow-up can do."))
        return _back(request)
    workflow, success = action
    assignee = None
    if request.POST.get("action") == "assign":
        choice = request.POST.get("assignee", "")
        if choice:
            assignee = (
                coordinators().filter(pk=choice).first() if choice.isdigit() else None
            )
            if assignee is None:
                messages.error(request, _("Choose a coordinator."))
                return _back(request)
    try:
        workflow(follow_up, request, assignee)
    except AttendanceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(success))
    return _back(request)


@never_cache
@require_POST
def follow_up_preferences_view(request):
    """Save "Email me when…" for the coordinator signed in."""
    if not is_coordinator(request.user):
        return _forbidden(request)
    form = PreferenceForm(request.POST)
    if form.is_valid():
        notifications.save_preference(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your email choices are saved."))
    return _back(request)
