"""The call list in the Wagtail admin ("Calls to make"), and its dashboard
panel.

Staff see the waiting calls (``CallRequest.objects.to_make()``) of the
people they may see (``events.permissions.call_requests_visible_to``):
coordinators every event's, facilitators their own events'. Editors, who
see no participants, get a 403. The list is grouped by event, oldest call
first; one person's calls stay together. Each call has a small form to
record a try (``events.calls.record_call_attempt``), which goes back to the
list with its filters and page.

Viewing the list is written to the audit log as the registrations listing
is (ids and numbers, never a name or a number to call).
"""

import re

from django import forms
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, Prefetch, Subquery
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from wagtail.admin.menu import MenuItem
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.components import Component

from core import audit
from core.dates import site_zone
from core.http import private

from .calls import call_preferences, record_call_attempt
from .errors import EventsError
from .models import (
    CallAttempt,
    CallOutcome,
    CallReason,
    CallRequest,
    EventPage,
    MessageKind,
    PlaceOffer,
    SessionStatus,
)
from .permissions import call_requests_visible_to, may_use_call_list

#: Calls on one page of the list.
PER_PAGE = 25
#: The audit action of a look at the call list.
CALL_LIST_VIEWED = "events.calls.viewed"


def calls_to_make(user):
    """The waiting calls ``user`` may see and make."""
    return call_requests_visible_to(user).to_make()


class CallFilterForm(forms.Form):
    """Filters of the call list, from the query string. The events are
    only those with calls the user may see waiting, so the choice names no
    other group's event."""

    event = forms.TypedChoiceField(
        label=gettext_lazy("Event"), coerce=int, required=False, empty_value=None
    )
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), required=False)

    def __init__(self, *args, events=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = [("", _("All events")), *events]
        self.fields["reason"].choices = [("", _("All reasons")), *CallReason.choices]

    def filter(self, calls):
        if not self.is_valid():
            return calls
        if self.cleaned_data["event"]:
            calls = calls.filter(registration__event_id=self.cleaned_data["event"])
        if self.cleaned_data["reason"]:
            calls = calls.filter(reason=self.cleaned_data["reason"])
        return calls

    def query(self) -> dict:
        """The filters as valid query-string values ({} when invalid)."""
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


def _oldest(calls, field):
    """When the oldest of ``calls`` sharing ``field`` with the row was queued."""
    return Subquery(
        calls.filter(**{field: OuterRef(field)})
        .order_by("created_at")
        .values("created_at")[:1]
    )


def ordered_for_list(calls):
    """Events whose oldest call is oldest first; in each, people likewise;
    each person's calls oldest first. What a row shows is loaded with it."""
    return (
        calls.annotate(
            event_first=_oldest(calls, "registration__event"),
            person_first=_oldest(calls, "registration"),
        )
        .select_related("registration__event", "session", "group_message")
        .prefetch_related(
            "series_change__sessions",
            Prefetch(
                "attempts",
                queryset=CallAttempt.objects.select_related("by").order_by("at", "pk"),
            ),
        )
        .order_by(
            "event_first",
            "registration__event_id",
            "person_first",
            "registration_id",
            "created_at",
            "pk",
        )
    )


def _when(value) -> str:
    """A moment in the site's time zone: 'Tue 8 Dec 2026, 6 p.m.'."""
    return date_format(timezone.localtime(value, site_zone()), "D j M Y, P")


def reason_text(call: CallRequest) -> str:
    """Why to call, in plain words: the reason, and for a session change
    what changed (as the session is now), for a message its words."""
    session = call.session
    if call.reason == CallReason.SESSION_CHANGED and session is not None:
        if session.status == SessionStatus.CANCELLED:
            return _("Session on %(when)s: cancelled") % {"when": _when(session.start)}
        if call.kind == MessageKind.SESSION_CANCELLED:
            return _(
                "Session on %(when)s: cancelled, then put back (it goes ahead)"
            ) % {"when": _when(session.start)}
        return _("Session on %(old)s: moved to %(new)s") % {
            "old": _when(session.previous_start or session.start),
            "new": _when(session.start),
        }
    change = call.series_change
    if call.reason == CallReason.SESSION_CHANGED and change is not None:
        changed = change.changed_sessions()
        if changed:
            values = {"count": len(changed), "when": _when(changed[0].start)}
            if change.is_cancellation:
                return (
                    ngettext(
                        "%(count)s session from %(when)s: cancelled",
                        "%(count)s sessions from %(when)s: cancelled",
                        len(changed),
                    )
                    % values
                )
            values["when"] = _when(changed[0].previous_start or changed[0].start)
            return (
                ngettext(
                    "%(count)s session from %(when)s: moved (see the sessions)",
                    "%(count)s sessions from %(when)s: moved (see the sessions)",
                    len(changed),
                )
                % values
            )
    if call.reason == CallReason.MESSAGE and call.group_message is not None:
        return _("Message to the group: “%(body)s”") % {"body": call.group_message.body}
    if call.reason == CallReason.REMINDER and session is not None:
        return _("Reminder of the session on %(when)s") % {"when": _when(session.start)}
    if call.reason == CallReason.PLACE_OFFERED:
        offer = PlaceOffer.objects.open().filter(registration=call.registration_id)
        offer = offer.only("expires_at").first()
        if offer is not None:
            return _(
                "Offered a place until %(when)s. If they say yes, use Give a "
                "place in the registrations list; if no, cancel their "
                "registration."
            ) % {"when": _when(offer.expires_at)}
    return call.get_reason_display()


def tel_href(phone) -> str:
    """A ``tel:`` link for a stored (E.164) number."""
    digits = re.sub(r"\D", "", str(phone))
    return "tel:" + ("+" if str(phone).lstrip().startswith("+") else "") + digits


def _row(call: CallRequest) -> dict:
    registration = call.registration
    preferences = call_preferences(registration)
    return {
        "call": call,
        "registration": registration,
        "event": registration.event,
        "reason": reason_text(call),
        "queued": _when(call.created_at),
        "tel": tel_href(registration.phone),
        "preferences": preferences,
        "attempts": [
            {
                "by": (attempt.by.get_full_name() or attempt.by.get_username())
                if attempt.by
                else _("A former user"),
                "at": _when(attempt.at),
                "outcome": attempt.get_outcome_display(),
            }
            for attempt in call.attempts.all()
        ],
    }


def _grouped(rows):
    """Rows as events, each with its people, each with their calls, in the
    list's order."""
    events = []
    for row in rows:
        if not events or events[-1]["event"].pk != row["event"].pk:
            events.append({"event": row["event"], "people": []})
        people = events[-1]["people"]
        if not people or people[-1]["registration"].pk != row["registration"].pk:
            people.append(
                {
                    "registration": row["registration"],
                    "tel": row["tel"],
                    "preferences": row["preferences"],
                    "calls": [],
                }
            )
        people[-1]["calls"].append(row)
    return events


def _forbidden(request):
    # A page of its own: Wagtail turns PermissionDenied into a redirect to
    # the dashboard, which would not say why.
    return TemplateResponse(
        request, "events/admin/calls_forbidden.html", {}, status=403
    )


def _page_number(value) -> str:
    value = (value or "1")[:10]
    return value if value.isdigit() else "1"


def log_call_list_viewed(request, *, people: int, calls: int, form) -> None:
    """Write that the user saw ``people`` people (their names and numbers)
    on the call list, with its filters and page; nothing for an empty page."""
    if not people:
        return
    query = form.query()
    audit.log_access(
        ContentType.objects.get_for_model(CallRequest),
        CALL_LIST_VIEWED,
        user=request.user,
        title=_("Call list: %(count)s people") % {"count": people},
        count=people,
        calls=calls,
        event=query.get("event"),
        reason=query.get("reason", ""),
        page=_page_number(request.GET.get("p")),
    )


@never_cache
@require_GET
def call_list_view(request):
    """The waiting calls the user may make, with a form per call."""
    if not may_use_call_list(request.user):
        return _forbidden(request)
    calls = calls_to_make(request.user)
    events = (
        EventPage.objects.filter(pk__in=calls.values("registration__event"))
        .order_by("title", "pk")
        .values_list("pk", "title")
    )
    form = CallFilterForm(request.GET, events=list(events))
    page = WagtailPaginator(ordered_for_list(form.filter(calls)), PER_PAGE).get_page(
        request.GET.get("p")
    )
    rows = [_row(call) for call in page.object_list]
    groups = _grouped(rows)
    people = sum(len(group["people"]) for group in groups)
    log_call_list_viewed(request, people=people, calls=len(rows), form=form)
    return private(
        TemplateResponse(
            request,
            "events/admin/calls.html",
            {
                "form": form,
                "page_obj": page,
                "elided_page_range": page.paginator.get_elided_page_range(page.number),
                "groups": groups,
                "return_query": {**form.query(), "p": page.number},
                "outcomes": CallOutcome,
            },
        )
    )


def _back_to_list(request):
    """The list, with the filters and page the form was posted from (only
    values of the right shape: they are anyone's to write)."""
    query = {}
    event = request.POST.get("event", "")[:12]
    if event.isdigit():
        query["event"] = event
    reason = request.POST.get("reason", "")
    if reason in CallReason.values:
        query["reason"] = reason
    query["p"] = _page_number(request.POST.get("p"))
    return redirect(reverse("event_calls") + "?" + urlencode(query))


SUCCESS = {
    CallOutcome.CALLED: gettext_lazy("Marked: you spoke to them. The call is done."),
    CallOutcome.NO_ANSWER: gettext_lazy(
        "Marked: no answer. The call stays on the list to try again."
    ),
    CallOutcome.LEFT_MESSAGE: gettext_lazy(
        "Marked: you left a message. The call is done."
    ),
}


@require_POST
def mark_call_view(request, pk):
    """Record one try at a call the user may see; a 403 for any other."""
    if not may_use_call_list(request.user):
        return _forbidden(request)
    call = call_requests_visible_to(request.user).filter(pk=pk).first()
    if call is None:
        return _forbidden(request)
    outcome = request.POST.get("outcome", "")
    try:
        record_call_attempt(call=call, outcome=outcome, user=request.user)
    except EventsError as error:
        if error.code == "call_closed":
            messages.warning(request, error.message)
            return _back_to_list(request)
        return TemplateResponse(
            request,
            "events/admin/calls_refused.html",
            {"message": error.message},
            status=400,
        )
    messages.success(request, str(SUCCESS[outcome]))
    return _back_to_list(request)


class CallsMenuItem(MenuItem):
    """Shown to whoever may open the call list. Wagtail's sidebar items have
    no badge, and a count in the label would cost a query on every admin
    page: the dashboard panel says how many wait."""

    def is_shown(self, request):
        return may_use_call_list(request.user)


class CallsWaitingPanel(Component):
    """ "N calls waiting" on the admin dashboard, linking to the list; only
    the calls the user may see, and nothing for anyone who may not."""

    name = "calls_waiting"
    template_name = "events/admin/calls_panel.html"
    order = 90

    def render_html(self, parent_context=None):
        if not may_use_call_list(parent_context["request"].user):
            return ""
        return super().render_html(parent_context)

    def get_context_data(self, parent_context):
        count = calls_to_make(parent_context["request"].user).count()
        return {
            "count": count,
            "text": ngettext("%(count)s call waiting", "%(count)s calls waiting", count)
            % {"count": count},
            "url": reverse("event_calls"),
        }
