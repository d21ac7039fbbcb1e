"""The Coordinators, Facilitators and Editors groups and their permissions
(``website.roles``). A later migration that changes a role runs
``sync_role_groups`` again."""

from django.db import migrations

from website.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("website", "0005_move_settings_and_import_jobs"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("events", "0004_registration_email_index"),
        ("attendance", "0001_initial"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
