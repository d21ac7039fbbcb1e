"""Public URLs of the events app outside the page tree."""

from django.urls import path

from . import views

urlpatterns = [
    path("manage/<str:token>/", views.manage, name="registration_manage"),
    path("manage/<str:token>/cancel/", views.manage_cancel, name="registration_cancel"),
    path(
        "manage/<str:token>/calendar.ics",
        views.manage_calendar,
        name="registration_calendar",
    ),
]
