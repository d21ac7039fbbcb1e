"""Local development: debug on, fixed throwaway secret and field encryption
keys, console email."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-not-secret-gather")
# A fixed, published key so a development database opens on any checkout;
# production refuses to start without keys of its own.
GATHER_FIELD_ENCRYPTION_KEYS = env.list(
    "GATHER_FIELD_ENCRYPTION_KEYS",
    default=[GATHER_DEV_FIELD_ENCRYPTION_KEY],  # noqa: F405
)
# runserver's and db_worker's reloaders wait for file system events
# (watchfiles) instead of reading every file's time each second.
INSTALLED_APPS = [*INSTALLED_APPS, "django_watchfiles"]  # noqa: F405

STORAGES["staticfiles"]["BACKEND"] = (  # noqa: F405
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)

# Static files come from the app and project folders (no collectstatic needed).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# A file cache the web server and the task worker share, so an import running
# in the worker shows its progress bar (``make serve`` runs both). With
# REDIS_URL set, base.py's Redis cache is shared already.
if not REDIS_URL:  # noqa: F405
    CACHES = {
        "default": env.cache(
            "CACHE_URL",
            default=f"filecache://{BASE_DIR / '.cache' / 'django'}",  # noqa: F405
        )
    }
