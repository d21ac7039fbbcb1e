"""Wagtail hooks of the shared layer."""

from wagtail import hooks

from . import public_cache


@hooks.register("on_serve_page")
def serve_from_public_cache(next_serve_page):
    """Public pages come from the shared cache when they may
    (``core.public_cache.serve_page``)."""

    def serve(page, request, args, kwargs):
        return public_cache.serve_page(next_serve_page, page, request, args, kwargs)

    return serve
