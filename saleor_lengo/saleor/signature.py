"""Saleor's webhook signature: RS256 JWS with a detached, unencoded payload.

Verification works on the raw body bytes, before anything parses them: a
re-serialised body would not be the bytes Saleor signed. Every way a
signature can fail raises the one `SignatureError`.
"""

from __future__ import annotations

import functools
from typing import Any

import jwt
from jwt.api_jws import PyJWS

from saleor_lengo.saleor.keys import KeySet

_JWS = PyJWS(algorithms=["RS256"])


class SignatureError(Exception):
    """The signature is missing, malformed, made with an unknown key or does not match."""


# A header is a few dozen bytes of JSON; anything much longer is not Saleor's.
MAX_HEADER_SEGMENT = 1024


def unverified_header(token: str) -> dict[str, Any]:
    """The header of a JWS or JWT, not verified; SignatureError when it cannot be read. Do not mutate it.

    Saleor signs every webhook with the same header (alg, kid, b64, crit), so
    it is decoded once per distinct header segment: PyJWT checks every
    character of every segment, the long signature included, each time a
    header is read, and a webhook's header was read three times.
    """
    segment = token.partition(".")[0]
    if len(segment) > MAX_HEADER_SEGMENT:
        raise SignatureError("malformed signature")
    return _header(segment)


@functools.lru_cache(maxsize=64)
def _header(segment: str) -> dict[str, Any]:
    try:
        # Only the header segment matters here; the others are checked when the signature is.
        return jwt.get_unverified_header(segment + "..")
    except jwt.PyJWTError:
        raise SignatureError("malformed signature") from None


def signature_kid(signature: str) -> str:
    header = unverified_header(signature)
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str):
        raise SignatureError("signature must be RS256 with a kid")
    if header.get("b64") is not False or "b64" not in (header.get("crit") or []):
        raise SignatureError("signature must have a detached unencoded payload")
    return kid


def verify(signature: str, raw_body: bytes, jwks: KeySet) -> None:
    kid = signature_kid(signature)
    key = jwks.keys.get(kid)
    if key is None:
        raise SignatureError("signing key not in the JWKS")
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise SignatureError("signature payload must be detached")
    try:
        _JWS.decode_complete(signature, key, algorithms=["RS256"], detached_payload=raw_body)
    except jwt.PyJWTError:
        raise SignatureError("signature does not match") from None
