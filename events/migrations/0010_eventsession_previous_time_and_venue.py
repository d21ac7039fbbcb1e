from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    dependencies = [
        ("events", "0009_registration_repeat_notice_sent_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="eventsession",
            name="previous_start",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the session started before it last moved.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="eventsession",
            name="previous_end",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the session ended before it last moved.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="eventsession",
            name="previous_venue",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                help_text="Where the session met before it last moved.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="events.venue",
            ),
        ),
    ]
