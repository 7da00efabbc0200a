"""The dead-letter outbox: events Saleor never accepted, and a way to send them again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from saleor_lengo.app_api.context import ApiContext, ApiError
from saleor_lengo.db.schema import outbox
from saleor_lengo.outbox.admin import requeue_values

MAX_ROWS = 200


async def dead_letters(ctx: ApiContext, first: int) -> list[Any]:
    if not 1 <= first <= MAX_ROWS:
        raise ApiError(f"first must be between 1 and {MAX_ROWS}.")
    async with ctx.deps.db.read() as conn:
        return list(
            (
                await conn.execute(
                    select(outbox)
                    .where(outbox.c.installation_id == ctx.installation_id, outbox.c.state == "dead")
                    .order_by(outbox.c.created_at.desc(), outbox.c.id.desc())
                    .limit(first)
                )
            ).all()
        )


async def retry_all(ctx: ApiContext) -> int:
    """Every dead event of this installation back to `pending`, due now (the page's "send all again")."""
    now = ctx.deps.clock()
    async with ctx.deps.db.write() as conn:
        result = await conn.execute(
            update(outbox)
            .where(outbox.c.installation_id == ctx.installation_id, outbox.c.state == "dead")
            .values(**requeue_values(now))
        )
    if result.rowcount:
        ctx.deps.wakeups.outbox.set()
    return int(result.rowcount or 0)


async def retry(ctx: ApiContext, outbox_id: int) -> Any:
    """Back to `pending`, due now, with a fresh attempt budget (`requeue_values`): staff judged the cause fixed."""
    now = ctx.deps.clock()
    async with ctx.deps.db.write() as conn:
        result = await conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id, outbox.c.installation_id == ctx.installation_id, outbox.c.state == "dead")
            .values(**requeue_values(now))
        )
        row = (
            await conn.execute(select(outbox).where(outbox.c.id == outbox_id, outbox.c.installation_id == ctx.installation_id))
        ).first()
    if row is None:
        raise ApiError("No such event.", "NOT_FOUND")
    if not result.rowcount:
        raise ApiError(f"This event is {row.state}, not dead: there is nothing to retry.", "NOT_DEAD")
    ctx.deps.wakeups.outbox.set()
    return row
