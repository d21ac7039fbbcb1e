"""URLs of the facilitator area (``/facilitate/``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.session_list, name="facilitate"),
    path("calendar/", views.calendar_feed, name="facilitator_calendar"),
    path("sessions/<int:session_id>/", views.session_detail, name="facilitate_session"),
    path(
        "sessions/<int:session_id>/attendance/",
        views.take_attendance,
        name="facilitate_attendance",
    ),
    path(
        "sessions/<int:session_id>/walk-in/", views.walk_in, name="facilitate_walk_in"
    ),
    path(
        "sessions/<int:session_id>/headcount/",
        views.headcount,
        name="facilitate_headcount",
    ),
    path("sessions/<int:session_id>/note/", views.session_note, name="facilitate_note"),
    path(
        "sessions/<int:session_id>/check-in-screen/",
        views.check_in_screen,
        name="facilitate_check_in_screen",
    ),
    path(
        "sessions/<int:session_id>/pdf/<str:document>.pdf",
        views.session_pdf,
        name="facilitate_pdf",
    ),
]
