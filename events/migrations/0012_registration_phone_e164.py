"""Phone numbers in E.164, and the call-list answers.

Every phone number held was stored as typed. Those ``phonenumbers`` reads as
a valid number in the site's region (``PHONENUMBER_DEFAULT_REGION``) are
stored in E.164; a number it cannot read is never lost: it moves to
``phone_as_typed`` and ``phone`` is left empty, so staff can check it with
the person (``Registration.objects.phone_needs_check()``). Going back puts
every number, E.164 or as typed, in ``phone`` again.

``call_times`` and ``voicemail_ok`` are new: the sign-up form asks them of
someone who gives a phone number.
"""

import phonenumbers
import phonenumber_field.modelfields
from django.conf import settings
from django.db import migrations, models

#: Registrations read and written per statement.
BATCH = 500


def e164_or_none(typed: str, region: str) -> str | None:
    """``typed`` in E.164 when it is a valid number in ``region``, else None."""
    try:
        number = phonenumbers.parse(typed, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phones_to_e164(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    region = settings.PHONENUMBER_DEFAULT_REGION
    rows = (
        Registration.objects.exclude(phone="")
        .order_by("pk")
        .values_list("pk", "phone")
        .iterator(chunk_size=2000)
    )
    changed = []
    for pk, typed in rows:
        number = e164_or_none(typed, region)
        if number == typed:
            continue
        if number is None:
            changed.append(Registration(pk=pk, phone="", phone_as_typed=typed))
        else:
            changed.append(Registration(pk=pk, phone=number, phone_as_typed=""))
    Registration.objects.bulk_update(
        changed, ["phone", "phone_as_typed"], batch_size=BATCH
    )


def phones_back_as_typed(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    kept = Registration.objects.exclude(phone_as_typed="").order_by("pk")
    changed = [
        Registration(pk=pk, phone=typed)
        for pk, typed in kept.values_list("pk", "phone_as_typed").iterator()
    ]
    Registration.objects.bulk_update(changed, ["phone"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0011_messages_deliveries_call_list"),
    ]

    operations = [
        migrations.AddField(
            model_name="registration",
            name="phone_as_typed",
            field=models.CharField(
                blank=True,
                help_text="A number kept from before numbers were checked that "
                "could not be read as a phone number; staff check it with the "
                "person (Registration.objects.phone_needs_check()).",
                max_length=40,
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="call_times",
            field=models.CharField(
                blank=True,
                help_text="Best times to call, in the person's words (for the "
                "call list).",
                max_length=100,
            ),
        ),
        migrations.AddField(
            model_name="registration",
            name="voicemail_ok",
            field=models.BooleanField(
                default=False,
                help_text="Whether staff may leave a voicemail. No unless the "
                "person said yes: phones are often shared.",
            ),
        ),
        migrations.RunPython(phones_to_e164, phones_back_as_typed),
        migrations.AlterField(
            model_name="registration",
            name="phone",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True,
                help_text="Stored in E.164 (+14165550123); read in the site's "
                "region (PHONENUMBER_DEFAULT_REGION) when typed without a "
                "country code.",
                max_length=40,
                region=None,
            ),
        ),
    ]
