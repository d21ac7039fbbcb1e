"""Fixtures of the spreadsheet tests: staff with and without a coordinator's
right to see personal data."""

import pytest
from django.contrib.auth.models import Group, Permission
from wagtail.models import GroupPagePermission

EVENTS_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("venue", "eventsession", "registration")
    for action in ("add", "change", "view")
]


def _staff(django_user_model, username, group_name, home_page, codenames):
    group, _ = Group.objects.get_or_create(name=group_name)
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="events", codename__in=codenames
        ),
    )
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.get_or_create(
            group=group,
            page=home_page,
            permission=Permission.objects.get(codename=codename),
        )
    user = django_user_model.objects.create_user(
        username, email=f"{username}@example.org", password="pw"
    )
    user.groups.add(group)
    return user


@pytest.fixture
def coordinator(django_user_model, home_page):
    """A non-superuser in the Coordinators group, with the events permissions."""
    return _staff(
        django_user_model, "coord", "Coordinators", home_page, EVENTS_PERMISSIONS
    )


@pytest.fixture
def staff_member(django_user_model, home_page):
    """Admin access and the events permissions, but not a coordinator and
    facilitating nothing: may not see anyone's personal data."""
    return _staff(django_user_model, "staff", "Editors", home_page, EVENTS_PERMISSIONS)
