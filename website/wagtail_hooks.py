"""Names the admin menu's reports plainly, and adds the roles page."""

import copy

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from events.permissions import is_coordinator

from .admin_roles import roles_view

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


@hooks.register("register_admin_urls")
def register_roles_url():
    return [path("roles/", roles_view, name="gather_roles")]


class RolesMenuItem(MenuItem):
    """Shown to coordinators (and superusers) only, as the page is."""

    def is_shown(self, request):
        return is_coordinator(request.user)


@hooks.register("register_admin_menu_item")
def register_roles_menu_item():
    return RolesMenuItem(
        _("Roles"), reverse("gather_roles"), name="roles", icon_name="group", order=230
    )
