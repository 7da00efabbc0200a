"""Reading and writing payment rows. Callers own the transaction.

The statements are built once: building a select or an update takes
SQLAlchemy longer than SQLite takes to run it, and these run on every
payment request (benchmarks/README.md). On SQLite they run straight on
`sqlite3` (`db/prepared.py`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update

from saleor_lengo.db.engine import Tx
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import payments, status_checks
from saleor_lengo.payments.model import Payment, State


_BY_ID = prepared(select(payments).where(payments.c.id == bindparam("b_id")))
# PostgreSQL: a row lock serialises concurrent changes of one payment.
# SQLite ignores it; there the write transaction's BEGIN IMMEDIATE does.
_BY_ID_LOCKED = prepared(_BY_ID.with_for_update())
_BY_TRANSACTION = prepared(select(payments).where(
    payments.c.installation_id == bindparam("b_installation_id"),
    payments.c.saleor_transaction_id == bindparam("b_transaction_id"),
))
# What a callback needs of its payment: the whole row would cost more to build than to read.
_CALLBACK_TARGET = prepared(
    select(payments.c.id, payments.c.pay_id, payments.c.state, payments.c.callback_check_at)
    .where(payments.c.callback_token_digest == bindparam("b_digest"))
    .with_for_update()
)
# The columns to set are the keys given with each execution.
_UPDATE_BY_ID = prepared(update(payments).where(payments.c.id == bindparam("b_id")))
_INSERT_STATUS_CHECK = prepared(status_checks.insert())


async def get(conn: Tx, payment_id: str, *, lock: bool = False) -> Payment | None:
    row = (await conn.execute(_BY_ID_LOCKED if lock else _BY_ID, {"b_id": payment_id})).first()
    return Payment.from_row(row) if row else None


async def get_by_transaction(conn: Tx, installation_id: int, transaction_id: str) -> Payment | None:
    params = {"b_installation_id": installation_id, "b_transaction_id": transaction_id}
    row = (await conn.execute(_BY_TRANSACTION, params)).first()
    return Payment.from_row(row) if row else None


class CallbackTarget(NamedTuple):
    id: str
    pay_id: str | None
    state: State
    callback_check_at: float | None  # when its callbacks' last status check started (callbacks/gate.py)


async def callback_target(conn: Tx, digest: str) -> CallbackTarget | None:
    """The payment whose callback token has this digest, its row locked (PostgreSQL)."""
    row = (await conn.execute(_CALLBACK_TARGET, {"b_digest": digest})).first()
    return CallbackTarget(row.id, row.pay_id, State(row.state), row.callback_check_at) if row else None


async def update_fields(conn: Tx, payment_id: str, **values: Any) -> None:
    await conn.execute(_UPDATE_BY_ID, {"b_id": payment_id, **values})


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
        _INSERT_STATUS_CHECK,
        {
            "payment_id": payment_id,
            "checked_at": at,
            "source": source,
            "lengo_status": lengo_status,
            "amount": amount,
            "gateway": gateway,
            "error": error,
        },
    )
