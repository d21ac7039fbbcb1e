"""Wagtail hooks of the shared layer."""

from wagtail import hooks
from wagtail.permission_policies.pages import PagePermissionPolicy

from . import public_cache


@hooks.register("on_serve_page")
def serve_from_public_cache(next_serve_page):
    """Public pages come from the shared cache when they may
    (``core.public_cache.serve_page``)."""

    def serve(page, request, args, kwargs):
        return public_cache.serve_page(next_serve_page, page, request, args, kwargs)

    return serve


@hooks.register("construct_page_chooser_queryset")
def only_explorable_pages(pages, request):
    """Wagtail's page chooser (links, the page chooser modal and its search)
    offers the pages the user could find in the page explorer: none to
    someone with no page permissions (a facilitator), so the modal is no
    way round the explorer. Permissions on the root page (coordinators,
    editors) and superusers see every page, as before."""
    user = request.user
    if user.is_superuser:
        return pages
    permissions = PagePermissionPolicy().get_cached_permissions_for_user(user)
    if not user.is_active or not permissions:
        return pages.none()
    if any(permission.page.is_root() for permission in permissions):
        return pages
    explorable = PagePermissionPolicy().explorable_instances(user)
    return pages.filter(pk__in=explorable.values("pk"))
