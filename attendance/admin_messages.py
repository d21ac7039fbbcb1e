"""Wagtail admin screens for messages to a group (``attendance.group_messages``).

* **Choose the event** (``attendance_group_message_choose``, the "Message a
  group" menu item): the events the user may message.
* **Write, preview, send** (``attendance_group_message_compose``, also
  reached from an event's buttons in the page explorer and editor): the
  audience, the session (for those who came to or missed one) and the
  message. "Preview" shows the exact text message, its length and parts,
  the email, and how many people each channel reaches; "Send" sends what
  was previewed. Everything typed stays in the form, whatever goes wrong.
* **Sent messages** (``attendance_group_messages``): each message to the
  event's people and what came of it, per channel.

Coordinators may message any event, facilitators the events they
facilitate; anyone else gets a 403 page saying so. No screen names a
participant.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.http import private
from events.choosers import EventChoiceField
from events.models import EventPage, EventSession, GroupAudience

from . import group_messages as rules
from .errors import AttendanceError


class SessionChoiceField(forms.ModelChoiceField):
    """A session, shown by its local date and time."""

    def label_from_instance(self, obj):
        return formats.date_format(timezone.localtime(obj.start), "l j F Y, H:i")


class EventChoiceForm(forms.Form):
    """The event to message, among those the user may message, picked in
    the event chooser (``events.choosers``): the screen lists no events."""

    event = EventChoiceField(
        label=gettext_lazy("Event"), queryset=EventPage.objects.none()
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].choose_from("message", user)


class GroupMessageForm(forms.Form):
    """Who the message is for, and what it says."""

    audience = forms.ChoiceField(
        label=gettext_lazy("Who is it for?"),
        choices=GroupAudience.choices,
        widget=forms.RadioSelect,
        initial=GroupAudience.CONFIRMED,
    )
    session = SessionChoiceField(
        label=gettext_lazy("Session"),
        queryset=EventSession.objects.none(),
        required=False,
        empty_label=gettext_lazy("Choose a session"),
        help_text=gettext_lazy(
            "For those who came to a session or missed it: sessions that have started."
        ),
    )
    body = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=rules.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "Plain words; it goes by email and by text message. Up to "
            "600 characters. Do not name the group's topic: texts and "
            "emails must stay discreet."
        ),
    )

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = rules.sessions_to_message_about(event)

    def clean(self):
        cleaned = super().clean()
        audience = cleaned.get("audience")
        if audience in rules.ABOUT_A_SESSION:
            if not cleaned.get("session"):
                self.add_error("session", _("Choose the session the message is about."))
        else:
            cleaned["session"] = None
        return cleaned


def _forbidden(request):
    # A page of its own: Wagtail turns PermissionDenied into a redirect to
    # the dashboard, which would not say why.
    return TemplateResponse(
        request, "attendance/group_messages/forbidden.html", {}, status=403
    )


def _event(request, event_id):
    """The event, when the user may message it; otherwise None (a 403,
    whether or not it exists, so the answer tells nothing)."""
    event = EventPage.objects.filter(pk=event_id).first()
    if event is None or not rules.may_message(request.user, event):
        return None
    return event


@never_cache
@require_GET
def choose_event_view(request):
    """Choose the event to message; then the compose screen."""
    if not rules.may_message_any(request.user):
        return _forbidden(request)
    form = EventChoiceForm(request.GET or None, user=request.user)
    if form.is_bound and form.is_valid():
        return redirect(
            "attendance_group_message_compose", form.cleaned_data["event"].pk
        )
    return TemplateResponse(
        request, "attendance/group_messages/choose.html", {"form": form}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def compose_view(request, event_id):
    """Write a message, preview it, then send it (see the module)."""
    event = _event(request, event_id)
    if event is None:
        return _forbidden(request)
    if request.method == "GET":
        form = GroupMessageForm(event=event)
        return _render(request, event, form)
    form = GroupMessageForm(request.POST, event=event)
    if not form.is_valid():
        return _render(request, event, form)
    choice = form.cleaned_data
    previewed = rules.fingerprint(
        event=event,
        audience=choice["audience"],
        session=choice["session"],
        body=choice["body"],
    )
    if "confirm" in request.POST:
        if request.POST.get("previewed") != previewed:
            messages.warning(
                request,
                _("The message changed after the preview. Check it again, then send."),
            )
        else:
            try:
                message = rules.send_group_message(
                    event=event,
                    audience=choice["audience"],
                    session=choice["session"],
                    body=choice["body"],
                    user=request.user,
                )
            except rules.AlreadySent as error:
                messages.info(request, error.message)
                return redirect("attendance_group_messages", event.pk)
            except AttendanceError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    ngettext(
                        "Message sent to %(count)s person.",
                        "Message sent to %(count)s people.",
                        message.recipients,
                    )
                    % {"count": message.recipients},
                )
                return redirect("attendance_group_messages", event.pk)
    try:
        preview = rules.preview_group_message(
            event=event,
            audience=choice["audience"],
            session=choice["session"],
            body=choice["body"],
        )
    except AttendanceError as error:
        form.add_error(None, error.message)
        return _render(request, event, form)
    return _render(request, event, form, preview=preview, previewed=previewed)


def _render(request, event, form, *, preview=None, previewed=""):
    context = {
        "event": event,
        "form": form,
        "preview": preview,
        "previewed": previewed,
        "max_segments": rules.MAX_SEGMENTS,
        "sent_url": reverse("attendance_group_messages", args=[event.pk]),
        "can_send": preview is not None
        and preview.people > 0
        and not preview.too_long
        and not form.non_field_errors(),
    }
    response = TemplateResponse(
        request, "attendance/group_messages/compose.html", context
    )
    return private(response)


@never_cache
@require_GET
def sent_view(request, event_id):
    """The messages sent to the event's people, and what came of each."""
    event = _event(request, event_id)
    if event is None:
        return _forbidden(request)
    context = {
        "event": event,
        "sent": rules.sent_group_messages(event),
        "compose_url": reverse("attendance_group_message_compose", args=[event.pk]),
    }
    return TemplateResponse(request, "attendance/group_messages/sent.html", context)
