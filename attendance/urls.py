"""URLs of the facilitator area."""

from django.urls import path

from . import views

urlpatterns = [
    path("calendar/", views.calendar_feed, name="facilitator_calendar"),
]
