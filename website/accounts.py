"""Signing in and resetting a forgotten password.

Django's auth views do the work; this module adds what Gather needs on top:
a rate limit on the reset form per client address, a reset email that is
sent by a background task, and the page shown when django-axes has paused
signing in after too many wrong passwords (``locked_out``). The reset form
queues one task whether or not the address has an account (with no ids
when it has none), so neither the page's answer nor how long it takes tells
anyone who has an account.
"""

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_tasks import task

from core.http import absolute_url
from core.models import SiteSettings
from core.ratelimit import allow, limit_reached


def locked_out(request, original_response=None, credentials=None):
    """The page both sign-in forms show while signing in is paused
    (``AXES_LOCKOUT_CALLABLE``): plain words, how long to wait, and the way
    to choose a new password."""
    minutes = max(int(settings.AXES_COOLOFF_TIME.total_seconds() // 60), 1)
    return TemplateResponse(
        request,
        "registration/locked_out.html",
        {"lockout_minutes": minutes},
        status=429,
    ).render()


def password_reset_url(user) -> str:
    """The one-time address that lets ``user`` choose a new password."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return absolute_url(path)


@task()
def send_password_reset_emails(user_ids: list[int]) -> None:
    """Email a reset link to each of these accounts, if still active.

    Task arguments are stored, so the task carries ids, never an address or
    a token: the link is made here, in the worker.
    """
    organisation = SiteSettings.objects.filter(site__is_default_site=True).first()
    subject = " ".join(
        render_to_string("registration/password_reset_subject.txt").split()
    )
    email_field = get_user_model().get_email_field_name()
    for user in get_user_model().objects.filter(pk__in=user_ids, is_active=True):
        context = {
            "user": user,
            "reset_url": password_reset_url(user),
            "organisation": organisation,
        }
        body = render_to_string("registration/password_reset_email.txt", context)
        EmailMultiAlternatives(subject, body, to=[getattr(user, email_field)]).send()


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, sending its email from a background task."""

    def save(self, **kwargs):
        """Queue the email task with the matching accounts' ids (maybe none);
        it belongs to no database change, so it is queued at once."""
        user_ids = [user.pk for user in self.get_users(self.cleaned_data["email"])]
        send_password_reset_emails.enqueue(user_ids)


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link, at most so many times per address and window."""

    form_class = PasswordResetForm

    def post(self, request, *args, **kwargs):
        if not allow(
            request,
            scope="password-reset",
            limit=settings.GATHER_PASSWORD_RESET_RATE_LIMIT,
            window=settings.GATHER_PASSWORD_RESET_RATE_WINDOW,
        ):
            context = self.get_context_data(
                form=self.get_form(),
                too_many_tries=_(
                    "Too many requests from this connection. Please wait a few "
                    "minutes and try again, or ask your coordinator."
                ),
            )
            return TemplateResponse(request, self.template_name, context, status=429)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from a reset link. Links that do not work are
    counted per client address (the reset request's limit and window), and
    once there are too many the address is refused before any link is
    checked, so nobody can try link after link."""

    def _limit(self) -> dict:
        return {
            "scope": "password-reset-link",
            "limit": settings.GATHER_PASSWORD_RESET_RATE_LIMIT,
            "window": settings.GATHER_PASSWORD_RESET_RATE_WINDOW,
        }

    def dispatch(self, *args, **kwargs):
        if limit_reached(self.request, **self._limit()):
            context = {
                "validlink": False,
                "too_many_tries": _(
                    "Too many links that do not work from this connection. "
                    "Please wait a few minutes and try again, or ask your "
                    "coordinator."
                ),
            }
            return TemplateResponse(
                self.request, self.template_name, context, status=429
            )
        response = super().dispatch(*args, **kwargs)
        # A working link first redirects (Django swaps its token for the
        # session) with validlink still False: only the "does not work" page
        # counts.
        if not self.validlink and response.status_code == 200:
            allow(self.request, **self._limit())
        return response
