"""Personal data encrypted at rest (PIPL; REGULATION.md §8).

Petitioners' ID numbers, phones and addresses are stored as `enc1:<key id>:<base64>` tokens,
encrypted with AES-SIV under a key from the environment (XINFANG_DATA_KEY). AES-SIV is
deterministic: the same value under the same key and column gives the same token, so an exact
search ("every case of the person with this ID number") is an indexed equality lookup on the token,
and the database never holds the plaintext. The price, accepted on purpose, is that equal values
are visibly equal to someone reading the raw table (a keyed "blind index" leaks exactly the same),
and that partial-match search is impossible on these columns.

Each column is bound into its tokens (associated data), so a token copied from the phone column
into the ID column does not decrypt.

Keys (docs/security.md, "Key rotation"):
- XINFANG_DATA_KEY: the current key, 64 random bytes in URL-safe base64 (`xinfang keys generate`).
  Required in production; in development one is generated into the data directory.
- XINFANG_DATA_KEYS_OLD: earlier keys, comma-separated, still accepted for reading; after
  `xinfang keys rotate` has re-encrypted every row under the current key they can be dropped.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc1:"
KEY_BYTES = 64  # AES-SIV with two 256-bit halves


class UndecryptableValue(Exception):
    """A stored token whose key is not configured, or that was tampered with."""


def generate_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _parse(text: str, name: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name} must be {KEY_BYTES} random bytes in URL-safe base64 "
                                   "(create one with `xinfang keys generate`)")
    return raw


def key_id(raw: bytes) -> str:
    return hashlib.sha256(b"xinfang-data-key:" + raw).hexdigest()[:8]


@functools.cache
def _keyring() -> tuple[str, dict[str, AESSIV]]:
    """(current key id, key id → cipher) from the settings."""
    current_text = settings.DATA_KEY
    if not current_text:
        if settings.PRODUCTION:
            raise ImproperlyConfigured("XINFANG_ENV=production needs XINFANG_DATA_KEY (`xinfang keys generate`)")
        key_file = settings.DATA_DIR / "data_key"
        if not key_file.exists():
            key_file.write_text(generate_key())
            key_file.chmod(0o600)
        current_text = key_file.read_text()
    current = _parse(current_text, "XINFANG_DATA_KEY")
    ring = {key_id(current): AESSIV(current)}
    for i, text in enumerate(settings.DATA_KEYS_OLD):
        old = _parse(text, f"XINFANG_DATA_KEYS_OLD[{i}]")
        ring.setdefault(key_id(old), AESSIV(old))
    return key_id(current), ring


def reset_keyring() -> None:
    """Forget the loaded keys (after the settings changed: tests, rotation)."""
    _keyring.cache_clear()


def current_key_id() -> str:
    return _keyring()[0]


def encrypt(value: str, context: str) -> str:
    if not value:
        return value
    kid, ring = _keyring()
    token = ring[kid].encrypt(value.encode(), [context.encode()])
    return f"{PREFIX}{kid}:{base64.urlsafe_b64encode(token).decode()}"


def decrypt(stored: str, context: str) -> str:
    """The plaintext of a stored value. Values written before encryption was introduced (no
    prefix) are returned as they are until the migration or `keys rotate` encrypts them."""
    if not stored or not stored.startswith(PREFIX):
        return stored
    try:
        kid, body = stored[len(PREFIX):].split(":", 1)
        cipher = _keyring()[1][kid]
        return cipher.decrypt(base64.urlsafe_b64decode(body.encode()), [context.encode()]).decode()
    except KeyError:
        raise UndecryptableValue(f"personal data encrypted under key {kid}, which is not configured "
                                 "(XINFANG_DATA_KEY / XINFANG_DATA_KEYS_OLD)") from None
    except (ValueError, InvalidTag, binascii.Error):
        raise UndecryptableValue("a stored personal-data value is damaged or was moved between columns") from None


def stored_key_id(stored: str) -> str | None:
    """The key id of a stored token (None for plaintext or empty)."""
    if stored and stored.startswith(PREFIX):
        return stored[len(PREFIX):].split(":", 1)[0]
    return None


class EncryptedCharField(models.CharField):
    """A CharField stored encrypted (see the module docstring). `max_length` limits the plaintext
    (forms, validation); the column itself is text. Exact and `in` lookups work; partial ones
    (contains, startswith, …) cannot and are refused."""

    def db_type(self, connection):
        return "text"

    def get_internal_type(self):
        # Not "CharField": bulk writers that adapt plain fields themselves (demo.writer.Inserter)
        # must call get_db_prep_save, which encrypts.
        return "EncryptedCharField"

    def rel_db_type(self, connection):
        return "text"

    @property
    def context(self) -> str:
        return f"{self.model._meta.label}.{self.attname}"

    def from_db_value(self, value, expression, connection):
        return decrypt(value, self.context) if value is not None else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value, self.context) if isinstance(value, str) else value

    def get_lookup(self, lookup_name):
        if lookup_name not in ("exact", "in", "isnull"):
            return None  # Django then reports an unsupported lookup instead of a silent non-match
        return super().get_lookup(lookup_name)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "xinfang.cases.crypto.EncryptedCharField", args, kwargs
