"""Settings shared by every environment, read from environment variables.

Each environment module (``dev``, ``test``, ``production``) imports these and
overrides only what differs. Values come from the environment so that one
build runs anywhere: see the README's Configuration section.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

#: Public base URL of the site, used in emails, calendar files and the admin.
BASE_URL = env.str("BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
WAGTAILADMIN_BASE_URL = BASE_URL

INSTALLED_APPS = [
    # Gather's apps (README, Architecture, for their layers).
    "website",
    "events",
    "workshops",
    "attendance",
    "spreadsheets",
    "core",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "website.middleware.AdminSameOriginFramesMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "website.urls"
WSGI_APPLICATION = "website.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# Database: SQLite by default, PostgreSQL in production (DATABASE_URL).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so concurrent
    # writers (web server and task worker) queue for up to `timeout` seconds
    # instead of failing with "database is locked" half-way through.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", 60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://gather")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en"
# Dates shown day first ("22 November 2026"): website/formats/en/formats.py.
FORMAT_MODULE_PATH = ["website.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="America/Toronto")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: EMAIL_URL such as smtp+tls://user:password@host:587 or consolemail://
vars().update(env.email("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="gather@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks through Django's tasks API. The database backend needs only
# `manage.py db_worker`; set TASKS_BACKEND to django_tasks_rq.RQBackend (with
# Redis) when one worker machine is no longer enough.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

LOGIN_URL = "login"
# Facilitators land on their sessions after signing in (unless ?next= says
# where they were going).
LOGIN_REDIRECT_URL = "facilitate"
# Signing out (a POST) goes back to the home page, not to the admin's page.
LOGOUT_REDIRECT_URL = "/"
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_SITE_NAME = "Gather"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx"]
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp"]
# Wagtail sets no size limit on documents; images have one, stated here, and
# a pixel limit lower than Wagtail's 128 million: every rendition decodes the
# whole image, at four bytes a pixel.
WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 50_000_000
WAGTAIL_ENABLE_UPDATE_CHECK = False
TAGGIT_CASE_INSENSITIVE = True

#: Events per page on the public listing.
GATHER_LISTING_PAGE_SIZE = env.int("GATHER_LISTING_PAGE_SIZE", default=20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request logs carry URLs only; personal data never goes into URLs.
        "django.server": {"level": "INFO"},
        # Page-created/published lines drown out the worker's output.
        "wagtail": {"level": "WARNING"},
        # One line per task start and end would bury the emails the console
        # backend prints in development.
        "django_tasks": {"level": env.str("TASKS_LOG_LEVEL", "WARNING")},
    },
}

# Public pages may not be framed; the admin may frame itself for previews
# (see website.middleware.AdminSameOriginFramesMiddleware).
X_FRAME_OPTIONS = "DENY"
# The one referrer policy of every response. Secret links (manage pages, the
# facilitator area, calendar addresses) are never sent to other sites, while
# the site's own form posts keep their Origin header: under "no-referrer"
# browsers send "Origin: null" and Django's CSRF check refuses every form.
SECURE_REFERRER_POLICY = "same-origin"
# A refused form gets the site's own page saying what to do next.
CSRF_FAILURE_VIEW = "website.views.csrf_failure"
GATHER_ADMIN_PATH = "admin/"

#: Reminders go out this many hours before each session.
GATHER_REMINDER_HOURS = env.int("GATHER_REMINDER_HOURS", default=24)
#: A calendar import is refused when one event would have more sessions
#: than this in the coming year, or the whole file more than the second.
GATHER_ICS_MAX_OCCURRENCES = env.int("GATHER_ICS_MAX_OCCURRENCES", default=200)
GATHER_ICS_MAX_SESSIONS = env.int("GATHER_ICS_MAX_SESSIONS", default=1000)
#: Sign-up POSTs allowed per client address in each window.
GATHER_SIGNUP_RATE_LIMIT = env.int("GATHER_SIGNUP_RATE_LIMIT", default=10)
GATHER_SIGNUP_RATE_WINDOW = env.int("GATHER_SIGNUP_RATE_WINDOW", default=600)
#: Failed self check-in tries allowed in each window, counted apart: codes
#: of no session per client address, names not on the list per address and
#: session. Check-ins that work are not counted.
GATHER_CHECK_IN_RATE_LIMIT = env.int("GATHER_CHECK_IN_RATE_LIMIT", default=20)
GATHER_CHECK_IN_RATE_WINDOW = env.int("GATHER_CHECK_IN_RATE_WINDOW", default=600)
#: Password reset requests allowed per client address in each window.
GATHER_PASSWORD_RESET_RATE_LIMIT = env.int(
    "GATHER_PASSWORD_RESET_RATE_LIMIT", default=5
)
GATHER_PASSWORD_RESET_RATE_WINDOW = env.int(
    "GATHER_PASSWORD_RESET_RATE_WINDOW", default=600
)
# One way to reset a forgotten password, for staff and facilitators alike:
# /accounts/password-reset/ (website/accounts.py), with its rate limit and the
# same answer and timing whether or not an account exists. Wagtail's own
# admin reset form has neither, so it is switched off; the admin sign-in page
# links to ours (templates/wagtailadmin/login.html).
WAGTAIL_PASSWORD_RESET_ENABLED = False
#: How many proxies in front of the app append to X-Forwarded-For (0: use
#: REMOTE_ADDR). Used to find the client's address for rate limits.
GATHER_TRUSTED_PROXY_COUNT = env.int("GATHER_TRUSTED_PROXY_COUNT", default=0)
