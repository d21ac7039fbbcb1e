"""Coordinators may view follow-ups (``website.roles``), so Wagtail's site
history shows them the follow-up inbox's audit entries."""

from django.db import migrations

from website.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("website", "0006_role_groups"),
        ("attendance", "0003_follow_up_inbox_and_staff_notifications"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
