"""Registers the spreadsheet import and export screens (background exports
included), their menu and their audit-log actions."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from . import views
from .exports import exporters
from .registry import resource_class, resources


@hooks.register("register_admin_urls")
def register_spreadsheet_urls():
    return [
        path(
            "spreadsheets/import/<str:key>/",
            views.import_view,
            name="spreadsheets_import",
        ),
        path("spreadsheets/imports/", views.jobs_view, name="spreadsheets_jobs"),
        path(
            "spreadsheets/imports/<int:pk>/",
            views.job_view,
            name="spreadsheets_job",
        ),
        path(
            "spreadsheets/imports/<int:pk>/confirm/",
            views.confirm_view,
            name="spreadsheets_confirm",
        ),
        path(
            "spreadsheets/export/<str:key>/",
            views.export_view,
            name="spreadsheets_export",
        ),
        path("spreadsheets/exports/", views.exports_view, name="spreadsheets_exports"),
        path(
            "spreadsheets/exports/<int:pk>/",
            views.export_job_view,
            name="spreadsheets_export_job",
        ),
        path(
            "spreadsheets/exports/<int:pk>/download/",
            views.export_download_view,
            name="spreadsheets_export_download",
        ),
    ]


@hooks.register("register_log_actions")
def register_spreadsheet_log_actions(actions):
    actions.register_action(
        "spreadsheets.export", _("Export a spreadsheet"), _("Spreadsheet exported")
    )
    actions.register_action(
        "spreadsheets.import", _("Import a spreadsheet"), _("Spreadsheet imported")
    )


class ResourceMenuItem(MenuItem):
    """A menu item shown only to people allowed to import ``key``."""

    def __init__(self, key, *args, **kwargs):
        self.key = key
        super().__init__(*args, **kwargs)

    def is_shown(self, request):
        return resource_class(self.key).can_import(request.user)


class RecentImportsMenuItem(MenuItem):
    """Shown to anyone allowed to import at least one resource."""

    def is_shown(self, request):
        return any(
            resource_cls.can_import(request.user)
            for resource_cls in resources().values()
        )


class RecentExportsMenuItem(MenuItem):
    """Shown to anyone allowed at least one export built in the background."""

    def is_shown(self, request):
        return any(
            exporter.can_export(request.user) for exporter in exporters().values()
        )


@hooks.register("register_admin_menu_item")
def register_spreadsheet_menu():
    items = [
        ResourceMenuItem(
            key,
            resource_cls.menu_label,
            reverse("spreadsheets_import", args=[key]),
            icon_name="upload",
            order=10 * position,
        )
        for position, (key, resource_cls) in enumerate(resources().items(), start=1)
    ]
    items.append(
        RecentImportsMenuItem(
            _("Recent imports"),
            reverse("spreadsheets_jobs"),
            icon_name="history",
            order=100,
        )
    )
    items.append(
        RecentExportsMenuItem(
            _("Recent exports"),
            reverse("spreadsheets_exports"),
            icon_name="download",
            order=110,
        )
    )
    return SubmenuMenuItem(
        _("Spreadsheets"),
        Menu(items=items),
        icon_name="table",
        order=220,
    )
