"""Local development: debug on, a fixed throwaway secret key, console email."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-not-secret-gather")
STORAGES["staticfiles"]["BACKEND"] = (  # noqa: F405
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)

# Static files come from the app and project folders (no collectstatic needed).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
