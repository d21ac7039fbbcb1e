"""The coordinator's screen for erasing a person's details on request.

A coordinator finds a person across all events by email or phone (a POST,
so nothing they typed reaches a URL or a server log), sees what Gather
holds about them, ticks the registrations that are theirs and confirms.
The erasure itself is ``events.privacy.erase``: the ids posted back are
checked against the same search, so only what was found can be erased.
Only coordinators (and superusers) may open it; everyone else gets a 403.
"""

from django import forms
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core import audit
from core.http import private

from . import privacy
from .errors import EventsError
from .models import Registration
from .permissions import is_coordinator


class PersonSearchForm(forms.Form):
    """An email address or a phone number, as the person gave it."""

    email = forms.EmailField(label=gettext_lazy("Email address"), required=False)
    phone = forms.CharField(
        label=gettext_lazy("Phone number"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("In any format: spaces, dashes and +1 are ignored."),
    )

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        digits = sum(ch.isdigit() for ch in phone)
        if phone and digits < privacy.MIN_SEARCH_DIGITS:
            raise forms.ValidationError(
                _("Give the whole phone number, including the area code.")
            )
        return phone

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("email") and not cleaned.get("phone"):
            raise forms.ValidationError(_("Give an email address or a phone number."))
        return cleaned


class ErasureForm(PersonSearchForm):
    """The search again (hidden), the registrations chosen, and a check."""

    registrations = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Registrations to erase"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I have checked that these are the person's own registrations. "
            "Erasing cannot be undone."
        )
    )

    def __init__(self, *args, found=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget = forms.HiddenInput()
        self.fields["phone"].widget = forms.HiddenInput()
        self.fields["registrations"].choices = [
            (registration.pk, str(registration.pk)) for registration in found
        ]


#: Written when a coordinator searches for a person, with the number found.
PERSON_SEARCHED = "events.person.searched"


def _render(request, **context):
    response = TemplateResponse(request, "events/admin/erase_person.html", context)
    return private(response)


@never_cache
@require_http_methods(["GET", "POST"])
def erase_person_view(request):
    """Search, review and erase; see the module."""
    if not is_coordinator(request.user):
        # A 403 page of its own: Wagtail turns PermissionDenied into a
        # redirect to the dashboard, which would not say why.
        return TemplateResponse(
            request, "events/admin/erase_person_forbidden.html", {}, status=403
        )
    if request.method == "GET":
        return _render(request, search_form=PersonSearchForm())
    if "erase" in request.POST:
        return _erase(request)
    search_form = PersonSearchForm(request.POST)
    if not search_form.is_valid():
        return _render(request, search_form=search_form)
    found = privacy.find_person(**search_form.cleaned_data)
    # What was searched for stays out of the log: a count only.
    audit.log_access(
        ContentType.objects.get_for_model(Registration),
        PERSON_SEARCHED,
        user=request.user,
        title=_("Search for a person to erase: %(count)s registrations found")
        % {"count": len(found)},
        count=len(found),
    )
    erasure_form = ErasureForm(
        initial={
            **search_form.cleaned_data,
            "registrations": [registration.pk for registration in found],
        },
        found=found,
    )
    return _render(
        request,
        search_form=search_form,
        searched=True,
        found=found,
        erasure_form=erasure_form,
    )


def _erase(request):
    search = PersonSearchForm(request.POST)
    found = privacy.find_person(**search.cleaned_data) if search.is_valid() else []
    form = ErasureForm(request.POST, found=found)
    if form.is_valid():
        try:
            result = privacy.erase(
                registration_ids=form.cleaned_data["registrations"],
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
                user=request.user,
            )
        except EventsError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                ngettext(
                    "Erased the details of %(count)s registration.",
                    "Erased the details of %(count)s registrations.",
                    result.erased,
                )
                % {"count": result.erased}
                + " "
                + ngettext(
                    "Its %(records)s attendance records still count, anonymously.",
                    "Their %(records)s attendance records still count, anonymously.",
                    result.erased,
                )
                % {"records": result.attendance_records},
            )
            return redirect("erase_person")
    return _render(
        request,
        search_form=PersonSearchForm(initial=search.cleaned_data if found else None),
        searched=True,
        found=found,
        erasure_form=form,
    )
