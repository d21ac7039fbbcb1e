"""Names the admin menu's reports plainly."""

import copy

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

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
