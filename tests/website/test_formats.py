"""Dates are shown day first everywhere, as on the public pages."""

import datetime as dt

from django.template import Context, Template
from django.utils.formats import date_format


def test_dates_are_day_first_not_us_style():
    day = dt.date(2026, 8, 22)
    assert date_format(day) == "22 August 2026"
    assert date_format(day, "SHORT_DATE_FORMAT") == "2026-08-22"
    assert Template("{{ day }}").render(Context({"day": day})) == "22 August 2026"
