"""ImportJob moves from the website app to spreadsheets, keeping its table.

Only Django's idea of where the model lives changes: the table
``website_importjob`` and its rows stay as they are. Its content type is
renamed, the audit entries of past imports and exports take the engine's
action names, and queued import tasks point at the task's new module.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


#: Audit-log action names, before and after the move.
ACTIONS = {
    "website.export": "spreadsheets.export",
    "website.import": "spreadsheets.import",
}
TASK_PATHS = {
    "website.spreadsheets.run_import_stage": "spreadsheets.jobs.run_import_stage",
}


def _move(apps, *, content_type, actions, task_paths):
    ContentType = apps.get_model("contenttypes", "ContentType")
    old_label, new_label = content_type
    if not ContentType.objects.filter(app_label=new_label, model="importjob").exists():
        ContentType.objects.filter(app_label=old_label, model="importjob").update(
            app_label=new_label
        )
    ModelLogEntry = apps.get_model("wagtailcore", "ModelLogEntry")
    for old, new in actions.items():
        ModelLogEntry.objects.filter(action=old).update(action=new)
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in task_paths.items():
        DBTaskResult.objects.filter(task_path=old).update(task_path=new)


def move_references(apps, schema_editor):
    _move(apps, content_type=("website", "spreadsheets"), actions=ACTIONS, task_paths=TASK_PATHS)


def move_references_back(apps, schema_editor):
    _move(
        apps,
        content_type=("spreadsheets", "website"),
        actions={new: old for old, new in ACTIONS.items()},
        task_paths={new: old for old, new in TASK_PATHS.items()},
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        # The table was created by the website app's migrations.
        ('website', '0004_importjob'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('wagtailcore', '0098_apitoken'),
        ('django_tasks_database', '0021_conditional_partial_index_ordering'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
        migrations.CreateModel(
            name='ImportJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('resource', models.CharField(max_length=40)),
                ('file_name', models.CharField(max_length=255)),
                ('data', models.BinaryField(blank=True)),
                ('options', models.JSONField(blank=True, default=dict)),
                ('skip_invalid', models.BooleanField(default=False, help_text='Import the valid rows and leave out the others.')),
                ('status', models.CharField(choices=[('preview_queued', 'Waiting to be checked'), ('previewing', 'Checking'), ('previewed', 'Checked'), ('import_queued', 'Waiting to be imported'), ('importing', 'Importing'), ('done', 'Imported'), ('failed', 'Not imported')], default='preview_queued', max_length=20)),
                ('total_rows', models.PositiveIntegerField(default=0)),
                ('processed_rows', models.PositiveIntegerField(default=0)),
                ('preview', models.JSONField(blank=True, default=dict)),
                ('message', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'spreadsheet import',
                'db_table': 'website_importjob',
                'ordering': ['-created_at', '-pk'],
            },
        ),
            ],
        ),
        migrations.RunPython(move_references, move_references_back),
    ]
