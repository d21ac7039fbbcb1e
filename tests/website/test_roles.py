"""The role groups (``website.roles``), the roles page, and a facilitator's
access ending when they leave the Facilitators group."""

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from wagtail.models import GroupPagePermission, Page

from events.calendars import feed_token
from events.groups import COORDINATORS_GROUP, EDITORS_GROUP, FACILITATORS_GROUP
from events.models import EventPage
from events.permissions import (
    events_visible_to,
    is_coordinator,
    registrations_visible_to,
    sessions_facilitated_by,
    sessions_visible_to,
)
from tests.conftest import make_registration_event, role_group, sign_up
from website.roles import sync_role_groups

pytestmark = pytest.mark.django_db


def codenames(group_name):
    group = role_group(group_name)
    return set(group.permissions.values_list("codename", flat=True))


def page_codenames(group_name):
    return set(
        GroupPagePermission.objects.filter(
            group__name=group_name, page=Page.get_first_root_node()
        ).values_list("permission__codename", flat=True)
    )


PARTICIPANT_PERMISSIONS = {
    f"{action}_{model}"
    for model in ("registration", "attendancerecord", "headcount", "sessionnote")
    for action in ("add", "change", "delete", "view")
}


# The groups --------------------------------------------------------------------


def test_the_migration_made_the_three_roles():
    """On a database migrations made (the test database), with nothing
    else run: a real install has roles to choose from."""
    assert {COORDINATORS_GROUP, FACILITATORS_GROUP, EDITORS_GROUP} <= set(
        Group.objects.values_list("name", flat=True)
    )
    coordinators = codenames(COORDINATORS_GROUP)
    assert {
        "access_admin",
        "add_registration",
        "change_registration",
        "view_registration",
        "add_eventsession",
        "change_eventsession",
        "change_venue",
        "change_attendancerecord",
        "add_closure",
        "change_closure",
        "delete_closure",
    } <= coordinators
    # Registrations are cancelled, never deleted: the reports count them.
    assert "delete_registration" not in coordinators
    assert page_codenames(COORDINATORS_GROUP) == {
        "add_page",
        "change_page",
        "publish_page",
    }


def test_facilitators_and_editors_hold_no_permission_on_participant_data():
    assert codenames(FACILITATORS_GROUP) == {"access_admin"}
    assert page_codenames(FACILITATORS_GROUP) == set()
    editors = codenames(EDITORS_GROUP)
    assert "access_admin" in editors
    assert not editors & PARTICIPANT_PERMISSIONS
    assert not {c for c in editors if c.endswith(("eventsession", "venue"))}
    assert page_codenames(EDITORS_GROUP) == {"add_page", "change_page", "publish_page"}


def test_running_it_again_changes_nothing_and_puts_a_role_back_in_step():
    before = {name: codenames(name) for name in (COORDINATORS_GROUP, EDITORS_GROUP)}
    pages_before = GroupPagePermission.objects.count()
    editors = role_group(EDITORS_GROUP)
    # Someone gave editors participant data by hand, and took a right away.
    editors.permissions.add(Permission.objects.get(codename="view_registration"))
    editors.permissions.remove(Permission.objects.get(codename="access_admin"))

    sync_role_groups(django_apps)
    sync_role_groups(django_apps)

    assert {name: codenames(name) for name in before} == before
    assert GroupPagePermission.objects.count() == pages_before
    assert Group.objects.filter(name=EDITORS_GROUP).count() == 1


def test_model_permissions_and_is_coordinator_agree(django_user_model):
    coordinator = django_user_model.objects.create_user("c", password="pw")
    coordinator.groups.add(role_group(COORDINATORS_GROUP))
    coordinator = django_user_model.objects.get(pk=coordinator.pk)
    assert is_coordinator(coordinator)
    assert coordinator.has_perms(
        ["events.view_registration", "events.change_registration"]
    )
    for name in (FACILITATORS_GROUP, EDITORS_GROUP):
        user = django_user_model.objects.create_user(name, password="pw")
        user.groups.add(role_group(name))
        assert not is_coordinator(user)
        assert not user.has_perm("events.view_registration")


def test_the_demo_uses_the_same_roles():
    """The demo builder calls ``sync_role_groups`` (it creates no groups of
    its own), so the demo's coordinators can do what a real install's can."""
    from website.demo import builder

    Group.objects.filter(name=FACILITATORS_GROUP).delete()
    assert builder.build_groups().name == FACILITATORS_GROUP
    assert codenames(FACILITATORS_GROUP) == {"access_admin"}
    assert not hasattr(builder, "GroupPagePermission")


# A facilitator's access ------------------------------------------------------------


@pytest.fixture
def listed_facilitator(event_index, django_user_model):
    """A facilitator in the group, listed on an event with one person."""
    user = django_user_model.objects.create_user("fac", password="pw")
    user.groups.add(role_group(FACILITATORS_GROUP))
    event = make_registration_event(event_index, capacity=5, title="WRAP group")
    event.facilitators.add(user)
    event.save()
    sign_up(event, "Robin Example")
    return user, event


def test_leaving_the_facilitators_group_ends_every_kind_of_access(
    client, listed_facilitator
):
    user, event = listed_facilitator
    session = event.sessions.get()
    client.force_login(user)
    feed = reverse("facilitator_calendar_feed", args=[feed_token(user)])
    sheet = reverse("facilitate_pdf", args=[session.pk, "sign-in-sheet"])
    roster = reverse("facilitate_session", args=[session.pk])
    assert client.get(roster).status_code == 200
    assert client.get(sheet + "?names=full").status_code == 200
    assert "WRAP group" in client.get(feed).content.decode()

    user.groups.remove(role_group(FACILITATORS_GROUP))
    user = type(user).objects.get(pk=user.pk)  # as the next request loads it

    assert event.facilitators.filter(pk=user.pk).exists()  # still listed
    for ask in (
        sessions_visible_to,
        sessions_facilitated_by,
        registrations_visible_to,
        events_visible_to,
    ):
        assert not ask(user).exists(), ask.__name__
    assert client.get(roster).status_code == 404
    assert client.get(sheet + "?names=full").status_code == 404
    assert "Robin" not in client.get(reverse("facilitate")).content.decode()
    calendar = client.get(feed)
    assert calendar.status_code == 200
    assert "WRAP group" not in calendar.content.decode()


def test_a_deactivated_facilitator_sees_nothing(listed_facilitator):
    user, _event = listed_facilitator
    assert sessions_visible_to(user).exists()
    user.is_active = False
    user.save()
    user = type(user).objects.get(pk=user.pk)
    assert not sessions_visible_to(user).exists()
    assert not registrations_visible_to(user).exists()
    assert not sessions_facilitated_by(user).exists()


def test_the_event_editor_shows_a_facilitator_who_left_the_group_as_without_access(
    client, admin_user, listed_facilitator, django_user_model
):
    user, event = listed_facilitator
    user.first_name, user.last_name = "Fay", "Left"
    user.save()
    django_user_model.objects.create_user("stranger", first_name="Sid", last_name="X")
    client.force_login(admin_user)
    edit = reverse("wagtailadmin_pages:edit", args=[event.pk])
    assert "no access" not in client.get(edit).content.decode()

    user.groups.remove(role_group(FACILITATORS_GROUP))

    page = client.get(edit).content.decode()
    assert "Fay Left (no access: not an active member of Facilitators)" in page
    # Someone never in the group is not offered.
    assert "Sid X" not in page


def test_only_coordinators_may_change_who_facilitates_an_event(
    client, listed_facilitator, django_user_model
):
    """Choosing facilitators opens an event's people to them, so an editor
    (or a facilitator) editing the page sees the choice but cannot change
    it: a disabled field keeps the page's facilitators whatever is posted."""
    facilitator, event = listed_facilitator
    editor = django_user_model.objects.create_user("ed")
    editor.groups.add(role_group(EDITORS_GROUP))
    coordinator = django_user_model.objects.create_user("coord")
    coordinator.groups.add(role_group(COORDINATORS_GROUP))
    form_class = EventPage.get_edit_handler().get_form_class()

    for user, disabled in ((editor, True), (facilitator, True), (coordinator, False)):
        form = form_class(instance=event, for_user=user)
        assert form.fields["facilitators"].disabled is disabled, user.username

    client.force_login(editor)
    page = client.get(reverse("wagtailadmin_pages:edit", args=[event.pk]))
    assert page.status_code == 200
    assert "Only coordinators choose who facilitates an event" in page.content.decode()


# The roles page ----------------------------------------------------------------


def test_a_coordinator_sees_who_has_which_role(client, django_user_model):
    coordinator = django_user_model.objects.create_user(
        "coord", password="pw", first_name="Cora", last_name="Nate"
    )
    coordinator.groups.add(role_group(COORDINATORS_GROUP))
    gone = django_user_model.objects.create_user(
        "gone", first_name="Gil", last_name="Gone", is_active=False
    )
    gone.groups.add(role_group(FACILITATORS_GROUP))
    editor = django_user_model.objects.create_user(
        "ed", first_name="Edie", last_name="Tor"
    )
    editor.groups.add(role_group(EDITORS_GROUP))
    client.force_login(coordinator)

    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("gather_roles") in home
    response = client.get(reverse("gather_roles"))

    assert response.status_code == 200
    rows = {row["user"].username: row for row in response.context["rows"]}
    assert response.context["roles"] == (
        COORDINATORS_GROUP,
        FACILITATORS_GROUP,
        EDITORS_GROUP,
    )
    assert rows["coord"]["roles"] == [True, False, False]
    assert rows["gone"]["roles"] == [False, True, False]
    assert rows["ed"]["roles"] == [False, False, True]
    page = response.content.decode()
    assert "Gil Gone" in page and "No: cannot sign in" in page


def test_nobody_else_opens_the_roles_page_or_sees_it_in_the_menu(
    client, django_user_model
):
    for name in (FACILITATORS_GROUP, EDITORS_GROUP):
        user = django_user_model.objects.create_user(name.lower(), password="pw")
        user.groups.add(role_group(name))
        client.force_login(user)
        home = client.get(reverse("wagtailadmin_home")).content.decode()
        assert reverse("gather_roles") not in home
        response = client.get(reverse("gather_roles"))
        assert response.status_code == 302  # Wagtail's refusal: to the dashboard
        assert response["Location"] == reverse("wagtailadmin_home")


def test_an_editor_s_menu_has_no_participant_screen(client, django_user_model):
    editor = django_user_model.objects.create_user("ed", password="pw")
    editor.groups.add(role_group(EDITORS_GROUP))
    coordinator = django_user_model.objects.create_user("co", password="pw")
    coordinator.groups.add(role_group(COORDINATORS_GROUP))
    screens = [
        reverse("event_registrations:index"),
        reverse("event_sessions:index"),
        reverse("attendance_reports"),
        reverse("spreadsheets_import", args=["registrations"]),
        reverse("spreadsheets_import", args=["attendance"]),
        reverse("gather_roles"),
    ]
    client.force_login(coordinator)
    menu = client.get(reverse("wagtailadmin_home")).content.decode()
    assert all(screen in menu for screen in screens)

    client.force_login(editor)
    menu = client.get(reverse("wagtailadmin_home")).content.decode()
    assert [screen for screen in screens if screen in menu] == []


def test_the_event_page_names_only_facilitators_who_still_are(
    site_client, listed_facilitator
):
    user, event = listed_facilitator
    user.first_name, user.last_name = "Fay", "Left"
    user.save()
    assert "Fay Left" in site_client.get(event.url).content.decode()
    user.groups.remove(role_group(FACILITATORS_GROUP))
    assert "Fay Left" not in site_client.get(event.url).content.decode()


def test_an_import_preview_closes_to_its_owner_when_they_leave_the_role(
    client, django_user_model
):
    from spreadsheets.models import ImportJob

    user = django_user_model.objects.create_user("co", password="pw")
    user.groups.add(role_group(COORDINATORS_GROUP), role_group(EDITORS_GROUP))
    job = ImportJob.objects.create(
        resource="registrations",
        user=user,
        file_name="people.csv",
        data=b"",
        status=ImportJob.Status.DONE,
        total_rows=1,
        preview={
            "headers": ["name"],
            "rows": [[2, "new", ["Robin Example"], {}, ""]],
            "totals": {"new": 1},
        },
    )
    client.force_login(user)
    url = reverse("spreadsheets_job", args=[job.pk])
    assert "Robin Example" in client.get(url).content.decode()

    user.groups.remove(role_group(COORDINATORS_GROUP))

    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
