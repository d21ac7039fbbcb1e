"""Benchmarks for the public cache (core/public_cache.py): the events
listing and the site feed served from the cache, against the same request
built from the database (the floor).

``make bench`` runs every other benchmark with the public cache off
(``GATHER_PUBLIC_CACHE_SECONDS=0``, see ``__main__``), so they keep
measuring the pages being built; these two turn it on for the cached side
only. The target is at least five times the throughput: a cached median at
most 0.2 of the uncached one. Both sides must answer the same bytes.
"""

from django.test.utils import override_settings

from .calendar import FEED_PATH
from .pages import bench_index
from .registry import Benchmark, register

CACHE_SECONDS = 300


def _cached(path):
    def run(ctx):
        with override_settings(GATHER_PUBLIC_CACHE_SECONDS=CACHE_SECONDS):
            return ctx.get(path(ctx))

    return run


def _uncached(path):
    def run(ctx):
        with override_settings(GATHER_PUBLIC_CACHE_SECONDS=0):
            return ctx.get(path(ctx))

    return run


def same_bytes(cached, uncached):
    """The cached answer is the page the database gives."""
    return [] if cached == uncached else ["the cached response differs"]


def _listing_path(ctx):
    return bench_index(ctx).url


def _feed_path(ctx):
    return FEED_PATH


register(
    Benchmark(
        name="events listing, cached",
        run=_cached(_listing_path),
        floor=_uncached(_listing_path),
        check=same_bytes,
        max_ratio=0.2,
        query_limit=8,
        description="the listing from the public cache; floor: built uncached",
    )
)
register(
    Benchmark(
        name="site feed, cached",
        run=_cached(_feed_path),
        floor=_uncached(_feed_path),
        check=same_bytes,
        max_ratio=0.2,
        query_limit=1,
        description="the 2,000-session feed from the public cache; floor: built",
    )
)
