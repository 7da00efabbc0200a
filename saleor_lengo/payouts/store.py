"""Reading and writing payout rows. Callers own the transaction."""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from saleor_lengo.db.engine import Tx
from saleor_lengo.db.schema import payouts
from saleor_lengo.payouts.model import Payout, PayoutState


def new_id() -> str:
    return "po_" + secrets.token_hex(12)


def idempotency_key(transaction_id: str, issued_at: str, amount: Decimal) -> str:
    """One payout per refund request: Saleor resends a request (after a 5xx) with these unchanged."""
    raw = "\x1f".join((transaction_id, issued_at, format(amount.normalize(), "f")))
    return hashlib.sha256(raw.encode()).hexdigest()


async def get(conn: Tx, payout_id: str, *, lock: bool = False) -> Payout | None:
    query = select(payouts).where(payouts.c.id == payout_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    return Payout.from_row(row) if row else None


async def by_idempotency_key(conn: Tx, key: str) -> Payout | None:
    row = (await conn.execute(select(payouts).where(payouts.c.idempotency_key == key))).first()
    return Payout.from_row(row) if row else None


async def by_cashin(conn: Tx, pay_id: str) -> Payout | None:
    row = (await conn.execute(select(payouts).where(payouts.c.cashin_pay_id == pay_id))).first()
    return Payout.from_row(row) if row else None


async def by_callback_digest(conn: Tx, digest: str) -> Payout | None:
    row = (await conn.execute(select(payouts).where(payouts.c.callback_token_digest == digest))).first()
    return Payout.from_row(row) if row else None


async def for_payment(conn: Tx, payment_id: str) -> list[Payout]:
    rows = (await conn.execute(select(payouts).where(payouts.c.payment_id == payment_id).order_by(payouts.c.created_at))).all()
    return [Payout.from_row(r) for r in rows]


async def listed(conn: Tx, *, state: PayoutState | None = None, payment_id: str | None = None, limit: int = 200) -> list[Payout]:
    query = select(payouts).order_by(payouts.c.created_at.desc()).limit(limit)
    if state is not None:
        query = query.where(payouts.c.state == state.value)
    if payment_id is not None:
        query = query.where(payouts.c.payment_id == payment_id)
    return [Payout.from_row(r) for r in (await conn.execute(query)).all()]


async def insert(conn: Tx, **values: Any) -> None:
    await conn.execute(payouts.insert().values(**values))


async def update_fields(conn: Tx, payout_id: str, **values: Any) -> None:
    await conn.execute(update(payouts).where(payouts.c.id == payout_id).values(**values))
