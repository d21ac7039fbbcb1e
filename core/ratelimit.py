"""A fixed-window rate limit per client address, kept in Django's cache.

With Redis as the cache the count is shared by every app server and process.
Addresses are hashed before they become cache keys, so they are not stored.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


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


def allow(request, *, scope: str, limit: int, window: int) -> bool:
    """Count one request; False once ``limit`` is passed in this ``window`` (s)."""
    key = _key(request, scope, window)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit
