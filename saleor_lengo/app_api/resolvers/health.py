"""A health summary of the caller's installation: is money flowing and reaching Saleor?"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from saleor_lengo.app_api.context import ApiContext
from saleor_lengo.db.schema import callbacks, outbox, payments
from saleor_lengo.payments.model import OPEN_STATES


@dataclass(frozen=True)
class Health:
    last_callback_at: float | None
    open_payments: int
    pending_events: int
    dead_events: int
    relay_lag_seconds: float | None  # age of the oldest pending outbox row
    checked_at: float


async def health(ctx: ApiContext) -> Health:
    inst = ctx.installation_id
    now = ctx.deps.clock()
    async with ctx.deps.db.read() as conn:
        last_callback = (
            await conn.execute(
                select(func.max(callbacks.c.received_at))
                .select_from(callbacks.join(payments, payments.c.id == callbacks.c.payment_id))
                .where(payments.c.installation_id == inst)
            )
        ).scalar_one()
        open_count = (
            await conn.execute(
                select(func.count())
                .select_from(payments)
                .where(payments.c.installation_id == inst, payments.c.state.in_([s.value for s in OPEN_STATES]))
            )
        ).scalar_one()
        pending_count, oldest = (
            await conn.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.installation_id == inst, outbox.c.state == "pending"
                )
            )
        ).one()
        dead_count = (
            await conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.installation_id == inst, outbox.c.state == "dead")
            )
        ).scalar_one()
    return Health(
        last_callback_at=last_callback,
        open_payments=int(open_count),
        pending_events=int(pending_count),
        dead_events=int(dead_count),
        relay_lag_seconds=max(now - oldest, 0.0) if oldest is not None else None,
        checked_at=now,
    )
