"""Shared tools below every domain app: nothing here imports Gather's other apps."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Tokens, rate limits, private responses, QR codes, task queueing, text
    messages, form helpers, template tags, field encryption and the
    organisation's site settings.

    The domain apps (``workshops``, ``events``, ``attendance``) and the
    ``spreadsheets`` engine build on it; it builds on none of them.
    """

    name = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.core import checks
        from django.urls import register_converter

        from . import checks as deploy_checks  # noqa: F401  (registers them)
        from . import public_cache
        from .encryption import check_keys, check_keys_deploy
        from .forms import IdConverter

        register_converter(IdConverter, "id")
        checks.register(check_keys, checks.Tags.security)
        checks.register(check_keys_deploy, checks.Tags.security, deploy=True)
        public_cache.connect_signals()
        # Every footer shows the organisation's details and crisis line.
        public_cache.invalidate_on(self.get_model("SiteSettings"))
