"""A fixed-window rate limit per client address, kept in Django's cache.

With Redis as the cache the count is shared by every app server and process,
and counting one request is a single round trip to Redis. Addresses are
hashed before they become cache keys, so they are not stored.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


def client_address(request) -> str:
    """The client's address, trusting only the configured number of proxies."""
    proxies = settings.GATHER_TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _key(request, scope: str, window: int) -> str:
    address = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
    bucket = int(time.time() // window)
    return f"ratelimit:{scope}:{address}:{bucket}"


def limit_reached(request, *, scope: str, limit: int, window: int) -> bool:
    """Whether ``limit`` requests are already counted in this ``window``,
    without counting this one: for limits that count only failures (see
    ``allow`` to count one)."""
    return (cache.get(_key(request, scope, window)) or 0) >= limit


def _count_in_redis(key: str, window: int) -> int | None:
    """Count one in Redis in a single round trip (SET NX with expiry, then
    INCR, pipelined), or None when the cache is not Redis.

    Django's own ``add`` and ``incr`` take three round trips (``incr`` asks
    whether the key exists first). The value stays one Django's Redis cache
    reads back (it stores integers as they are), so ``limit_reached`` and
    ``cache.get`` see the same count.
    """
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    cache_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(cache_key, write=True)  # noqa: SLF001
    pipeline = client.pipeline(transaction=False)
    pipeline.set(cache_key, 0, ex=window, nx=True)
    pipeline.incr(cache_key)
    return pipeline.execute()[1]


def allow(request, *, scope: str, limit: int, window: int) -> bool:
    """Count one request; False once ``limit`` is passed in this ``window`` (s)."""
    key = _key(request, scope, window)
    count = _count_in_redis(key, window)
    if count is None:
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
    return count <= limit
