"""Encryption of secrets at rest (license keys, app tokens, payer phones).

Keys are derived from SECRET_KEY with HKDF, so operators manage one string.
Fernet authenticates what it encrypts; MultiFernet decrypts with the old keys
in SECRET_KEY_FALLBACKS while writing with the current one, which is what
makes rotating SECRET_KEY possible without downtime.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"saleor-lengo/secrets-at-rest/v1"
_LOOKUP_INFO = b"saleor-lengo/lookup-hash/v1"


class DecryptionError(Exception):
    """A stored secret cannot be read with SECRET_KEY or its fallbacks."""


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _lookup_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LOOKUP_INFO).derive(secret.encode())


class Cipher:
    def __init__(self, secret_key: str, fallbacks: tuple[str, ...] = ()) -> None:
        self._primary = _fernet(secret_key)
        self._all = MultiFernet([self._primary, *(_fernet(k) for k in fallbacks)])
        self._lookup_keys = [_lookup_key(secret_key), *(_lookup_key(k) for k in fallbacks)]

    def lookup_hash(self, value: str) -> str:
        """Keyed hash (HMAC) of `value` with the current key: an exact-match search key that
        reveals nothing to whoever reads the database without SECRET_KEY."""
        return hmac.new(self._lookup_keys[0], value.encode(), hashlib.sha256).hexdigest()

    def lookup_hashes(self, value: str) -> list[str]:
        """`value`'s hash under every key: rows not yet rehashed by `rotate-secrets` are still found."""
        return [hmac.new(key, value.encode(), hashlib.sha256).hexdigest() for key in self._lookup_keys]

    def encrypt(self, plaintext: str) -> str:
        return self._primary.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._all.decrypt(token.encode()).decode()
        except InvalidToken:
            raise DecryptionError("stored secret cannot be decrypted with SECRET_KEY or SECRET_KEY_FALLBACKS") from None

    def rotate(self, token: str) -> str:
        """Re-encrypt with the current key (used by `rotate-secrets`)."""
        try:
            return self._all.rotate(token.encode()).decode()
        except InvalidToken:
            raise DecryptionError("stored secret cannot be decrypted with SECRET_KEY or SECRET_KEY_FALLBACKS") from None


def token_digest(token: str) -> str:
    """Lookup key for a bearer-style token, so the database never holds it in clear."""
    return hashlib.sha256(token.encode()).hexdigest()


def mask_email(email: str | None) -> str:
    """`a•••@example.com`: enough to recognise a customer, not to write to them."""
    if not email:
        return ""
    local, at, domain = email.partition("@")
    if not at:
        return mask(email)
    return (local[:1] or "") + "•••@" + domain


def mask(secret: str | None, visible: int = 4) -> str:
    """`••••1234`: enough to recognise a key or a phone, not to use it."""
    if not secret:
        return ""
    shown = secret[-visible:] if len(secret) > visible else ""
    return "••••" + shown
