"""The spreadsheet import and export engine, below the apps whose data it moves."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpreadsheetsConfig(AppConfig):
    """File formats, cell parsers, the resource base class, import jobs and
    their background task, and the admin screens.

    Apps register their resources through the ``register_spreadsheet_resources``
    hook (``spreadsheets.registry``); nothing here imports them.
    """

    name = "spreadsheets"
    verbose_name = _("Spreadsheets")
