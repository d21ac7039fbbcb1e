"""SiteSettings moves from the website app to core, keeping its table.

Only Django's idea of where the model lives changes: the table
``website_sitesettings`` and its rows stay as they are. The model's content
type is renamed too, so the permissions groups hold on it and its audit
entries follow the model.
"""

import django.db.models.deletion
import wagtail.fields
from django.conf import settings
from django.db import migrations, models


def _rename_content_type(apps, model, old_label, new_label):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=new_label, model=model).exists():
        return
    ContentType.objects.filter(app_label=old_label, model=model).update(
        app_label=new_label
    )


def move_content_type(apps, schema_editor):
    _rename_content_type(apps, "sitesettings", "website", "core")


def move_content_type_back(apps, schema_editor):
    _rename_content_type(apps, "sitesettings", "core", "website")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        # The table was created by the website app's migrations.
        ('website', '0004_importjob'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('wagtailcore', '0098_apitoken'),
        ('wagtailimages', '0027_image_description'),
        migrations.swappable_dependency(settings.WAGTAIL_PAGE_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
        migrations.CreateModel(
            name='SiteSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('organisation_name', models.CharField(default='Gather', help_text='Shown in the page header and in emails.', max_length=120)),
                ('phone', models.CharField(blank=True, max_length=40)),
                ('email', models.EmailField(blank=True, max_length=254)),
                ('address', models.TextField(blank=True)),
                ('crisis_line_text', wagtail.fields.RichTextField(blank=True, help_text="Shown at the foot of every page, e.g. 'In crisis? Call 988 at any time, or go to your nearest emergency department.'")),
                ('paper_size', models.CharField(choices=[('A4', 'A4'), ('letter', 'US Letter')], default='letter', help_text='Paper size of printed sign-in sheets, guides and handouts.', max_length=10)),
                ('spare_handouts', models.PositiveIntegerField(default=2, help_text='Session packs print one handout per confirmed participant plus this many spares for walk-ins.')),
                ('logo', models.ForeignKey(blank=True, help_text='Optional. Shown next to the organisation name.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='wagtailimages.image')),
                ('privacy_notice_page', models.ForeignKey(blank=True, help_text='Linked from every page footer and from sign-up forms.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.WAGTAIL_PAGE_MODEL)),
                ('site', models.OneToOneField(editable=False, on_delete=django.db.models.deletion.CASCADE, to='wagtailcore.site')),
            ],
            options={
                'verbose_name': 'site settings',
                'db_table': 'website_sitesettings',
            },
        ),
            ],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
