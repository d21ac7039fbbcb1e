"""Public forms for signing up."""

from django import forms
from django.utils import dateformat, timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from core.forms import AccessibleErrorsMixin, TypedPhoneNumberWidget
from core.phones import INVALID_PHONE_MESSAGE, PHONE_HELP_TEXT, to_e164

from .consent import CONSENT_WORDING
from .models import Channel
from .questions import QuestionFieldsMixin

#: "May we leave a voicemail?": no unless the person says yes.
VOICEMAIL_CHOICES = [("no", _("No")), ("yes", _("Yes"))]


class SignUpForm(QuestionFieldsMixin, AccessibleErrorsMixin, forms.Form):
    """Only what is needed to hold a place and reach the person, then the
    event's own questions (``questions=``, added by ``QuestionFieldsMixin``
    after these fields)."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=120,
        help_text=_("The name you would like us to call you. A first name is fine."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        help_text=_("We send your confirmation and your private link here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # Read in the site's region (PHONENUMBER_DEFAULT_REGION); valid numbers
    # only, the rule of ``core.phones.to_e164``.
    phone = PhoneNumberField(
        label=_("Phone number"),
        max_length=40,
        required=False,
        help_text=format_lazy(
            "{} {}",
            PHONE_HELP_TEXT,
            _(
                "If you have no email, we will text you (if you agree below) "
                "or call you to confirm."
            ),
        ),
        error_messages={"invalid": INVALID_PHONE_MESSAGE},
        widget=TypedPhoneNumberWidget(
            attrs={"autocomplete": "tel", "inputmode": "tel"}
        ),
    )
    # For the call list staff use; kept only with a phone number.
    call_times = forms.CharField(
        label=_("Best times to call you"),
        max_length=100,
        required=False,
        help_text=_("For example: weekday mornings."),
    )
    voicemail_ok = forms.TypedChoiceField(
        label=_("May we leave a voicemail?"),
        choices=VOICEMAIL_CHOICES,
        coerce=lambda answer: answer == "yes",
        empty_value=False,
        initial="no",
        required=False,
        help_text=_("Phones are often shared, so we do not unless you say yes."),
        widget=forms.RadioSelect,
    )
    support_needs = forms.CharField(
        label=_("Anything that would help you take part? (optional)"),
        max_length=2000,
        required=False,
        help_text=_(
            "For example: step-free access, a hearing loop, a support person "
            "coming with you. Only the organisers and facilitators see this."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # One box per channel, worded in ``events.consent`` (and recorded with
    # its version), so each way of contacting someone has its own consent.
    consent_email = forms.BooleanField(
        label=CONSENT_WORDING[Channel.EMAIL], required=False
    )
    consent_text = forms.BooleanField(
        label=CONSENT_WORDING[Channel.TEXT], required=False
    )
    consent_call = forms.BooleanField(
        label=CONSENT_WORDING[Channel.CALL], required=False
    )
    # Honeypot: hidden from people, filled in by bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_phone(self):
        """The number in E.164 ("+14165550123"), or "" when none was given."""
        return to_e164(self.cleaned_data["phone"])

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone"):
            # Call times and voicemail mean nothing without a number to call.
            cleaned["call_times"], cleaned["voicemail_ok"] = "", False
        if (
            not cleaned.get("email")
            and not cleaned.get("phone")
            and "email" not in self.errors
            and "phone" not in self.errors
        ):
            self.add_error(
                "email",
                _("Please give an email address or a phone number to reach you."),
            )
        return cleaned

    @property
    def consent_channels(self) -> list[str]:
        """The channels the person ticked (after ``is_valid``)."""
        return [
            channel
            for channel in Channel.values
            if self.cleaned_data.get(f"consent_{channel}")
        ]

    @property
    def is_spam(self):
        return bool(self.data.get("website"))


class DropInSignUpForm(SignUpForm):
    """The sign-up form of a drop-in event (``sign_up_per`` "session"): the
    same details, and a box for each date still open, so people choose the
    dates they come to in one go (``events.drop_in.register_sessions``).

    Each box is labelled with the date, the time and where it stands ("2
    places left", "Full, join the waitlist"); a box posted for a date not on
    the list (another event's, a past or cancelled one, a made-up number) is
    an error next to the dates, never a failure."""

    field_order = ["sessions"]

    sessions = forms.MultipleChoiceField(
        label=_("Which dates would you like to come to?"),
        help_text=_(
            "Tick each date you would like a place for. Each date has its "
            "own place, and you can cancel one without the others."
        ),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Please choose at least one date."),
            "invalid_choice": _(
                "One of the dates you chose is not open for sign-up. "
                "Please choose from the list."
            ),
        },
    )

    def __init__(self, *args, sessions=(), places=None, **kwargs):
        super().__init__(*args, **kwargs)
        places = places or {}
        self.session_rows = []
        choices = []
        for session in sessions:
            standing = places.get(session.pk)
            label = _date_label(session, standing.label if standing else "")
            choices.append((str(session.pk), label))
            self.session_rows.append((session, standing))
        self.fields["sessions"].choices = choices

    @property
    def session_ids(self) -> list[int]:
        """The dates ticked (after ``is_valid``)."""
        return [int(value) for value in self.cleaned_data.get("sessions", [])]


def _date_label(session, standing: str) -> str:
    """'Tuesday 8 December, 6:00 pm to 7:30 pm (2 places left)'."""
    start = timezone.localtime(session.start)
    end = timezone.localtime(session.end)
    label = _("%(day)s, %(start)s to %(end)s") % {
        "day": dateformat.format(start, "l j F"),
        "start": dateformat.format(start, "g:i a"),
        "end": dateformat.format(end, "g:i a"),
    }
    return f"{label} ({standing})" if standing else label
