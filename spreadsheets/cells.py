"""Reading and showing single cells: text, whole numbers, yes/no, choices,
dates and times in the site's time zone."""

import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import site_zone


def format_local(value) -> str:
    """A datetime as the site's wall-clock time, '2026-09-14 18:00'."""
    local = (
        timezone.localtime(value, site_zone()) if timezone.is_aware(value) else value
    )
    if local.second or local.microsecond:
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value) -> str:
    """A cell as text: numbers without a stray '.0', empty cells as ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return format_local(value)
    return str(value).strip()


def parse_datetime(value, *, column_label) -> dt.datetime:
    """A cell as an aware datetime in the site's zone.

    Takes Excel date cells, ISO text ('2026-09-14 18:00', with or without
    seconds, 'T' or an offset) and Excel serial numbers. Raises ValueError
    with a message naming the column.
    """
    zone = site_zone()
    parsed = None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel serial day number (1954-2119)
            from openpyxl.utils.datetime import from_excel

            parsed = from_excel(value)
    elif isinstance(value, str):
        text = value.strip().replace("/", "-")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None and len(text) <= 10:
            parsed = None  # a date alone: the time is missing
    if parsed is None:
        raise ValueError(
            _("Write the %(column)s date and time like 2026-09-14 18:00.")
            % {"column": column_label}
        )
    if parsed.microsecond:
        # Excel keeps times as fractions of a day; round to the second.
        parsed = (parsed + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def parse_time(value):
    """A cell holding only a time ('19:30' or an Excel time cell), or None."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and re.fullmatch(
        r"\d{1,2}:\d{2}(:\d{2})?", value.strip()
    ):
        try:
            return dt.time.fromisoformat(value.strip().zfill(5))
        except ValueError:
            return None
    return None


#: The largest whole number a cell may hold: the largest an integer column
#: stores on every database (PostgreSQL's ``integer``). A larger one would
#: fail when saved or looked up, taking the whole import with it.
MAX_WHOLE_NUMBER = 2_147_483_647


def parse_int(value, *, column_label, minimum=0, maximum=MAX_WHOLE_NUMBER):
    """A whole number from a cell, or None for an empty cell."""
    if is_empty(value):
        return None
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\d+(\.0+)?", value.strip()):
        number = int(value.strip().split(".")[0])
    if number is None or number < minimum:
        raise ValueError(
            _("%(column)s must be a whole number of %(minimum)s or more.")
            % {"column": column_label, "minimum": minimum}
        )
    if number > maximum:
        raise ValueError(
            _("%(column)s is too large: write a number up to %(maximum)s.")
            % {"column": column_label, "maximum": f"{maximum:,}"}
        )
    return number


TRUE_WORDS = {"1", "true", "yes", "y", "x", "✓", "oui"}
FALSE_WORDS = {"", "0", "false", "no", "n", "non"}


def parse_bool(value, *, column_label) -> bool:
    """'yes'/'no' (and true/false, 1/0, x) from a cell; empty means no."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = as_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(_("Write yes or no in %(column)s.") % {"column": column_label})


def parse_choice(value, choices, *, column_label, default=None):
    """A TextChoices value from its value or its label, any case."""
    if is_empty(value):
        return default
    text = as_text(value).lower()
    for choice_value, label in choices.choices:
        if text in (str(choice_value).lower(), str(label).lower()):
            return choice_value
    raise ValueError(
        _("%(column)s must be one of: %(choices)s.")
        % {"column": column_label, "choices": ", ".join(choices.values)}
    )


# The resource base class --------------------------------------------------------


def display_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return format_local(value)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
