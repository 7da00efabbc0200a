"""Reading and writing payment rows. Callers own the transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from saleor_lengo.db.engine import Tx
from saleor_lengo.db.schema import payments, status_checks
from saleor_lengo.payments.model import Payment


async def get(conn: Tx, payment_id: str, *, lock: bool = False) -> Payment | None:
    query = select(payments).where(payments.c.id == payment_id)
    if lock:
        # PostgreSQL: a row lock serialises concurrent changes of one payment.
        # SQLite ignores it; there the write transaction's BEGIN IMMEDIATE does.
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return Payment.from_row(row) if row else None


async def get_by_transaction(conn: Tx, installation_id: int, transaction_id: str) -> Payment | None:
    row = (
        await conn.execute(
            select(payments).where(
                payments.c.installation_id == installation_id, payments.c.saleor_transaction_id == transaction_id
            )
        )
    ).first()
    return Payment.from_row(row) if row else None


async def get_by_token_digest(conn: Tx, digest: str) -> Payment | None:
    row = (await conn.execute(select(payments).where(payments.c.callback_token_digest == digest))).first()
    return Payment.from_row(row) if row else None


async def update_fields(conn: Tx, payment_id: str, **values: Any) -> None:
    await conn.execute(update(payments).where(payments.c.id == payment_id).values(**values))


async def record_status_check(
    conn: Tx,
    payment_id: str,
    *,
    at: float,
    source: str,
    lengo_status: str | None = None,
    amount: str | None = None,
    gateway: str | None = None,
    error: str | None = None,
) -> None:
    await conn.execute(
        status_checks.insert().values(
            payment_id=payment_id,
            checked_at=at,
            source=source,
            lengo_status=lengo_status,
            amount=amount,
            gateway=gateway,
            error=error,
        )
    )
