"""The site's URLs plus one view that fails, to render the 500 page."""

from django.urls import path

from website.urls import handler403, handler404, handler500, urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def broken_view(request):
    """Stands in for any bug in a view."""
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken_view), *urlpatterns]
