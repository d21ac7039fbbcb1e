"""Log lines: one JSON object each in production, no personal data ever."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from core.logging import JsonFormatter, PersonalDataFilter, mask_personal_data


def _logger(formatter):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(PersonalDataFilter())
    logger = logging.getLogger(f"tests.logging.{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, stream


@pytest.mark.parametrize(
    "text",
    [
        "alex.river+groups@example.org",
        "416-555-0123",
        "(416) 555-0123",
        "+1 416 555 0123",
        "4165550123",
        "+14165550123",
    ],
)
def test_email_addresses_and_phone_numbers_are_masked(text):
    assert mask_personal_data(f"sent to {text} today") == "sent to [hidden] today"


@pytest.mark.parametrize(
    "text",
    [
        "registration 123456 confirmed",
        "3 of 12 places, session 2026-12-01 18:00",
        "took 1234.5 ms",
        "/events/walking-group/ answered 200",
    ],
)
def test_ids_counts_dates_and_paths_are_kept(text):
    assert mask_personal_data(text) == text


def test_a_json_line_per_record_with_the_traceback_inside_and_masked():
    logger, stream = _logger(JsonFormatter())
    logger.info("Delivery %s sent to %s", 42, "sam@example.org")
    try:
        raise ValueError("No such number: 416 555 0199")
    except ValueError:
        logger.exception("Sending failed for delivery %s", 43)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "Delivery 42 sent to [hidden]"
    assert first["level"] == "INFO" and first["logger"].startswith("tests.logging")
    assert "time" in first and "exception" not in first
    assert second["message"] == "Sending failed for delivery 43"
    assert "ValueError: No such number: [hidden]" in second["exception"]
    assert "555" not in stream.getvalue()


def _settings_log_format(module, **environ):
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.LOGGING['handlers']['console']['formatter'])"
    )
    env = {
        **{name: value for name, value in os.environ.items() if name != "LOG_FORMAT"},
        "DJANGO_SETTINGS_MODULE": module,
        "SECRET_KEY": "x" * 50,
        "GATHER_FIELD_ENCRYPTION_KEYS": "B6Xkx6kYYb-6y6qk1oIGxRhg1KULbnJPKVzBjJQJYfI=",
        **environ,
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    return result


def test_production_logs_json_and_development_plain_unless_told():
    assert _settings_log_format("website.settings.production").stdout.strip() == "json"
    assert _settings_log_format("website.settings.dev").stdout.strip() == "plain"
    told = _settings_log_format("website.settings.production", LOG_FORMAT="plain")
    assert told.stdout.strip() == "plain"
    wrong = _settings_log_format("website.settings.dev", LOG_FORMAT="xml")
    assert wrong.returncode != 0
    assert "LOG_FORMAT is 'xml': use plain or json." in wrong.stderr
