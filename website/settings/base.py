"""Settings shared by every environment, read from environment variables.

Each environment module (``dev``, ``test``, ``production``) imports these and
overrides only what differs. Values come from the environment so that one
build runs anywhere: see the README's Configuration section.
"""

import datetime as dt
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
#: Keys that encrypt support needs and session notes at rest, newest first:
#: the first encrypts, all of them decrypt (core/encryption.py; README,
#: Configuration and Production). Apart from SECRET_KEY on purpose.
GATHER_FIELD_ENCRYPTION_KEYS = env.list("GATHER_FIELD_ENCRYPTION_KEYS", default=[])
#: The key development and the tests use when none is set. It is in the
#: repository, so it protects nothing: ``check --deploy`` warns if production
#: uses it.
GATHER_DEV_FIELD_ENCRYPTION_KEY = "S8ZmCsbxJZsj88mJUtbQsl4gibblMf5IC0JVrJtUfdc="
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
    "phonenumber_field",
    "django_tasks",
    "django_tasks_db",
    "import_export",
    "axes",
    "csp",
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
    "website.middleware.ContentSecurityPolicyMiddleware",
    "core.headers.PermissionsPolicyMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its page.
    "axes.middleware.AxesMiddleware",
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

#: Redis, e.g. redis://127.0.0.1:6379/0. When set it is the shared cache
#: (rate limits, import progress, cached pages, sessions' cache) and the task
#: queue (RQ, run by ``manage.py rqworker``); unset, the cache is each
#: process's memory and tasks wait in the database. CACHE_URL and
#: TASKS_BACKEND, when set, still win.
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL and not env.str("CACHE_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # RQ's keys start with "rq:", the cache's with "gather:".
            "KEY_PREFIX": "gather",
            # A Redis that stops answering fails a request (and /ready/) in
            # seconds instead of holding a gunicorn worker until its timeout.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://gather")}

# With Redis as the cache, sessions are read from it and written through to
# the database (cached_db): a Redis restart or eviction signs nobody out, and
# most requests read no session row (SESSION_SAVE_EVERY_REQUEST writes one
# either way). A cache of each process's own would keep a signed-out session
# alive in the other processes, so without Redis they stay in the database.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

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
# Phone numbers typed without a country code are read as numbers of this
# region (ISO 3166 code), and every number is stored in E.164.
PHONENUMBER_DEFAULT_REGION = env.str("GATHER_PHONE_REGION", default="CA").upper()
PHONENUMBER_DB_FORMAT = "E164"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Uploaded images and documents: files under MEDIA_ROOT, or any Django
# storage backend (README, Deploying: media), e.g. django-storages' S3 with
# MEDIA_STORAGE_BACKEND=storages.backends.s3.S3Storage and its options as
# JSON in MEDIA_STORAGE_OPTIONS.
STORAGES = {
    "default": {
        "BACKEND": env.str(
            "MEDIA_STORAGE_BACKEND",
            default="django.core.files.storage.FileSystemStorage",
        ),
        "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
    # Exports built in the background (participant data): private files,
    # outside MEDIA_ROOT, downloaded only through their job's view. Any
    # storage backend (a private S3 bucket) by EXPORT_STORAGE_BACKEND and
    # EXPORT_STORAGE_OPTIONS; never one that serves its files publicly.
    "exports": {
        "BACKEND": env.str(
            "EXPORT_STORAGE_BACKEND",
            default="django.core.files.storage.FileSystemStorage",
        ),
        "OPTIONS": env.json(
            "EXPORT_STORAGE_OPTIONS",
            default={
                "location": str(env.path("EXPORT_ROOT", default=BASE_DIR / "private")),
                "directory_permissions_mode": 0o700,
                "file_permissions_mode": 0o600,
            },
        ),
    },
}

# Email: EMAIL_URL such as smtp+tls://user:password@host:587 or consolemail://
vars().update(env.email("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="gather@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Text messages (core/sms), chosen as EMAIL_BACKEND chooses mail's: the
# console backend prints them where the task worker prints emails.
# production.py switches texts off until SMS_BACKEND names a provider.
SMS_BACKEND = env.str("SMS_BACKEND", default="core.sms.backends.console.TextBackend")
#: The sender of a text that names none: an alphanumeric sender id
#: ("Gather") where the country and provider allow one; "" for the
#: provider's number (Canada and the US allow no alphanumeric senders).
GATHER_SMS_SENDER = env.str("GATHER_SMS_SENDER", default="")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
#: Twilio sends from this number, or from the messaging service's pool.
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")

# Background tasks through Django's tasks API. The database backend needs only
# `manage.py db_worker`; with REDIS_URL set, tasks go to RQ's queue in Redis
# and `manage.py rqworker --job-class django_tasks_rq.Job` runs them, on as
# many machines as needed.
TASKS = {
    "default": {
        "BACKEND": env.str(
            "TASKS_BACKEND",
            default=(
                "django_tasks_rq.RQBackend"
                if REDIS_URL
                else "django_tasks_db.DatabaseBackend"
            ),
        ),
    }
}


def rq_queue_settings(url: str, *, timeout: int) -> dict:
    """One RQ queue's django-rq settings for the Redis at ``url``, its
    clients sharing one connection pool per process.

    Given a ``URL``, django-rq builds a new client with a new pool each time
    a queue is asked for, so every task queued opened a new connection to
    Redis (about 2 ms of CPU per task). Given host, port and database, it
    passes ``REDIS_CLIENT_KWARGS`` to the client it builds, and a client
    given a ``connection_pool`` takes its connections from it: from this
    process's one pool. redis-py's pool starts afresh in a forked process
    (gunicorn's workers, RQ's work horse). Host, port, database, password
    and TLS are kept as well for django-rq's statistics screens, which
    build their own client. A ``unix://`` URL keeps django-rq's own handling.
    ``timeout`` is the seconds a task may run before its worker stops it.
    """
    import redis

    settings = {"DEFAULT_TIMEOUT": timeout}
    pool = redis.ConnectionPool.from_url(url)
    if "host" not in pool.connection_kwargs:
        return {**settings, "URL": url}
    connection = pool.connection_kwargs
    return {
        **settings,
        "HOST": connection["host"],
        "PORT": connection.get("port", 6379),
        "DB": connection.get("db", 0),
        "USERNAME": connection.get("username"),
        "PASSWORD": connection.get("password"),
        "SSL": issubclass(pool.connection_class, redis.SSLConnection),
        "REDIS_CLIENT_KWARGS": {"connection_pool": pool},
    }


#: RQ's queues (django-rq), read only when TASKS is the RQ backend. Every task
#: goes to the one queue, "default", as with the database backend.
RQ_QUEUES = {
    # Seconds a task may run before its worker stops it: an import of a
    # large spreadsheet is the longest.
    "default": rq_queue_settings(
        REDIS_URL or "redis://127.0.0.1:6379/0",
        timeout=env.int("GATHER_TASK_TIMEOUT", default=1800),
    )
}
if TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

# Sign-in throttling (django-axes) on both sign-in pages, the admin's and the
# facilitators': after GATHER_LOGIN_FAILURE_LIMIT wrong passwords in a row,
# for one account or from one address, signing in is paused for
# GATHER_LOGIN_LOCKOUT_MINUTES, even with the right password. Counted in the
# database (AxesDatabaseHandler), not the cache: the production default cache
# is each process's own memory and make run's is a file cache, which axes
# refuses (its counts are not atomic), so only the database is shared by
# every process in every set-up Gather supports.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("GATHER_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(
    minutes=env.int("GATHER_LOGIN_LOCKOUT_MINUTES", default=15)
)
# Either an account or an address with too many failures is paused: one
# machine cannot try many accounts, nor many machines one account.
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
# The same client address as the rate limits (GATHER_TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_address"
AXES_LOCKOUT_CALLABLE = "website.accounts.locked_out"
AXES_RESET_ON_SUCCESS = True
# Keep failed tries only: no row per successful sign-in, no user agents.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False

#: Staff sessions end after this many seconds without a request (shared
#: community-centre computers); every request starts the time again.
GATHER_STAFF_IDLE_TIMEOUT = env.int("GATHER_STAFF_IDLE_TIMEOUT", default=4 * 60 * 60)
SESSION_COOKIE_AGE = GATHER_STAFF_IDLE_TIMEOUT
SESSION_SAVE_EVERY_REQUEST = True

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
#: The listing counts its sessions up to this many; beyond it, it says "more
#: than 500 upcoming sessions" (events/listing.py, CountingUpToPaginator).
GATHER_LISTING_COUNT_LIMIT = env.int("GATHER_LISTING_COUNT_LIMIT", default=500)
#: How long public pages and feeds stay in the shared cache at most, in
#: seconds (core/public_cache.py); changes replace them sooner. 0 turns it off.
GATHER_PUBLIC_CACHE_SECONDS = env.int("GATHER_PUBLIC_CACHE_SECONDS", default=300)


# Logs go to standard error, as plain lines or (LOG_FORMAT=json, the
# production default) one JSON object per line for a log collector. Email
# addresses and phone numbers are masked in every line (core/logging.py).
def log_format(default: str) -> str:
    """LOG_FORMAT from the environment: ``plain`` or ``json``."""
    value = env.str("LOG_FORMAT", default=default)
    if value not in ("plain", "json"):
        raise ImproperlyConfigured(f"LOG_FORMAT is {value!r}: use plain or json.")
    return value


LOG_FORMAT = log_format("plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "core.logging.PersonalDataFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request logs carry URLs only; personal data never goes into URLs.
        "django.server": {"level": "INFO"},
        # Page-created/published lines drown out the worker's output.
        "wagtail": {"level": "WARNING"},
        # One line per task start and end would bury the emails the console
        # backend prints in development.
        "django_tasks": {"level": env.str("TASKS_LOG_LEVEL", "WARNING")},
        # django-axes logs every sign-in at INFO; lockouts (WARNING) are what
        # matter, and it masks the username and address in them.
        "axes": {"level": "WARNING"},
        # Twilio's SDK logs each API request's headers at INFO.
        "twilio": {"level": "WARNING"},
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
# Content Security Policy (django-csp 4; website.middleware). Public pages
# run no inline script and no inline style: the little JavaScript there is
# is in static/js/gather.js. Videos embedded in rich text may come from
# GATHER_CSP_FRAME_SOURCES.
GATHER_CSP_FRAME_SOURCES = env.list(
    "GATHER_CSP_FRAME_SOURCES",
    default=[
        "https://www.youtube.com",
        "https://www.youtube-nocookie.com",
        "https://player.vimeo.com",
    ],
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF, *GATHER_CSP_FRAME_SOURCES],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# The Wagtail admin writes inline scripts and styles of its own, shows
# images and previews from blob: and data: addresses, and frames its own
# previews: its pages (GATHER_ADMIN_PATH) get this policy instead.
GATHER_ADMIN_CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": CONTENT_SECURITY_POLICY["DIRECTIVES"]
    | {
        "script-src": [SELF, UNSAFE_INLINE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "frame-ancestors": [SELF],
    }
}
# No avatars from Gravatar in the admin: the address would send a hash of
# each user's email to another site (and the policy above would block it).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
#: Browser features no page may use (core.headers.PermissionsPolicyMiddleware);
#: an empty list means "nobody".
GATHER_PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}
# A refused form gets the site's own page saying what to do next.
CSRF_FAILURE_VIEW = "website.views.csrf_failure"
GATHER_ADMIN_PATH = "admin/"

#: Reminders go out this many hours before each session.
GATHER_REMINDER_HOURS = env.int("GATHER_REMINDER_HOURS", default=24)

#: An open-ended series ("keeps going") has its sessions made this many weeks
#: ahead, topped up every day (events.open_series; at most 52).
GATHER_ROLLING_WEEKS_AHEAD = env.int("GATHER_ROLLING_WEEKS_AHEAD", default=12)

# Messages to participants (events.messaging). Quiet hours, in TIME_ZONE, hold
# reminders and texts that are not urgent until they end; a change to a
# session starting within GATHER_URGENT_CHANGE_HOURS goes at once. A message
# the provider refuses for a passing reason is tried again after each delay
# of GATHER_MESSAGE_RETRY_MINUTES, then lands in the staff follow-up inbox.
GATHER_QUIET_HOURS_START = env.str("GATHER_QUIET_HOURS_START", default="21:00")
GATHER_QUIET_HOURS_END = env.str("GATHER_QUIET_HOURS_END", default="08:00")
GATHER_URGENT_CHANGE_HOURS = env.int("GATHER_URGENT_CHANGE_HOURS", default=12)
GATHER_MESSAGE_RETRY_MINUTES = [
    int(minutes)
    for minutes in env.list("GATHER_MESSAGE_RETRY_MINUTES", default=["5", "30", "120"])
]
#: The whole-site calendar feed covers sessions starting from this many days
#: ago to this many days ahead (whole days); an event's own feed has them all.
GATHER_SITE_FEED_DAYS_BACK = env.int("GATHER_SITE_FEED_DAYS_BACK", default=30)
GATHER_SITE_FEED_DAYS_AHEAD = env.int("GATHER_SITE_FEED_DAYS_AHEAD", default=365)
#: /ready/ answers 503 while more tasks than this wait for a worker.
GATHER_READY_MAX_QUEUE = env.int("GATHER_READY_MAX_QUEUE", default=10000)
#: Spreadsheet exports of more rows than this (registrations, attendance)
#: are built in the background
#: with a progress page and a download link; smaller ones in the request.
GATHER_BACKGROUND_EXPORT_ROWS = env.int("GATHER_BACKGROUND_EXPORT_ROWS", default=2000)
#: An attendance summary PDF of more sessions than this is made in the
#: background (it takes about 35 ms a session).
GATHER_BACKGROUND_PDF_SESSIONS = env.int("GATHER_BACKGROUND_PDF_SESSIONS", default=200)
#: Files of background exports are deleted this many hours after they were
#: asked for (``manage.py purge_export_jobs``).
GATHER_EXPORT_RETENTION_HOURS = env.int("GATHER_EXPORT_RETENTION_HOURS", default=24)
#: Registrations and walk-in names of events that ended more than this many
#: days ago are anonymised by ``manage.py apply_retention``.
GATHER_RETENTION_DAYS = env.int("GATHER_RETENTION_DAYS", default=365)
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
#: Delivery reports with a missing or wrong signature allowed per client
#: address in each window (core/sms/views.py); signed reports are not counted.
GATHER_SMS_STATUS_RATE_LIMIT = env.int("GATHER_SMS_STATUS_RATE_LIMIT", default=20)
GATHER_SMS_STATUS_RATE_WINDOW = env.int("GATHER_SMS_STATUS_RATE_WINDOW", default=600)
#: How many proxies in front of the app append to X-Forwarded-For (0: use
#: REMOTE_ADDR). Used to find the client's address for rate limits.
GATHER_TRUSTED_PROXY_COUNT = env.int("GATHER_TRUSTED_PROXY_COUNT", default=0)
