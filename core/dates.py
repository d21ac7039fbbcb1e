"""The site's clock: the one time zone sessions and spreadsheets keep."""

from zoneinfo import ZoneInfo

from django.conf import settings


def site_zone() -> ZoneInfo:
    """The site's time zone (``TIME_ZONE``), in which sessions keep their
    wall-clock times and spreadsheet times are read and written."""
    return ZoneInfo(settings.TIME_ZONE)
