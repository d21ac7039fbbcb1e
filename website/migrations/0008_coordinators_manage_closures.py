"""Coordinators manage closures (``website.roles``): the date ranges every
series generated leaves out."""

from django.db import migrations

from website.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("website", "0007_coordinators_see_follow_ups"),
        ("events", "0013_closure_date_ranges"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
