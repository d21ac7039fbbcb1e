"""The project package: settings, URLs and the site-wide pages."""

from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    """Site-wide pages (HomePage, StandardPage) and site settings."""

    name = "website"
    verbose_name = "Website"
