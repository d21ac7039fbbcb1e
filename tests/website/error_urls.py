"""The site's URLs plus views that fail, to render the 500 and 403 pages."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from website.urls import handler403, handler404, handler500, urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def broken_view(request):
    """Stands in for any bug in a view."""
    raise RuntimeError("a bug")


def staff_only_view(request):
    """Stands in for a page this person may not see."""
    raise PermissionDenied


urlpatterns = [
    path("broken/", broken_view),
    path("staff-only/", staff_only_view),
    *urlpatterns,
]
