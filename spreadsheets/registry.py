"""Which spreadsheet resources exist: each app registers its own.

An app lists its resources from a ``register_spreadsheet_resources`` Wagtail
hook that returns resource classes (``spreadsheets.resources.GatherResource``
subclasses); their ``key`` is the name in URLs and logs, and ``menu_order``
their place in the admin's Spreadsheets menu. The engine never names an
app's resources itself, so it sits below the apps that use it.
"""

from django.http import Http404
from wagtail import hooks

HOOK_NAME = "register_spreadsheet_resources"


def resources() -> dict:
    """Resource classes by key, in menu order."""
    found = [
        resource_cls for hook in hooks.get_hooks(HOOK_NAME) for resource_cls in hook()
    ]
    found.sort(key=lambda resource_cls: resource_cls.menu_order)
    by_key = {}
    for resource_cls in found:
        if resource_cls.key in by_key:
            raise ValueError(
                f"Two spreadsheet resources use the key {resource_cls.key!r}"
            )
        by_key[resource_cls.key] = resource_cls
    return by_key


def resource_class(key):
    """The resource class registered as ``key``, or 404."""
    resource_cls = resources().get(key)
    if resource_cls is None:
        raise Http404
    return resource_cls
