"""The Dashboard token: who is calling the app's API, and what they may do.

The page gets a JWT from the Dashboard through app-bridge and sends it as
`authorization-bearer`, with `saleor-api-url` naming the Saleor instance
(PAYMENT-APPS.md §6). The token is Saleor's "thirdparty" access token for
this app: RS256 with a key of that instance's JWKS (refetched once when the
key is unknown or rotated, as for webhooks), `exp` in the future, `app`
equal to the app id stored at registration, and the staff user's
permissions in `user_permissions`.

Every failure is an `AuthError` with an HTTP status (401: not who they say,
403: known but not allowed) and a reason safe to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from sqlalchemy.exc import SQLAlchemyError

from saleor_lengo.saleor import installations
from saleor_lengo.saleor.installations import Installation
from saleor_lengo.logs import get_logger
from saleor_lengo.saleor.keys import KeySet
from saleor_lengo.saleor.signature import SignatureError
from saleor_lengo.needs import HasDb, HasJwks


class Needs(HasDb, HasJwks, Protocol):
    """What verifying a Dashboard token uses."""


log = get_logger(__name__)

TOKEN_HEADER = "authorization-bearer"
SALEOR_URL_HEADER = "saleor-api-url"
THIRDPARTY = "thirdparty"
READ_PERMISSIONS = frozenset({"HANDLE_PAYMENTS"})
WRITE_PERMISSIONS = frozenset({"MANAGE_APPS", "HANDLE_PAYMENTS"})
# Tolerated clock difference between Saleor and this app.
LEEWAY_SECONDS = 10
MAX_TOKEN_CHARS = 8192


class AuthError(Exception):
    """The request may not use the API; `status` is 401 or 403 (503 when storage is down)."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class _Expired(Exception):
    """Signature good, `exp` past: not a reason to refetch the JWKS."""


class _BadClaims(Exception):
    pass


@dataclass(frozen=True)
class DashboardUser:
    installation: Installation
    email: str | None
    user_id: str | None
    permissions: frozenset[str]

    @property
    def can_write(self) -> bool:
        return WRITE_PERMISSIONS <= self.permissions


def _check(token: str, jwks: KeySet) -> dict[str, Any]:
    """Decode with the key named by `kid`; SignatureError makes JwksKeeper refetch."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        raise SignatureError("signing key not in the JWKS") from None
    key = jwks.keys.get(str(kid))
    if key is None:
        raise SignatureError("signing key not in the JWKS")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            options={"require": ["exp"], "verify_aud": False},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise _Expired from None
    except (jwt.InvalidSignatureError, jwt.DecodeError):
        raise SignatureError("signature does not match") from None
    except jwt.PyJWTError as exc:
        raise _BadClaims(str(exc)) from None
    return claims


async def authenticate(deps: Needs, headers: Mapping[str, str]) -> DashboardUser:
    """The caller, with at least the read permission; AuthError otherwise."""
    token = (headers.get(TOKEN_HEADER) or "").strip()
    api_url = (headers.get(SALEOR_URL_HEADER) or "").strip()
    if not token or not api_url:
        raise AuthError(401, "Missing authorization-bearer or saleor-api-url header.", "MISSING_TOKEN")
    if len(token) > MAX_TOKEN_CHARS:
        raise AuthError(401, "The token is too long to be a Dashboard token.", "INVALID_TOKEN")
    try:
        inst = await installations.find(deps.db, api_url)
    except (SQLAlchemyError, OSError):
        log.exception("database_unavailable")
        raise AuthError(503, "Storage unavailable, try again.", "UNAVAILABLE") from None
    if inst is None:
        raise AuthError(401, "This Saleor instance has not installed the app.", "NOT_INSTALLED")
    try:
        claims = await deps.jwks.verify(inst, token, _check)
    except _Expired:
        raise AuthError(401, "The Dashboard token has expired; reload the page.", "TOKEN_EXPIRED") from None
    except _BadClaims as exc:
        raise AuthError(401, f"Invalid Dashboard token: {exc}.", "INVALID_TOKEN") from None
    except SignatureError as exc:
        log.warning("dashboard_token_rejected", reason=str(exc))
        raise AuthError(401, f"Invalid Dashboard token: {exc}.", "INVALID_TOKEN") from None
    if claims.get("app") != inst.app_id:
        raise AuthError(401, "The Dashboard token was issued for another app.", "WRONG_APP")
    if claims.get("type") != THIRDPARTY:
        raise AuthError(401, "The token is not a Dashboard token for an app (type must be thirdparty).", "WRONG_TYPE")
    raw_permissions = claims.get("user_permissions")
    permissions = frozenset(p for p in raw_permissions if isinstance(p, str)) if isinstance(raw_permissions, list) else frozenset()
    user = DashboardUser(
        installation=inst,
        email=claims.get("email") if isinstance(claims.get("email"), str) else None,
        user_id=claims.get("user_id") if isinstance(claims.get("user_id"), str) else None,
        permissions=permissions,
    )
    if not READ_PERMISSIONS <= permissions:
        raise AuthError(403, "You need the HANDLE_PAYMENTS permission to see Lengo payments.", "PERMISSION_DENIED")
    return user


def require_write(user: DashboardUser) -> None:
    if not user.can_write:
        raise AuthError(
            403, "Changing the Lengo settings needs the MANAGE_APPS and HANDLE_PAYMENTS permissions.", "PERMISSION_DENIED"
        )
