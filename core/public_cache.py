"""Public caching: whole public responses kept in Django's default cache.

What is cached: the responses of the page types that say so
(``public_cache = True`` on the model: the events listing, event pages,
the workshop library and workshop pages), served through Wagtail's
``on_serve_page`` hook (``core/wagtail_hooks.py``), and the public calendar
feeds (``cache_public_view``). Everything else is not, and these are served
uncached, never read from or written to the cache:

* anyone signed in (their pages carry the Wagtail userbar and may differ);
* previews (``request.is_preview``), and drafts, which Wagtail never routes;
* pages behind a Wagtail privacy setting (a password, signed-in users,
  groups), on the page or an ancestor;
* a request with messages waiting to be shown (after a form's redirect);
* a response that used a CSRF token, set a cookie, is not a 200, or says
  ``private`` or ``no-store`` (manage pages, sign-up forms, offers and the
  facilitator's feed are never wrapped at all; this is the second guard).

Keys: the kind of response, scheme and host, path, language, the query
parameters the view reads (``params``: the last value of each, empty ones
dropped, in a fixed order; any other parameter is ignored, and the view
reads the same normalised values through ``known_params``, so what it shows
is always what the key says), anything else the caller names (``vary``),
and the *generation*.

Invalidation: one "public content generation" token in the cache is part of
every key. Any change to what a public page shows replaces it, so every
entry made before it is never read again (and expires on its own): a page
published, unpublished, moved, saved or deleted, a privacy setting, a
session, venue or site setting saved or deleted, a user saved
(facilitators' names) or their groups changed. Models other apps own are
added with ``invalidate_on(Model, ...)`` in their ``AppConfig.ready``;
writes that send no signals (``bulk_create``, ``QuerySet.update``) call
``content_changed()`` themselves. The token is replaced at once and again
when the transaction commits, so a request that read the old rows while the
change was in flight cannot store them under the new token. One global
generation, rather than one per event, because such changes are rare next to
page views and a change to one event shows on the listing, the workshop
pages and the feeds too.

The site calendar feed's ETag comes from a *content version* stored in the
database (``content_version``) instead: calendar apps keep an ETag for as
long as they poll, so it must be the same in every process and survive a
cache restart. ``content_changed`` puts it one up after the change commits.

Places left change far more often (every sign-up, cancellation and waitlist
offer), and only the responses that show them depend on them: a second
*places generation* (``invalidate_on(Model, places=True)``,
``places_changed()``) is part of the keys of pages that say
``public_cache_shows_places = True`` (the listing, event pages) and of
views cached with ``shows_places=True``. The feeds and workshop pages,
which show no places, keep their entries through a busy day of sign-ups.

Entries live ``GATHER_PUBLIC_CACHE_SECONDS`` (0 turns public caching off),
or less when the page says when it changes by itself (``expires_at``: a
session ending drops off the listing, sign-up opening or closing). A cache
that fails (Redis down) is logged and the response is served uncached.
"""

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import parse_http_date_safe

logger = logging.getLogger(__name__)

GENERATION_KEY = "gather:public:generation"
PLACES_GENERATION_KEY = "gather:public:places-generation"
KEY_PREFIX = "gather:public"
#: Response headers kept with a cached body; the middleware adds the rest
#: (security headers, Vary) to every response, cached or not.
KEPT_HEADERS = (
    "Content-Type",
    "Content-Disposition",
    "Content-Language",
    "Cache-Control",
    "ETag",
    "Last-Modified",
)
#: What a cached page tells browsers: keep it, but ask each time (an ETag
#: answer is cheap), so places left are never shown stale.
PUBLIC_PAGE_CACHE_CONTROL = {"public": True, "no_cache": True}
#: What a page served uncached to one person tells every cache.
PRIVATE_PAGE_CACHE_CONTROL = {"private": True, "no_cache": True}

_STORING = "_gather_public_cache_storing"
_EXPIRES = "_gather_public_cache_expires"


def _cache():
    return caches["default"]


def enabled() -> bool:
    return settings.GATHER_PUBLIC_CACHE_SECONDS > 0


# Generation -----------------------------------------------------------------


def generation(key: str = GENERATION_KEY) -> str:
    """The current public content generation, or the one named by ``key``
    (made when there is none)."""
    cache = _cache()
    value = cache.get(key)
    if value is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        value = cache.get(key)
    return value


def generations(*keys: str) -> list[str]:
    """The generations named by ``keys``, read together: one round trip to
    a shared cache where ``generation`` per key would make one each."""
    found = _cache().get_many(keys)
    return [found[key] if key in found else generation(key) for key in keys]


def new_generation() -> None:
    """Forget every public entry at once by replacing the generation."""
    _replace(GENERATION_KEY)


def new_places_generation() -> None:
    """Forget every public entry that shows places left."""
    _replace(PLACES_GENERATION_KEY)


def _replace(key: str) -> None:
    try:
        _cache().set(key, uuid.uuid4().hex, timeout=None)
    except Exception:  # a failing cache must not fail the change itself
        logger.exception("Could not replace the public cache generation.")


def _now_and_on_commit(replace) -> None:
    replace()
    connection = transaction.get_connection()
    if connection.in_atomic_block and not any(
        entry[1] is replace for entry in connection.run_on_commit
    ):
        transaction.on_commit(replace, robust=True)


def content_changed(**_signal_arguments) -> None:
    """Something public pages show changed: a new generation now, and again
    when the current transaction commits (once per transaction, however
    many rows it changes), and the stored content version one up once it
    has committed (once per call: a single-row UPDATE each, so a
    transaction deleting an event with its 50 sessions makes about 50 after
    it commits). Usable as a signal receiver."""
    _now_and_on_commit(new_generation)
    # Runs at once outside a transaction.
    transaction.on_commit(next_content_version, robust=True)


#: The one row of ``core.models.PublicContentVersion``.
CONTENT_VERSION_ROW = 1


def content_version() -> tuple[int, dt.datetime | None]:
    """The stored public content version: its number and when it last went
    up, in one single-row read; (0, None) before the first change.

    It goes up after every change ``content_changed`` hears of has
    committed, so whatever is built from content read after it will be
    answered with a different version than anything read before the change.
    """
    from .models import PublicContentVersion  # models load after this module

    row = (
        PublicContentVersion.objects.filter(pk=CONTENT_VERSION_ROW)
        .values_list("number", "changed_at")
        .first()
    )
    return row or (0, None)


def next_content_version() -> None:
    """One up on the stored version, in a statement of its own after the
    change committed (so no transaction keeps the row locked while it goes
    on: two changes never wait for each other here)."""
    from django.db import DatabaseError, IntegrityError
    from django.db.models import F

    from .models import PublicContentVersion

    now = timezone.now()
    rows = PublicContentVersion.objects.filter(pk=CONTENT_VERSION_ROW)
    try:
        with transaction.atomic():
            if rows.update(number=F("number") + 1, changed_at=now):
                return
        try:
            with transaction.atomic():
                PublicContentVersion.objects.create(
                    pk=CONTENT_VERSION_ROW, number=1, changed_at=now
                )
        except IntegrityError:  # made by another change meanwhile
            with transaction.atomic():
                rows.update(number=F("number") + 1, changed_at=now)
    except DatabaseError:  # a failing write must not fail the change itself
        logger.exception("Could not store the new public content version.")


def places_changed(**_signal_arguments) -> None:
    """Places left changed (a sign-up, a cancellation, an offer): a new
    places generation now and when the transaction commits, as
    ``content_changed`` does for everything else."""
    _now_and_on_commit(new_places_generation)


_public_models: tuple[type, ...] = ()
_places_models: tuple[type, ...] = ()


def invalidate_on(*models: type, places: bool = False) -> None:
    """Start a new generation whenever a row of ``models`` (or a subclass)
    is saved or deleted; with ``places``, only the places generation (the
    rows only change places left)."""
    global _public_models, _places_models
    if places:
        _places_models = (*_places_models, *models)
    else:
        _public_models = (*_public_models, *models)


def _changed(instance):
    if isinstance(instance, _public_models):
        content_changed()
    elif isinstance(instance, _places_models):
        places_changed()


def _on_save(sender, instance, update_fields=None, **kwargs):
    if update_fields and set(update_fields) <= {"last_login"}:
        return  # a sign-in: nothing public changed
    _changed(instance)


def _on_delete(sender, instance, **kwargs):
    _changed(instance)


def _on_m2m(sender, instance, action, **kwargs):
    if action.startswith("post_"):
        _changed(instance)


def connect_signals() -> None:
    """Listen for changes to public content (``CoreConfig.ready``)."""
    from django.contrib.auth import get_user_model
    from wagtail.models import Page, PageViewRestriction
    from wagtail.signals import page_published, page_unpublished, post_page_move

    invalidate_on(Page, PageViewRestriction, get_user_model())
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(content_changed, dispatch_uid=f"public_cache.{signal!r}")
    post_save.connect(_on_save, dispatch_uid="public_cache.save")
    post_delete.connect(_on_delete, dispatch_uid="public_cache.delete")
    m2m_changed.connect(_on_m2m, dispatch_uid="public_cache.m2m")


# Keys -----------------------------------------------------------------------


def known_params(query, names: Iterable[str]) -> dict[str, str]:
    """The last non-empty value of each of ``names`` in ``query`` (a
    QueryDict), in the order of ``names``; anything else is left out."""
    found = {}
    for name in names:
        value = query.get(name)
        if value not in (None, ""):
            found[name] = value
    return found


def _key(request, kind: str, params: Iterable[str], vary, shows_places) -> str:
    parts = (
        kind,
        request.scheme,
        request.get_host(),
        request.path,
        translation.get_language(),
        sorted(known_params(request.GET, params).items()),
        vary,
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    if shows_places:
        content, places = generations(GENERATION_KEY, PLACES_GENERATION_KEY)
        return f"{KEY_PREFIX}:{content}:{places}:{digest}"
    return f"{KEY_PREFIX}:{generation()}:{digest}"


# Expiry hints ---------------------------------------------------------------


def expires_at(request, moment: dt.datetime | Callable[[], dt.datetime | None]):
    """Say that the page being rendered changes by itself at ``moment``
    (or a callable giving it, called only when the response is to be
    stored), so its entry lasts no longer. Past moments and None are
    ignored."""
    if not getattr(request, _STORING, False):
        return
    if callable(moment):
        moment = moment()
    if moment is None or moment <= timezone.now():
        return
    earliest = getattr(request, _EXPIRES, None)
    if earliest is None or moment < earliest:
        setattr(request, _EXPIRES, moment)


def next_moment(moments: Iterable[dt.datetime | None], now=None):
    """The earliest of ``moments`` still to come, or None."""
    now = now or timezone.now()
    return min((m for m in moments if m is not None and m > now), default=None)


def _timeout(request) -> int:
    seconds = settings.GATHER_PUBLIC_CACHE_SECONDS
    until = getattr(request, _EXPIRES, None)
    if until is not None:
        seconds = min(seconds, int((until - timezone.now()).total_seconds()))
    return seconds


# Serving ----------------------------------------------------------------------


def _anonymous(request) -> bool:
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated


def _messages_waiting(request) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(messages.get_messages(request)) > 0


def _may_use_cache(request) -> bool:
    return (
        enabled()
        and request.method in ("GET", "HEAD")
        and not getattr(request, "is_preview", False)
        and _anonymous(request)
        and not _messages_waiting(request)
    )


def _storable(request, response) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (
        request.method == "GET"
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and "private" not in cache_control
        and "no-store" not in cache_control
        and not _messages_waiting(request)
    )


def _from_entry(request, entry):
    content, headers = entry
    etag, modified = headers.get("ETag"), headers.get("Last-Modified")
    not_modified = get_conditional_response(
        request,
        etag=etag,
        last_modified=parse_http_date_safe(modified) if modified else None,
    )
    if not_modified is not None:
        if "Cache-Control" in headers:
            not_modified["Cache-Control"] = headers["Cache-Control"]
        return not_modified
    response = HttpResponse(content)
    for name, value in headers.items():
        response[name] = value
    return response


_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")


def _serve(
    request,
    *,
    kind,
    params,
    vary,
    render,
    shows_places=False,
    may_store=None,
    prepare=None,
):
    """The cached response for ``request``, or ``render()``'s, stored.

    ``may_store``: a last check before storing (called on a miss only);
    ``prepare``: headers to add to a response about to be stored;
    ``shows_places``: the response shows places left. Returns
    ``(response, stored_or_hit)``.
    """
    try:
        key = _key(request, kind, params, vary, shows_places)
        entry = _cache().get(key)
    except Exception:
        logger.exception("The public cache could not be read.")
        return render(), False
    if entry is not None:
        return _from_entry(request, entry), True
    # Build the whole response (not a 304) so it can be stored; the
    # conditional headers are answered from the stored entry below.
    conditional = {
        name: request.META.pop(name) for name in _CONDITIONAL if name in request.META
    }
    setattr(request, _STORING, True)
    try:
        response = render()
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
    finally:
        setattr(request, _STORING, False)
        request.META.update(conditional)
    timeout = _timeout(request)
    if (
        timeout <= 0
        or not _storable(request, response)
        or (may_store is not None and not may_store())
    ):
        return response, False
    if prepare is not None:
        prepare(response)
    headers = {name: response[name] for name in KEPT_HEADERS if name in response}
    try:
        _cache().set(key, (response.content, headers), timeout)
    except Exception:
        logger.exception("The public cache could not be written.")
        return response, False
    return _from_entry(request, (response.content, headers)), True


def _public_page_headers(response):
    patch_cache_control(response, **PUBLIC_PAGE_CACHE_CONTROL)
    if "ETag" not in response:
        digest = hashlib.sha256(response.content).hexdigest()[:32]
        response["ETag"] = f'"{digest}"'


def _restricted(page) -> bool:
    """Whether a privacy setting covers ``page``: its own, one of a page
    above it, or one of the page an alias among them copies. Wagtail's
    ``get_view_restrictions`` in one query instead of two; it also counts a
    setting left on an alias itself, which Wagtail ignores, so it never says
    no where Wagtail would say yes."""
    from wagtail.models import PageViewRestriction

    step = page.steplen
    paths = [page.path[:end] for end in range(step, len(page.path) + 1, step)]
    return PageViewRestriction.objects.filter(
        Q(page__path__in=paths) | Q(page__aliases__path__in=paths)
    ).exists()


def serve_page(next_serve_page, page, request, args, kwargs):
    """Serve a Wagtail page from the public cache when it and the request
    allow (see the module's docstring); ``on_serve_page`` calls this.

    Wagtail has already routed the page (only live pages route) and run its
    privacy check. A page behind a privacy setting is never stored, and a
    setting added later starts a new generation, so an entry found here is
    always of a page anyone may see.
    """
    if not (enabled() and getattr(page, "public_cache", False)):
        return next_serve_page(page, request, args, kwargs)

    def render():
        return next_serve_page(page, request, args, kwargs)

    if _may_use_cache(request):
        response, cached = _serve(
            request,
            kind=f"page:{page.pk}",
            params=getattr(page, "public_cache_params", ()),
            vary=None,
            render=render,
            shows_places=getattr(page, "public_cache_shows_places", False),
            may_store=lambda: not _restricted(page),
            prepare=_public_page_headers,
        )
        if cached:
            return response
    else:
        response = render()
    patch_cache_control(response, **PRIVATE_PAGE_CACHE_CONTROL)
    return response


def cache_public_view(*, params: Iterable[str] = (), vary=None, shows_places=False):
    """Cache a public view's responses for anonymous GETs.

    ``params``: the query parameters the view reads (through
    ``known_params``); ``vary``: a function of the request giving anything
    else the response depends on (a date, say); ``shows_places``: the
    response shows places left (see the module docstring). The view's own headers
    (ETag, Last-Modified, Cache-Control) are kept and conditional requests
    answered from them.
    """
    params = tuple(params)

    def decorator(view):
        kind = f"view:{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            def render():
                return view(request, *args, **kwargs)

            if not _may_use_cache(request):
                return render()
            return _serve(
                request,
                kind=kind,
                params=params,
                vary=vary(request) if vary else None,
                render=render,
                shows_places=shows_places,
            )[0]

        return wrapper

    return decorator
