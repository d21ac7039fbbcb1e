"""The roles page: who is a coordinator, a facilitator or an editor.

Coordinators (and superusers) see every account against the three role
groups of ``website.roles``, with whether the account is active and which
events it is listed on as a facilitator, so access left behind (someone
listed on an event who has left the Facilitators group) shows here too.
Anyone else gets a 403.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from events.models import EventPage
from events.permissions import is_coordinator

from .roles import ROLES


def role_rows(users) -> list[dict]:
    """One row per user: their roles (in ``ROLES`` order, True or False),
    whether they are active, and the events they are listed on."""
    rows = []
    for user in users:
        groups = {group.name for group in user.groups.all()}
        rows.append(
            {
                "user": user,
                "roles": [role in groups for role in ROLES],
                "events": list(user.facilitated_events.all()),
            }
        )
    return rows


@require_GET
def roles_view(request):
    """Every account and its roles, for coordinators."""
    if not is_coordinator(request.user):
        raise PermissionDenied
    users = (
        get_user_model()
        .objects.prefetch_related(
            "groups",
            Prefetch(
                "facilitated_events",
                queryset=EventPage.objects.only("pk", "title").order_by("title"),
            ),
        )
        .order_by("-is_active", "first_name", "last_name", "username")
    )
    return TemplateResponse(
        request,
        "website/admin/roles.html",
        {"roles": ROLES, "rows": role_rows(users)},
    )
