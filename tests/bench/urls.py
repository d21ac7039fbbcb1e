"""The benchmark URLconf: floor views, then the site's own routes.

The harness swaps this in as ``ROOT_URLCONF`` so floors go through the same
test client and middleware as the pages they are compared with; the sign-up
benchmark's gunicorn server uses it too (``tests.bench.settings``).
"""

from django.urls import include, path

from . import floors

urlpatterns = [
    path(
        "__bench__/floor/listing/<int:pk>/",
        floors.listing_floor,
        name="bench-floor-listing",
    ),
    path(
        "__bench__/floor/event/<int:pk>/",
        floors.event_floor,
        name="bench-floor-event",
    ),
    path(
        "__bench__/floor/sign-up/",
        floors.sign_up_floor,
        name="bench-floor-sign-up",
    ),
    path(
        "__bench__/floor/sign-up/<int:event_id>/write/",
        floors.sign_up_write_floor,
        name="bench-floor-sign-up-write",
    ),
    path("", include("website.urls")),
]
