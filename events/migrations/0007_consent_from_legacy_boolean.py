"""Carry the old yes/no consent over to one ``Consent`` row per channel, then
drop the boolean.

Someone who agreed ("The organisers may contact me about this event") is
recorded as consenting on every channel they gave details for (email when
they gave an address, text and call when they gave a phone number), at the
time they signed up, with the wording version "legacy". Going back sets the
boolean again for anyone with consent on any channel.
"""

from django.db import migrations, models

LEGACY_WORDING_VERSION = "legacy"


def legacy_consents(registrations) -> list[dict]:
    """The consent rows, as field dicts, for ``registrations``: (id, email,
    phone, agreed, created_at) tuples."""
    rows = []
    for pk, email, phone, agreed, created_at in registrations:
        if not agreed:
            continue
        channels = (["email"] if email else []) + (["text", "call"] if phone else [])
        rows += [
            {
                "registration_id": pk,
                "channel": channel,
                "given_at": created_at,
                "wording_version": LEGACY_WORDING_VERSION,
            }
            for channel in channels
        ]
    return rows


def carry_over_consent(apps, schema_editor):
    """Write the ``legacy_consents`` of every registration, in batches."""
    Registration = apps.get_model("events", "Registration")
    Consent = apps.get_model("events", "Consent")
    agreed = (
        Registration.objects.filter(consent_to_contact=True)
        .values_list("pk", "email", "phone", "consent_to_contact", "created_at")
        .order_by("pk")
    )
    rows = legacy_consents(agreed.iterator(chunk_size=2000))
    Consent.objects.bulk_create((Consent(**row) for row in rows), batch_size=500)


def back_to_boolean(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    Consent = apps.get_model("events", "Consent")
    given = Consent.objects.filter(given_at__isnull=False, withdrawn_at__isnull=True)
    Registration.objects.filter(pk__in=given.values("registration")).update(
        consent_to_contact=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0006_consent"),
    ]

    operations = [
        migrations.RunPython(carry_over_consent, back_to_boolean),
        migrations.RemoveField(model_name="registration", name="consent_to_contact"),
    ]
