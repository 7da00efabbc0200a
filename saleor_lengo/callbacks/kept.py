"""How many callback rows one payment keeps: the first `MAX_KEPT_PER_PAYMENT`; the rest are counted.

A payment's callback URL, token included, is held by Lengo and by every
proxy on the way, so anyone who saw it can post to it as often as they like.
Every callback is still recorded before it is answered (and confirmed:
`callbacks/gate.py`), but once a row is final and the payment already has
`MAX_KEPT_PER_PAYMENT` rows before it, it is deleted and counted in the
payment's `callbacks_not_kept`, which the payment's history shows
(`payments show`). Rows still open are never deleted: their confirmation is
pending.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select, update

from saleor_lengo.callbacks.outcomes import OPEN
from saleor_lengo.db.engine import Tx
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import callbacks, payments

MAX_KEPT_PER_PAYMENT = 100

# The id of the first row beyond the kept ones, if any (the payment_id index makes it cheap).
_BEYOND = prepared(
    select(callbacks.c.id)
    .where(callbacks.c.payment_id == bindparam("b_payment_id"))
    .order_by(callbacks.c.id)
    .limit(1)
    .offset(MAX_KEPT_PER_PAYMENT)
)
_DROP = delete(callbacks).where(
    callbacks.c.payment_id == bindparam("b_payment_id"),
    callbacks.c.id >= bindparam("b_from_id"),
    callbacks.c.outcome.not_in(OPEN),
)
_COUNT = update(payments).where(payments.c.id == bindparam("b_payment_id")).values(
    callbacks_not_kept=payments.c.callbacks_not_kept + bindparam("b_dropped")
)


async def trim(conn: Tx, payment_id: str) -> int:
    """Delete this payment's final rows beyond the kept ones, counting them; how many (inside the caller's transaction)."""
    beyond = (await conn.execute(_BEYOND, {"b_payment_id": payment_id})).scalar()
    if beyond is None:
        return 0
    dropped = (await conn.execute(_DROP, {"b_payment_id": payment_id, "b_from_id": beyond})).rowcount
    if dropped:
        await conn.execute(_COUNT, {"b_payment_id": payment_id, "b_dropped": dropped})
    return int(dropped)


__all__ = ["MAX_KEPT_PER_PAYMENT", "trim"]
