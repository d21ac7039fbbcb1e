"""Public URLs of the events app outside the page tree."""

from django.urls import path

from . import feeds, views

urlpatterns = [
    path("sign-up/<id:event_id>/", views.sign_up, name="event_sign_up"),
    path(
        "sign-up/<id:event_id>/thanks/",
        views.sign_up_thanks,
        name="event_sign_up_thanks",
    ),
    path("calendar/events.ics", feeds.site_feed, name="site_calendar_feed"),
    path("calendar/event-<id:event_id>.ics", feeds.event_feed, name="event_calendar"),
    path(
        "calendar/session-<int:session_id>.ics",
        feeds.session_feed,
        name="session_calendar",
    ),
    path(
        "calendar/facilitator/<str:token>.ics",
        feeds.facilitator_feed,
        name="facilitator_calendar_feed",
    ),
    path("m/<str:code>", views.short_link, name="registration_short_link"),
    path("o/<str:code>", views.offer_short_link, name="place_offer_short_link"),
    path("offer/<str:token>/", views.place_offer, name="place_offer"),
    path("manage/<str:token>/", views.manage, name="registration_manage"),
    path("manage/<str:token>/cancel/", views.manage_cancel, name="registration_cancel"),
    path(
        "manage/<str:token>/contact/",
        views.manage_consent,
        name="registration_consent",
    ),
    path(
        "manage/<str:token>/calendar.ics",
        views.manage_calendar,
        name="registration_calendar",
    ),
]
