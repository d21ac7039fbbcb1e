"""The curriculum library: reusable workshop programs."""

from django.apps import AppConfig


class WorkshopsConfig(AppConfig):
    """WorkshopIndexPage and WorkshopPage."""

    name = "workshops"
    verbose_name = "Workshops"
