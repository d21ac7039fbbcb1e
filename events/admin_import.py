"""Wagtail admin screen for importing a calendar (.ics) file.

Upload, see a preview of what will be created or updated, then confirm.
The file waits in the coordinator's session between the two steps.
"""

import base64
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core import audit
from core.forms import PageChoiceField

from . import ics_import
from .errors import EventsError
from .models import EventIndexPage

SESSION_KEY = "events.ics_import"


class UploadForm(forms.Form):
    """The calendar file, its source's name and where new events go."""

    calendar_file = forms.FileField(label=gettext_lazy("Calendar file (.ics)"))
    source = forms.CharField(
        label=gettext_lazy("Where it comes from"),
        max_length=255,
        required=False,
        help_text=gettext_lazy(
            "A name for this calendar, e.g. 'Riverside Library'. Use the same "
            "name next time so events are updated, not added twice. Leave empty "
            "to use the calendar's own name."
        ),
    )
    parent = PageChoiceField(
        queryset=EventIndexPage.objects.order_by("title"),
        label=gettext_lazy("Put new events in"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The caps are settings, so the help says what this site's are.
        self.fields["calendar_file"].help_text = _(
            "An .ics file of up to 2 MB, with at most %(per_event)s sessions an "
            "event and %(per_file)s in all in the coming year. Export it from "
            "the partner's calendar app."
        ) % {
            "per_event": f"{ics_import.max_occurrences():,}",
            "per_file": f"{ics_import.max_sessions():,}",
        }

    def clean_calendar_file(self):
        """Refuse a file too large, or not named as a calendar, before it is
        read; what it holds is checked by ``ics_import.read_calendar``."""
        upload = self.cleaned_data["calendar_file"]
        if upload.size > ics_import.MAX_ICS_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 2 MB. Export a shorter date range.")
            )
        if Path(upload.name).suffix.lower() not in ics_import.ICS_EXTENSIONS:
            raise forms.ValidationError(
                _(
                    "Upload a calendar file: its name ends in .ics. Export it "
                    "from the calendar app as iCalendar (.ics)."
                )
            )
        return upload


def _allowed(user, index):
    return (
        user.has_perm("events.add_eventsession")
        and index.permissions_for_user(user).can_add_subpage()
    )


@require_http_methods(["GET", "POST"])
def import_view(request):
    """Step 1: upload and preview. Step 2 (``confirm``): create the drafts."""
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(request)
    form = UploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    plan = None
    if request.method == "POST" and form.is_valid():
        index = form.cleaned_data["parent"]
        if not _allowed(request.user, index):
            raise PermissionDenied
        data = form.cleaned_data["calendar_file"].read()
        try:
            calendar = ics_import.read_calendar(data)
            fallback = Path(form.cleaned_data["calendar_file"].name).stem
            source = form.cleaned_data["source"] or ics_import.source_name(
                calendar, fallback
            )
            plan = ics_import.plan_import(data, source=source)
        except EventsError as error:
            form.add_error("calendar_file", error.message)
        else:
            request.session[SESSION_KEY] = {
                "data": base64.b64encode(data).decode(),
                "source": plan.source,
                "parent": index.pk,
            }
    return TemplateResponse(
        request, "events/admin/ics_import.html", {"form": form, "plan": plan}
    )


def _confirm(request):
    pending = request.session.pop(SESSION_KEY, None)
    if not pending:
        messages.error(request, _("Nothing to import. Please upload the file again."))
        return redirect("events_ics_import")
    index = EventIndexPage.objects.filter(pk=pending["parent"]).first()
    if index is None or not _allowed(request.user, index):
        raise PermissionDenied
    try:
        plan = ics_import.plan_import(
            base64.b64decode(pending["data"]), source=pending["source"]
        )
        # The session workflows it calls log their changes as this import's.
        with audit.acting(by=audit.IMPORT, user=request.user):
            result = ics_import.apply_import(plan, index=index, user=request.user)
    except EventsError as error:
        messages.error(request, error.message)
        return redirect("events_ics_import")
    messages.success(
        request,
        _(
            "Imported: %(created)s new draft events, %(updated)s updated; "
            "%(added)s sessions added, %(changed)s moved, %(cancelled)s cancelled. "
            "Review the drafts and publish them when ready."
        )
        % {
            "created": result.created,
            "updated": result.updated,
            "added": result.sessions_added,
            "changed": result.sessions_changed,
            "cancelled": result.sessions_cancelled,
        },
    )
    return redirect("wagtailadmin_explore", index.pk)
