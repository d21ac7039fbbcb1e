"""Response and URL helpers shared by the apps."""

from django.conf import settings


def absolute_url(path: str) -> str:
    """A full URL on the public site (``BASE_URL``) for a site-relative path."""
    return settings.BASE_URL + path


def private(response, *, cache: str = "no-store, private"):
    """Mark a response reached through a secret link or a login as private.

    It is not stored by shared caches and search engines do not index it.
    Its address never reaches other sites as a referrer: the site-wide
    ``SECURE_REFERRER_POLICY`` ("same-origin") sees to that, for every page.
    """
    response["Cache-Control"] = cache
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
