"""``manage.py rotate_field_encryption``: encrypt every stored support need
and session note again with the first key of GATHER_FIELD_ENCRYPTION_KEYS,
so the older keys can then be removed (README, Production: rotating the
field encryption key)."""

from django.apps import apps
from django.core.management.base import BaseCommand

from core.encryption import encrypted_fields, fernet, rotate_model


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field with the first key of "
        "GATHER_FIELD_ENCRYPTION_KEYS."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows read, locked and written per transaction.",
        )

    def handle(self, *args, batch_size, **options):
        # Fail before touching anything if the keys do not parse.
        fernet()
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields:
                continue
            written = rotate_model(model, batch_size=batch_size)
            # Counts and field names only: never a value.
            self.stdout.write(
                f"{model._meta.label}: {written} rows re-encrypted "
                f"({', '.join(fields)})."
            )
