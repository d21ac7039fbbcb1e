"""Encryption at rest for free text about a person (support needs, session
notes), with keys of its own.

Values are Fernet tokens (AES-128-CBC with an HMAC-SHA256, from the
``cryptography`` package) under ``settings.GATHER_FIELD_ENCRYPTION_KEYS``: the
first key encrypts, every key in the list decrypts, so a key is rotated by
putting a new one first, running ``manage.py rotate_field_encryption``, and
then dropping the old one (README, Production). The keys are not derived from
``SECRET_KEY``, so the secret that signs sessions and links can be changed
without touching this data, and a leak of one is not a leak of the other.

An empty value is stored as the empty string: a database can still tell
"gave support needs" from "gave none" (so listings can count or filter on it
without decrypting), and clearing a field by assigning ``""`` keeps working.
Any other comparison in SQL would compare ciphertext, so the field refuses it
(``EncryptedTextField``).
"""

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models, transaction
from django.db.models import lookups

#: Django's setting that lists the keys, newest first.
KEYS_SETTING = "GATHER_FIELD_ENCRYPTION_KEYS"


class DecryptionError(Exception):
    """A stored value that no configured key opens: a key was dropped before
    ``rotate_field_encryption`` ran, or the keys belong to another database."""


def configured_keys() -> tuple[str, ...]:
    """The keys from the settings, newest (the one that encrypts) first."""
    keys = getattr(settings, KEYS_SETTING, None) or ()
    if isinstance(keys, str):
        keys = keys.split(",")
    return tuple(key.strip() for key in keys if key.strip())


@functools.lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    # Keyed by the keys themselves, so changed settings (tests, a reload)
    # are picked up; parsing a key is cheap, but exports decrypt thousands.
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    """The MultiFernet of the configured keys; refuses to work without one."""
    keys = configured_keys()
    if not keys:
        raise ImproperlyConfigured(
            f"{KEYS_SETTING} is empty: support needs and session notes are "
            "stored encrypted and need at least one key."
        )
    try:
        return _fernet(keys)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"A key in {KEYS_SETTING} is not a Fernet key (32 bytes, url-safe "
            "base64); the README's Configuration section says how to make one."
        ) from error


def encrypt(value: str) -> str:
    """The token stored for ``value``; ``""`` stays ``""``."""
    if value == "":
        return ""
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The text ``token`` holds; ``""`` stays ``""``.

    Raises ``DecryptionError`` (naming no value) when no key opens it.
    """
    if token == "":
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            f"A stored value opens with none of the keys in {KEYS_SETTING}."
        ) from None


def is_encrypted(token: str) -> bool:
    """Whether ``token`` is a value a configured key opens (``""`` counts:
    it is stored as it is)."""
    try:
        decrypt(token)
    except DecryptionError:
        return False
    return True


class EmptyOnlyExact(lookups.Exact):
    """``field=""`` (and ``exclude(field="")``) works: empty values are
    stored in clear. Any other value would be compared with ciphertext and
    match nothing, so it is refused instead of answering wrongly."""

    def get_prep_lookup(self):
        if self.rhs != "":
            raise FieldError(
                "An encrypted field can only be compared with the empty string."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """A TextField stored as a Fernet token under the configured keys.

    Reads decrypt (``from_db_value``); every value written (saves, bulk
    creates, bulk updates, ``update()``) is encrypted in
    ``get_db_prep_value``, which Django calls unprepared for writes and
    prepared for lookups. Forms, admin screens, exports and templates see
    the plain text, so who may see it is decided by the same access
    functions as before. In SQL only ``isnull`` and
    comparison with ``""`` are allowed; anything else (``icontains``,
    ``in``, ``startswith``...) raises ``FieldError``. Ordering by it sorts
    ciphertext: do not.
    """

    allowed_lookups = frozenset({"exact", "isnull"})

    def get_lookup(self, lookup_name):
        if lookup_name not in self.allowed_lookups:
            return None
        if lookup_name == "exact":
            return EmptyOnlyExact
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        # Transforms (lower, unaccent, trigram...) would work on ciphertext.
        return None

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if prepared:
            # A lookup's value, already checked by EmptyOnlyExact: "" is
            # compared with "" as stored.
            return value
        value = self.get_prep_value(value)
        if value is None:
            return None
        return encrypt(value)


def _batches(queryset, size):
    pks = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), size):
        yield pks[start : start + size]


def encrypted_fields(model) -> list[str]:
    """The names of ``model``'s encrypted fields."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def rotate_model(model, *, batch_size: int = 500) -> int:
    """Encrypt every value of ``model``'s encrypted fields again with the
    first key; returns how many rows were written.

    Each batch is read under a row lock and written in the same transaction,
    so an edit made meanwhile is not overwritten with an older value.
    """
    fields = encrypted_fields(model)
    if not fields:
        return 0
    written = 0
    manager = model._base_manager
    for pks in _batches(manager.all(), batch_size):
        with transaction.atomic():
            rows = list(
                manager.filter(pk__in=pks).select_for_update().only("pk", *fields)
            )
            # Reading decrypted them with whichever key opened them; saving
            # encrypts with the first.
            manager.bulk_update(rows, fields)
            written += len(rows)
    return written


def encrypt_plaintext_column(model, field_names, *, batch_size: int = 500) -> int:
    """Data migration step: replace the clear values of ``field_names`` with
    tokens. ``model`` is the historical model, whose fields are still plain
    text fields, so it reads and writes the column as it is. Values that are
    already tokens are left alone, so a run that stopped half-way can be run
    again. Returns how many values were encrypted."""
    return _convert_column(model, field_names, batch_size, _encrypt_if_clear)


def decrypt_column(model, field_names, *, batch_size: int = 500) -> int:
    """The reverse: tokens back to clear text (``model`` historical, as
    above). Returns how many values were decrypted."""
    return _convert_column(model, field_names, batch_size, _decrypt_if_token)


def _encrypt_if_clear(value):
    return None if is_encrypted(value) else encrypt(value)


def _decrypt_if_token(value):
    return decrypt(value) if value != "" and is_encrypted(value) else None


def _convert_column(model, field_names, batch_size, convert):
    converted = 0
    manager = model._base_manager
    for pks in _batches(manager.all(), batch_size):
        with transaction.atomic():
            rows = list(
                manager.filter(pk__in=pks).select_for_update().only("pk", *field_names)
            )
            changed = []
            for row in rows:
                row_changed = False
                for name in field_names:
                    new = convert(getattr(row, name))
                    if new is not None:
                        setattr(row, name, new)
                        row_changed = True
                        converted += 1
                if row_changed:
                    changed.append(row)
            manager.bulk_update(changed, field_names)
    return converted


def check_keys(app_configs=None, **kwargs):
    """System check: at least one key, and every key a Fernet key."""
    try:
        fernet()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="core.E101")]
    return []


def check_keys_deploy(app_configs=None, **kwargs):
    """Deploy check: the key that encrypts is not the published
    development key."""
    keys = configured_keys()
    if keys and keys[0] == getattr(settings, "GATHER_DEV_FIELD_ENCRYPTION_KEY", None):
        return [
            checks.Warning(
                f"The first key in {KEYS_SETTING} is the development key from "
                "the repository, so the encrypted data is readable by anyone.",
                hint="Make a key of your own (README, Configuration), put it "
                "first and run manage.py rotate_field_encryption.",
                id="core.W101",
            )
        ]
    return []
