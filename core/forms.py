"""Form helpers shared by the public site and the admin."""

import re
from functools import cached_property

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from phonenumber_field.widgets import RegionalPhoneNumberWidget

#: What a search looks for: words (letters and digits, any script).
WORDS = re.compile(r"\w+")


def search_words(text: str) -> str:
    """The words of a search, without quotes and symbols: search backends
    read some of them as syntax (SQLite's full-text search fails on an
    unmatched quote)."""
    return " ".join(WORDS.findall(text))


class SearchWordsMixin:
    """For admin listings: search for the words of the query only (see
    ``search_words``)."""

    @cached_property
    def search_query(self):
        form = self.search_form
        if form and form.is_valid():
            return search_words(form.cleaned_data[self.search_kwarg])
        return ""


#: The largest id a database key holds (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def plausible_id(value) -> bool:
    """Whether ``value`` could be a database id: digits, 1 to ``MAX_ID``."""
    text = str(value)
    return text.isdigit() and len(text) <= 19 and 0 < int(text) <= MAX_ID


class PageChoiceField(forms.ModelChoiceField):
    """A page (or any model) chosen by id. Anything that is not a plausible
    id is an invalid choice before it reaches the database: a page's id is a
    one-to-one key, which Django does not range-check, and SQLite fails on
    integers over 64 bits."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not plausible_id(value):
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class PageChoiceFilter(django_filters.ModelChoiceFilter):
    """A listing filter on a page, with ``PageChoiceField``'s checks."""

    field_class = PageChoiceField


class IdConverter:
    """``<id:name>`` in URL patterns: a plausible database id, else no match
    (a 404) instead of a database error."""

    regex = "[0-9]{1,19}"

    def to_python(self, value):
        if not plausible_id(value):
            raise ValueError(value)
        return int(value)

    def to_url(self, value):
        return str(value)


class AccessibleErrorsMixin:
    """Links each field's error message to its input for screen readers.

    Django already points ``aria-describedby`` at the help text; once a
    field has an error, the error paragraph (``<id>_error``, as rendered by
    ``includes/form_field.html``) is added to it.
    """

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name not in self.fields:
                continue
            bound = self[name]
            described_by = [f"{bound.auto_id}_error"]
            if bound.help_text:
                described_by.insert(0, f"{bound.auto_id}_helptext")
            self.fields[name].widget.attrs["aria-describedby"] = " ".join(described_by)


class TypedPhoneNumberWidget(RegionalPhoneNumberWidget):
    """A phone number input that shows back exactly what the person typed.

    ``RegionalPhoneNumberWidget`` reformats whatever it can parse, so a
    wrong number ("416-555-01") would come back as other digits next to its
    error. Only a stored number (a ``PhoneNumber``) is formatted, in the
    region's own way.
    """

    def format_value(self, value):
        if isinstance(value, str):
            return value
        return super().format_value(value)
