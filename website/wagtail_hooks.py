"""Registers the spreadsheet import and export screens, their menu and their
audit-log actions (see ``website.spreadsheets``), and names the admin menu's
reports plainly."""

import copy

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from . import spreadsheets


@hooks.register("register_admin_urls")
def register_spreadsheet_urls():
    return [
        path(
            "spreadsheets/import/<str:key>/",
            spreadsheets.import_view,
            name="spreadsheets_import",
        ),
        path("spreadsheets/imports/", spreadsheets.jobs_view, name="spreadsheets_jobs"),
        path(
            "spreadsheets/imports/<int:pk>/",
            spreadsheets.job_view,
            name="spreadsheets_job",
        ),
        path(
            "spreadsheets/imports/<int:pk>/confirm/",
            spreadsheets.confirm_view,
            name="spreadsheets_confirm",
        ),
        path(
            "spreadsheets/export/<str:key>/",
            spreadsheets.export_view,
            name="spreadsheets_export",
        ),
    ]


@hooks.register("register_log_actions")
def register_spreadsheet_log_actions(actions):
    actions.register_action(
        "website.export", _("Export a spreadsheet"), _("Spreadsheet exported")
    )
    actions.register_action(
        "website.import", _("Import a spreadsheet"), _("Spreadsheet imported")
    )


class ResourceMenuItem(MenuItem):
    """A menu item shown only to people allowed to import ``key``."""

    def __init__(self, key, *args, **kwargs):
        self.key = key
        super().__init__(*args, **kwargs)

    def is_shown(self, request):
        return spreadsheets.resource_class(self.key).can_import(request.user)


class RecentImportsMenuItem(MenuItem):
    def is_shown(self, request):
        return any(
            spreadsheets.resource_class(key).can_import(request.user)
            for key in spreadsheets.RESOURCES
        )


MENU_LABELS = {
    "venues": _("Import venues"),
    "schedule": _("Import a session schedule"),
    "registrations": _("Import registrations"),
    "attendance": _("Import attendance"),
}


@hooks.register("register_admin_menu_item")
def register_spreadsheet_menu():
    items = [
        ResourceMenuItem(
            key,
            MENU_LABELS[key],
            reverse("spreadsheets_import", args=[key]),
            icon_name="upload",
            order=10 * position,
        )
        for position, key in enumerate(spreadsheets.RESOURCES, start=1)
    ]
    items.append(
        RecentImportsMenuItem(
            _("Recent imports"),
            reverse("spreadsheets_jobs"),
            icon_name="history",
            order=100,
        )
    )
    return SubmenuMenuItem(
        _("Spreadsheets"),
        Menu(items=items),
        icon_name="table",
        order=220,
    )


#: Wagtail's own reports submenu (locked pages, workflows, site history...).
WAGTAIL_REPORTS_MENU = "reports"


@hooks.register("construct_main_menu")
def name_wagtail_reports_menu(request, menu_items):
    """Call Wagtail's reports "Site reports": with Gather's "Attendance
    reports" beside it, two items both called "Reports" would leave a
    coordinator guessing which one holds the attendance numbers."""
    for index, item in enumerate(menu_items):
        if item.name == WAGTAIL_REPORTS_MENU:
            # A copy: the registered item is shared by every request.
            renamed = copy.copy(item)
            renamed.label = _("Site reports")
            menu_items[index] = renamed
