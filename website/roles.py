"""The three roles Gather's access rests on, as user groups, and the one
function that creates them and keeps them in step.

* **Coordinators** run the program: the Wagtail admin, every event, session,
  venue and page, every registration (never deleted: cancelled), attendance,
  reports, imports and exports. ``events.permissions.is_coordinator`` and
  these model permissions say the same thing.
* **Facilitators** sign in to the admin and the facilitator area. Their
  rosters, attendance, notes, printed sheets and calendar feed come from
  being listed on an event while in this group and active
  (``events.permissions``), not from model permissions: they hold none on
  participant data, so no admin listing, search or history shows them
  another group's people.
* **Editors** write pages and the workshop library, with images and
  documents. They hold no permission on registrations, sessions or
  attendance, so no participant screen opens for them.

``sync_role_groups(apps)`` is written against migration ``apps`` so that a
data migration can call it (``website/migrations/0006_role_groups.py``), a
later migration can call it again when a role changes, and the demo and the
tests use the very same thing (with ``django.apps.apps``). It is idempotent.
Each role's model permissions are set to exactly the ones listed here (a
permission added by hand to a role group is removed at the next sync);
page permissions listed here are granted on the root page and others,
such as a subtree granted by hand, are left alone.

This lives in ``website`` because the roles span every app below it.
"""

from django.contrib.auth.management import create_permissions

from events.groups import COORDINATORS_GROUP, EDITORS_GROUP, FACILITATORS_GROUP

ADMIN_ACCESS = ("wagtailadmin", "admin", ("access",))
ALL = ("add", "change", "delete", "view")

#: Pictures and files for pages: Wagtail's own actions on them.
MEDIA = (
    ("wagtailimages", "image", ("add", "change", "delete", "choose")),
    ("wagtaildocs", "document", ("add", "change", "delete", "choose")),
)

#: Role -> (app label, model name, actions) of its model permissions.
MODEL_PERMISSIONS = {
    COORDINATORS_GROUP: (
        ADMIN_ACCESS,
        ("events", "eventsession", ALL),
        ("events", "venue", ALL),
        # Days the program is closed, left out of every series generated.
        ("events", "closure", ALL),
        # Registrations are cancelled, never deleted: the reports count them.
        ("events", "registration", ("add", "change", "view")),
        ("attendance", "attendancerecord", ("add", "change", "view")),
        ("attendance", "headcount", ("add", "change", "view")),
        ("attendance", "sessionnote", ("add", "change", "view")),
        # The follow-up inbox is theirs (``is_coordinator``); this lets
        # Wagtail's site history show them its entries.
        ("attendance", "followup", ("view",)),
        ("core", "sitesettings", ("change",)),
        # Exports, imports and views of the registrations listing are
        # logged on the type of what they showed (one entry may span
        # events); Wagtail's site history shows an entry only to someone
        # with a permission on its object's type, here ContentType.
        ("contenttypes", "contenttype", ("view",)),
        *MEDIA,
    ),
    FACILITATORS_GROUP: (ADMIN_ACCESS,),
    EDITORS_GROUP: (ADMIN_ACCESS, *MEDIA),
}

#: Role -> page permissions it holds on the whole page tree (the root page).
PAGE_PERMISSIONS = {
    COORDINATORS_GROUP: ("add_page", "change_page", "publish_page"),
    FACILITATORS_GROUP: (),
    EDITORS_GROUP: ("add_page", "change_page", "publish_page"),
}

#: The role groups, in the order screens list them.
ROLES = (COORDINATORS_GROUP, FACILITATORS_GROUP, EDITORS_GROUP)


def _permission_codename(model_name: str, action: str) -> str:
    return f"{action}_{model_name}"


def _ensure_permissions(apps) -> None:
    """Create every model's permissions now: Django makes them only after
    all migrations have run (``post_migrate``), too late for a data
    migration on a new database."""
    for app_config in apps.get_app_configs():
        # Migration apps have no models module; create_permissions skips
        # such apps unless told they have one.
        had = getattr(app_config, "models_module", None)
        app_config.models_module = had or True
        try:
            create_permissions(app_config, verbosity=0, apps=apps)
        finally:
            app_config.models_module = had


def _not_made_yet(apps, app_label: str, model_name: str) -> bool:
    """Whether a Gather model is made by a migration that has not run yet
    (that migration runs ``sync_role_groups`` again)."""
    if app_label not in ("events", "attendance", "workshops", "core", "website"):
        return False
    try:
        apps.get_model(app_label, model_name)
    except LookupError:
        return True
    return False


def sync_role_groups(apps, schema_editor=None) -> None:
    """Create the Coordinators, Facilitators and Editors groups if missing
    and give each exactly its model permissions and its page permissions on
    the root page. Safe to run any number of times."""
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    Page = apps.get_model("wagtailcore", "Page")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for app_label, model_name, actions in MODEL_PERMISSIONS[role]:
            if _not_made_yet(apps, app_label, model_name):
                continue
            for action in actions:
                wanted.append(
                    Permission.objects.get(
                        content_type__app_label=app_label,
                        codename=_permission_codename(model_name, action),
                    )
                )
        group.permissions.set(wanted)
        root = Page.objects.filter(depth=1).first()
        if root is None:
            continue
        for codename in PAGE_PERMISSIONS[role]:
            GroupPagePermission.objects.get_or_create(
                group=group,
                page=root,
                permission=Permission.objects.get(
                    content_type__app_label="wagtailcore", codename=codename
                ),
            )
