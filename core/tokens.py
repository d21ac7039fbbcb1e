"""Secret link tokens that are never stored.

A token is an HMAC of a random per-object salt under the site's secret key:
256 bits, unguessable, and recomputable by the server whenever it needs to
send the link again. Only a SHA-256 of the token is stored for look-ups, so
the database alone never holds a usable link. Changing the salt revokes it.
"""

import hashlib
import secrets

from django.utils.crypto import salted_hmac


def new_salt() -> str:
    return secrets.token_hex(32)


def derive_token(purpose: str, salt: str) -> str:
    """The token for ``salt``; ``purpose`` keeps tokens of different kinds apart."""
    return salted_hmac(f"gather.{purpose}", salt, algorithm="sha256").hexdigest()


def hash_token(token: str) -> str:
    """What is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_plausible(token: str) -> bool:
    """Cheap check before a database look-up: 64 lowercase hex characters."""
    return len(token) == 64 and all(ch in "0123456789abcdef" for ch in token)
