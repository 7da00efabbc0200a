"""The APL: installations keyed by Saleor API URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from saleor_lengo.crypto import Cipher
from saleor_lengo.db.engine import Database, Tx, now
from saleor_lengo.db.schema import installations
from saleor_lengo.saleor import keys
from saleor_lengo.saleor.keys import KeySet


@dataclass(frozen=True)
class Installation:
    id: int
    saleor_api_url: str
    app_id: str
    token_enc: str
    jwks: KeySet
    jwks_fetched_at: float
    # Set when Saleor refused the token as invalid: the app was deleted there (uninstall.py).
    removed_at: float | None = None

    def token(self, cipher: Cipher) -> str:
        return cipher.decrypt(self.token_enc)


def _row(row: Any) -> Installation:
    return Installation(
        id=row.id,
        saleor_api_url=row.saleor_api_url,
        app_id=row.app_id,
        token_enc=row.token_enc,
        jwks=keys.from_stored(row.jwks),
        jwks_fetched_at=row.jwks_fetched_at,
        removed_at=row.removed_at,
    )


async def get_by_url(conn: Tx, saleor_api_url: str) -> Installation | None:
    row = (
        await conn.execute(select(installations).where(installations.c.saleor_api_url == saleor_api_url))
    ).first()
    return _row(row) if row else None


async def get_by_id(conn: Tx, installation_id: int) -> Installation | None:
    row = (await conn.execute(select(installations).where(installations.c.id == installation_id))).first()
    return _row(row) if row else None


async def find(db: Database, saleor_api_url: str) -> Installation | None:
    async with db.read() as conn:
        return await get_by_url(conn, saleor_api_url)


async def save(
    db: Database,
    cipher: Cipher,
    *,
    saleor_api_url: str,
    app_id: str,
    token: str,
    jwks: KeySet,
    jwks_fetched_at: float | None = None,
) -> Installation:
    """Insert, or replace the installation of the same Saleor URL (a re-install: its configurations stay).

    `jwks_fetched_at`: when the fetch of `jwks` began.
    """
    t = now()
    values = {
        "app_id": app_id,
        "token_enc": cipher.encrypt(token),
        "jwks": keys.to_stored(jwks),
        "jwks_fetched_at": t if jwks_fetched_at is None else jwks_fetched_at,
        "updated_at": t,
        "removed_at": None,
        "erased_at": None,
    }
    async with db.write() as conn:
        conn.settings_changed()
        existing = await get_by_url(conn, saleor_api_url)
        if existing:
            await conn.execute(update(installations).where(installations.c.id == existing.id).values(**values))
        else:
            await conn.execute(
                installations.insert().values(saleor_api_url=saleor_api_url, created_at=t, **values)
            )
        found = await get_by_url(conn, saleor_api_url)
    assert found is not None
    return found


async def replace_jwks(db: Database, installation_id: int, jwks: KeySet, *, fetched_at: float) -> None:
    """Store a refetched set; `fetched_at`: when its fetch began."""
    async with db.write() as conn:
        conn.settings_changed()
        await conn.execute(
            update(installations)
            .where(installations.c.id == installation_id)
            .values(jwks=keys.to_stored(jwks), jwks_fetched_at=fetched_at)
        )
