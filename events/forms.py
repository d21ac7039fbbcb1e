"""Public forms for signing up."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import AccessibleErrorsMixin

from .consent import CONSENT_WORDING
from .models import Channel
from .registration import phone_too_short


class SignUpForm(AccessibleErrorsMixin, forms.Form):
    """Only what is needed to hold a place and reach the person."""

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
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        required=False,
        help_text=_("If you have no email, we will call or text you to confirm."),
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}
        ),
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
        phone = self.cleaned_data["phone"].strip()
        if phone_too_short(phone):
            raise forms.ValidationError(
                _("Please enter the whole number, including the area code.")
            )
        return phone

    def clean(self):
        cleaned = super().clean()
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
