"""Dashboard tokens as Saleor mints them for an app's page (`create_access_token_for_app`).

RS256 with the fake Saleor's current key and its `kid`; claims as Saleor
sets them: `app` (the app's global id), `type: "thirdparty"`, the user's
permissions in `user_permissions` (and their intersection with the app's in
`permissions`), `exp`, `iat`, `iss`, `email`, `user_id`, `is_staff`, `token`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any

import jwt

from tests.fakes.saleor import FakeSaleor, SigningKey
from tests.fakes.known_secrets import remember

STAFF = ("HANDLE_PAYMENTS", "MANAGE_APPS")
APP_PERMISSIONS = frozenset({"HANDLE_PAYMENTS"})


def dashboard_claims(
    saleor: FakeSaleor,
    *,
    permissions: Iterable[str] = STAFF,
    ttl: float = 300.0,
    now: float | None = None,
    email: str = "staff@shop.example",
    user_id: str = "VXNlcjox",
    **overrides: Any,
) -> dict[str, Any]:
    issued = time.time() if now is None else now
    user_permissions = sorted(set(permissions))
    claims: dict[str, Any] = {
        "iat": int(issued),
        "iss": saleor.api_url,
        "owner": "saleor",
        "exp": int(issued + ttl),
        "token": secrets.token_urlsafe(12),
        "email": email,
        "type": "thirdparty",
        "user_id": user_id,
        "is_staff": True,
        "app": saleor.app_id,
        "permissions": sorted(APP_PERMISSIONS & set(user_permissions)),
        "user_permissions": user_permissions,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def dashboard_token(saleor: FakeSaleor, *, key: SigningKey | None = None, **kwargs: Any) -> str:
    k = key or saleor.current_key
    token = jwt.encode(dashboard_claims(saleor, **kwargs), k.private, algorithm="RS256", headers={"kid": k.kid})
    remember(token, token.rsplit(".", 1)[-1])  # the whole token, and its signature alone
    return token


def dashboard_headers(saleor: FakeSaleor, token: str | None = None, **kwargs: Any) -> dict[str, str]:
    """What the page sends with every API call."""
    return {
        "authorization-bearer": token if token is not None else dashboard_token(saleor, **kwargs),
        "saleor-api-url": saleor.api_url,
    }


async def insert_payment(db: Any, *, installation_id: int, configuration_id: int, **values: Any) -> str:
    """A payment row as checkout would leave it (succeeded unless told otherwise), for the page to show."""
    from saleor_lengo.db.schema import payments

    now = values.pop("now", time.time())
    pid = values.pop("id", "pay_" + secrets.token_hex(8))
    row: dict[str, Any] = {
        "id": pid,
        "installation_id": installation_id,
        "configuration_id": configuration_id,
        "saleor_transaction_id": "VHJhbnNhY3Rpb25JdGVtOj" + secrets.token_hex(4),
        "callback_token_digest": secrets.token_hex(32),
        "state": "succeeded",
        "pay_id": secrets.token_urlsafe(16) + "==",
        "payment_url": "https://payment.lengo.test/p/1",
        "amount": "176500",
        "currency": "GNF",
        "confirmed_amount": "176500",
        "lengo_status": "SUCCESS",
        "gateway": "Orange Money",
        "environment": "sandbox",
        "channel_id": "Q2hhbm5lbDoy",
        "channel_slug": "channel-gnf",
        "source_type": "Checkout",
        "source_id": "Q2hlY2tvdXQ6" + secrets.token_hex(4),
        "refunded_amount": "0",
        "created_at": now,
        "updated_at": now,
        "expires_at": now + 86400,
        "watch_until": now + 7 * 86400,
    }
    if values.get("state") not in (None, "succeeded"):
        row.update(confirmed_amount=None, lengo_status="INITIATED", gateway=None)
    row.update(values)
    async with db.write() as conn:
        await conn.execute(payments.insert().values(**row))
    return pid
