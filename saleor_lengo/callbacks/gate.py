"""One status check at a time per payment for its callbacks, at most one every `CHECK_INTERVAL_SECONDS`.

Callbacks are hints, and anyone holding a payment's callback URL can send
them: if each one cost a status call to Lengo with the merchant's key, a
flood of forged ones would cost as many calls. So the callbacks of one
payment share its confirmation: the confirmation that claims the payment's
gate asks Lengo once and settles every open callback of that payment
received before it asked (`confirmation._settle_callbacks`); a confirmation that finds
the gate closed leaves its row due when the gate reopens, for the
confirmer loop. A genuine callback is therefore settled by a check that
starts at most `CHECK_INTERVAL_SECONDS` after it arrived.

What holds where:
- the claim is a conditional UPDATE of the payment's `callback_check_at`,
  so across processes and replicas on one database at most one check per
  payment starts per interval (as far as their clocks agree);
- one in flight at a time: a check is cut off after `confirm`'s status
  budget, far below the interval; within a process, a payment whose check
  is still in flight is not claimed again whatever the clock says
  (`CallbackQueue.checks_in_flight`, callback_queue.py).
"""

from __future__ import annotations

from sqlalchemy import bindparam, or_, select, update

from saleor_lengo.db.engine import Tx
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import payments

CHECK_INTERVAL_SECONDS = 10.0
# How long a row waits when the payment's check is still in flight in this process past the interval.
IN_FLIGHT_RETRY_SECONDS = 1.0

_CLAIM = prepared(
    update(payments).where(
        payments.c.id == bindparam("b_id"),
        or_(payments.c.callback_check_at.is_(None), payments.c.callback_check_at <= bindparam("b_open_from")),
    )
)
_LAST = prepared(select(payments.c.callback_check_at).where(payments.c.id == bindparam("b_id")))


def reopens_at(last_check_at: float | None, now: float, *, in_flight: bool = False) -> float | None:
    """None when the payment's gate is open at `now`; else when it reopens."""
    if not in_flight and (last_check_at is None or last_check_at <= now - CHECK_INTERVAL_SECONDS):
        return None
    reopens = (last_check_at if last_check_at is not None else now) + CHECK_INTERVAL_SECONDS
    return max(reopens, now + IN_FLIGHT_RETRY_SECONDS if in_flight else now)


async def claim(conn: Tx, payment_id: str, now: float, *, in_flight: bool = False) -> float | None:
    """Claim the payment's gate: None when the caller may ask Lengo now; else when the gate reopens.

    For a caller without the payment's row at hand; the callback route
    decides from the row it locks anyway (`reopens_at`), in its insert's transaction.
    """
    if not in_flight:
        params = {"b_id": payment_id, "b_open_from": now - CHECK_INTERVAL_SECONDS, "callback_check_at": now}
        if (await conn.execute(_CLAIM, params)).rowcount:
            return None
    last = (await conn.execute(_LAST, {"b_id": payment_id})).scalar()
    return reopens_at(last, now, in_flight=in_flight) or now


__all__ = ["CHECK_INTERVAL_SECONDS", "claim", "reopens_at"]
