"""Phone numbers: reading what people type, and tappable links in content.

A number someone gives is read with ``phonenumbers`` (through
``django-phonenumber-field``) in the site's region
(``PHONENUMBER_DEFAULT_REGION``) and kept in E.164 (``+14165550123``), so
two ways of typing one number are the same value: ``to_e164``.

Tappable phone numbers: ``tel:`` and ``sms:`` links in plain and rich text.

Someone in crisis reading "Call 988" on a phone should be one tap away from
the call. Numbers are found by their shape, never by "any run of digits":
a full North American or international number is always linked; a short
number (988, 211, 686868) only right after "call", "text" and the like, so
dates, times, room numbers and prices stay plain text.
"""

import re

from django.conf import settings
from django.utils.functional import lazy
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import to_python
from phonenumbers import (
    PhoneNumberFormat,
    PhoneNumberType,
    example_number_for_type,
    format_number,
    region_code_for_number,
)


def phone_example(region: str | None = None) -> str:
    """A number as people in ``region`` (the site's when None) write it, from
    ``phonenumbers``' example mobile number: "(506) 234-5678" in Canada,
    "07400 123456" in the United Kingdom; "" for a region it has none for."""
    region = region or settings.PHONENUMBER_DEFAULT_REGION
    number = example_number_for_type(region, PhoneNumberType.MOBILE)
    if number is None:
        return ""
    return format_number(number, PhoneNumberFormat.NATIONAL)


def _phone_help_text() -> str:
    example = phone_example()
    if not example:
        return _(
            "A mobile or landline number. For a number in another country, "
            "start with + and its country code."
        )
    # No country named: "outside %(country)s" reads badly for many of them.
    return _(
        "A mobile or landline number, for example %(example)s. For a number "
        "in another country, start with + and its country code."
    ) % {"example": example}


def _invalid_phone_message() -> str:
    example = phone_example()
    if not example:
        return _("Enter a phone number we can call or text.")
    return _("Enter a phone number we can call or text, for example %(example)s.") % {
        "example": example
    }


#: The help text next to every Phone field (the sign-up form, the admin's
#: registration forms): what to type, with an example of the site's region
#: (``PHONENUMBER_DEFAULT_REGION``), read when the page is shown.
PHONE_HELP_TEXT = lazy(_phone_help_text, str)()

#: What a person is told next to a number that cannot be read, in every form
#: and import, so the advice is the same everywhere.
INVALID_PHONE_MESSAGE = lazy(_invalid_phone_message, str)()


class InvalidPhoneNumber(ValueError):
    """A typed value that is not a phone number anyone could call."""


def to_e164(value, *, region: str | None = None) -> str:
    """A typed phone number in E.164 (``"+14165550123"``); ``""`` for a blank.

    ``value`` is read in ``region`` (the site's ``PHONENUMBER_DEFAULT_REGION``
    when None), so a local number needs its area code and a number abroad its
    ``+`` and country code. Only numbers ``phonenumbers`` holds valid (a real
    range of a real country's plan, not just the right length) are accepted:
    anything else raises ``InvalidPhoneNumber``. A stored number (a
    ``PhoneNumber``) comes back as its E.164 text.
    """
    if value is None or not str(value).strip():
        return ""
    region = region or settings.PHONENUMBER_DEFAULT_REGION
    if isinstance(value, str):
        value = value.strip()
    number = to_python(value, region=region)
    if not number.is_valid():
        raise InvalidPhoneNumber(str(value))
    return number.as_e164


def phone_display(value) -> str:
    """A stored number as staff dial it: "(416) 555-0123" for a number of
    the site's region, "+44 20 7946 0958" for one abroad; "" for none."""
    if not value:
        return ""
    region = settings.PHONENUMBER_DEFAULT_REGION
    number = to_python(value, region=region)
    if not number.is_valid():
        return str(value)
    if region_code_for_number(number) == region:
        return number.as_national
    return number.as_international


#: A full number: +1 (416) 555-0100, 1-800-668-6868, 416.555.0100, 555-0100,
#: or an international +44 20 7946 0958. The look-arounds keep digits that
#: belong to a word, a date, a path or an HTML entity (&#39;) out.
FULL_NUMBER = (
    r"\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}"
    r"|(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}"
    r"|\d{3}-\d{4}"
)
SHORT_NUMBER = r"\d{3,6}"
NUMBER = re.compile(
    rf"(?<![\w#&;/=+.:-])(?:(?P<full>{FULL_NUMBER})|(?P<short>{SHORT_NUMBER}))"
    r"(?![\w/:-]|[.,]\d)"
)

#: Words just before a number that say how to use it: "Call 988",
#: "call or text us on 988", "Text HOME to 686868", "phone: 211".
LEAD_IN = re.compile(
    r"\b(?P<first>call|phone|telephone|dial|ring|text|txt|sms)"
    r"(?:\s+(?:or|and)\s+(?P<second>call|phone|dial|text|txt))?"
    r"(?:\s+us)?"
    r"(?:\s+(?P<keyword>[A-Za-z]{2,20})\s+to|\s+on|\s+at)?"
    r"\s*:?\s+$",
    re.IGNORECASE,
)
TEXT_WORDS = {"text", "txt", "sms"}
#: "Call 988 or 911": a second number right after a linked one is linked alike.
CONTINUATION = re.compile(r"^\s*(?:,|or|and|/)\s*$", re.IGNORECASE)

#: Tags that end a sentence's run of text, so "Call" in one paragraph never
#: reaches a number in the next.
BLOCK_TAG = re.compile(r"^</?(?:p|li|ul|ol|br|div|h[1-6]|td|tr|table)\b", re.I)
TAG = re.compile(r"(<[^>]*>)")


def _href(number: str, *, sms: bool, keyword: str | None) -> str:
    digits = re.sub(r"\D", "", number)
    if number.lstrip().startswith("+"):
        digits = "+" + digits
    if not sms:
        return f"tel:{digits}"
    return f"sms:{digits}?body={keyword}" if keyword else f"sms:{digits}"


def _link_text(text: str, before: str) -> str:
    """Link the numbers in one run of escaped text; ``before`` is the text
    that came just before it in the same sentence (across inline tags)."""
    pieces, last, previous = [], 0, None
    for match in NUMBER.finditer(text):
        between = text[last : match.start()]
        lead_in = LEAD_IN.search(before + between)
        if lead_in:
            words = {lead_in["first"].lower(), (lead_in["second"] or "").lower()}
            sms = words - {""} <= TEXT_WORDS
            keyword = lead_in["keyword"] if sms else None
        elif previous and CONTINUATION.match(between):
            sms, keyword = previous
        elif match.group("full"):
            sms, keyword = False, None
        else:
            continue
        href = _href(match.group(), sms=sms, keyword=keyword)
        pieces += [between, f'<a href="{href}">{match.group()}</a>']
        before, last, previous = "", match.end(), (sms, keyword)
    pieces.append(text[last:])
    return "".join(pieces)


def link_phone_numbers(value) -> str:
    """``value`` with its phone numbers as ``tel:``/``sms:`` links, safe HTML.

    Plain text is escaped first. HTML (marked safe, or a rich text object)
    has only its text between tags changed, and never inside a link.
    """
    # Safe strings and objects that render themselves as HTML (Wagtail's
    # RichText, which the ``richtext`` filter returns for a block's value).
    html = value.__html__() if hasattr(value, "__html__") else str(escape(value))
    out, before, link_depth = [], "", 0
    for part in TAG.split(html):
        if part.startswith("<"):
            if re.match(r"^<a[\s>]", part, re.I):
                link_depth += 1
            elif re.match(r"^</a\s*>", part, re.I):
                link_depth = max(0, link_depth - 1)
            if BLOCK_TAG.match(part):
                before = ""
            out.append(part)
            continue
        out.append(part if link_depth else _link_text(part, before))
        before = (before + part)[-80:]
    return mark_safe(  # noqa: S308 - built from escaped text and our own links
        "".join(out)
    )


#: An extension right after a number: "ext. 22", "extension 22", "x22".
EXTENSION = re.compile(r"\s*,?\s*(?:ext\.?|extension|x)\s*(\d{1,6})\b", re.I)


def phone_link(value) -> str:
    """A contact phone number as a ``tel:`` link, safe HTML.

    Only the number is dialled: an extension after it becomes ``;ext=``, and
    words around it ("Mon-Fri 9-5") stay plain text beside the link, so no
    stray digit joins the number. A value with no number in it (or a short
    one such as "211" on its own) is linked only when it is a number.
    """
    text = str(value)
    match = next((m for m in NUMBER.finditer(text) if m.group("full")), None)
    if match is None:
        if not re.fullmatch(r"\s*\d{3,6}\s*", text):
            return escape(text)
        match = re.search(r"\d{3,6}", text)
    href = _href(match.group(), sms=False, keyword=None)
    end = match.end()
    extension = EXTENSION.match(text, end)
    if extension:
        href += f";ext={extension[1]}"
        end = extension.end()
    return mark_safe(  # noqa: S308 - every piece of the value is escaped
        f"{escape(text[: match.start()])}"
        f'<a href="{href}">{escape(text[match.start() : end])}</a>'
        f"{escape(text[end:])}"
    )


def stored_e164(value) -> str:
    """A stored number (``Registration.phone``) as E.164 text, "" for none,
    without validating it again: ``str()`` and ``bool()`` of a
    ``PhoneNumber`` each run the full validation, a third of a
    millisecond, which a message to a thousand people pays many times."""
    if value is None or isinstance(value, str):
        return value or ""
    if not value.national_number:
        return value.raw_input or ""
    return value.as_e164
