"""SiteSettings and ImportJob now live in core and spreadsheets (see their
0001 migrations): the website app forgets them, and their tables stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('website', '0004_importjob'),
        ('core', '0001_initial'),
        ('spreadsheets', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
        migrations.RemoveField(
            model_name='sitesettings',
            name='logo',
        ),
        migrations.RemoveField(
            model_name='sitesettings',
            name='privacy_notice_page',
        ),
        migrations.RemoveField(
            model_name='sitesettings',
            name='site',
        ),
        migrations.DeleteModel(
            name='ImportJob',
        ),
        migrations.DeleteModel(
            name='SiteSettings',
        ),
            ],
        ),
    ]
