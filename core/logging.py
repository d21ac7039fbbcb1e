"""Log lines for people and for log collectors, with no personal data.

Gather's own log calls name records by id and count them; they never pass
a name, an email address or a phone number. Two safety nets catch what
other code might still let through (an exception's message quoting a
value, a library logging a request):

* ``PersonalDataFilter`` masks anything shaped like an email address or a
  phone number in the message, its arguments and the traceback, before any
  handler sees the record.
* ``JsonFormatter`` writes one JSON object per line (``LOG_FORMAT=json``, the
  production default) for a log collector: time, level, logger, message,
  and the traceback as one string, so a multi-line error stays one event.
"""

import json
import logging
import re

#: Anything shaped like an email address.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Seven or more digits, with the spaces, dots, dashes, brackets or a
#: leading + that people write phone numbers with. Ids, counts, dates and
#: times have fewer digits in a row or other separators.
PHONE = re.compile(r"(?<![\w.])\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?![\w.])")
#: A date as logs write it (2026-12-01), which PHONE would otherwise take.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MASK = "[hidden]"


def _mask_phone(match: re.Match) -> str:
    return match.group() if ISO_DATE.search(match.group()) else MASK


def mask_personal_data(text: str) -> str:
    """``text`` with email addresses and phone numbers masked."""
    return PHONE.sub(_mask_phone, EMAIL.sub(MASK, text))


class PersonalDataFilter(logging.Filter):
    """Masks email addresses and phone numbers in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal_data(message)
        if masked != message:
            # Frozen into the message: the arguments may hold the value.
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time``, ``level``, ``logger``,
    ``message`` and, for errors, ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)
