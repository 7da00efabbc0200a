"""An installation's JWKS, checked and parsed once.

The JWKS URL is derived from a Saleor URL someone else gave the app, so
its answer is bounded before anything keeps it: at most `MAX_JWKS_BYTES`
of JSON (the fetch stops reading there), at most `MAX_KEYS` keys, every
one an RSA *public* key of a sensible size with a `kid`. A set that breaks
any rule is refused whole. The parsed keys live in `KeySet`; the database
keeps the JSON, turned back into a `KeySet` once per distinct text.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

MAX_JWKS_BYTES = 64 * 1024
MAX_KEYS = 10
MAX_KID_CHARS = 256
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192


class JwksRefused(ValueError):
    """The JWKS breaks one of the bounds; the message says which, never quoting it."""


@dataclass(frozen=True, eq=False)
class KeySet:
    """Saleor's signing keys by `kid`; `document` is the JSON object they came from (for storage)."""

    document: dict[str, Any]
    keys: dict[str, RSAPublicKey] = field(repr=False)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self.keys)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeySet) and self.document == other.document

    def __hash__(self) -> int:
        return hash(self.kids)


# No keys: what an installation has until a fetch succeeds.
EMPTY = KeySet(document={"keys": []}, keys={})


def _public_key(jwk: Any) -> tuple[str, RSAPublicKey]:
    if not isinstance(jwk, dict):
        raise JwksRefused("a JWKS key is not an object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_CHARS:
        raise JwksRefused("a JWKS key has no usable kid")
    if jwk.get("kty") != "RSA" or "d" in jwk or "p" in jwk or "q" in jwk:
        raise JwksRefused("a JWKS key is not an RSA public key")
    try:
        key = jwt.PyJWK(jwk, algorithm="RS256").key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise JwksRefused("a JWKS key is not a valid RSA public key") from None
    if not isinstance(key, RSAPublicKey) or not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
        raise JwksRefused("a JWKS key is not an RSA public key of 2048 to 8192 bits")
    return kid, key


def parse_document(document: Any) -> KeySet:
    """A checked `KeySet` from a decoded JWKS; JwksRefused when it breaks a bound."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksRefused("the JWKS has no keys list")
    listed = document["keys"]
    if not listed:
        raise JwksRefused("the JWKS has no keys")
    if len(listed) > MAX_KEYS:
        raise JwksRefused(f"the JWKS has more than {MAX_KEYS} keys")
    keys: dict[str, RSAPublicKey] = {}
    for jwk in listed:
        kid, key = _public_key(jwk)
        keys[kid] = key
    return KeySet(document={"keys": listed}, keys=keys)


@functools.lru_cache(maxsize=256)
def from_stored(text: str) -> KeySet:
    """The `KeySet` of a stored JWKS text, parsed once per distinct text (every read returns the same one).

    A set stored before these bounds existed may break them: it counts as
    empty, so the next webhook refetches a checked one.
    """
    try:
        return parse_document(json.loads(text))
    except (JwksRefused, ValueError, RecursionError):
        return EMPTY


def to_stored(keyset: KeySet) -> str:
    return json.dumps(keyset.document, sort_keys=True, separators=(",", ":"))
