"""Looking at the outbox and sending dead letters again (the `saleor-lengo outbox` command)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from saleor_lengo.db.engine import Database
from saleor_lengo.db.schema import outbox
from saleor_lengo.outbox.backlog import InstallationFigures, installation_figures
from saleor_lengo.outbox.relay import DEAD, DELIVERED, PENDING


class NotRetryable(Exception):
    """The row does not exist, or was delivered already."""


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    payment_id: str | None
    saleor_transaction_id: str
    event_type: str
    psp_reference: str
    amount: str
    currency: str
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    already_processed: bool | None
    created_at: float
    delivered_at: float | None

    @classmethod
    def from_row(cls, row: Any) -> OutboxEntry:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__dataclass_fields__})


async def list_entries(db: Database, *, state: str | None = None, limit: int = 100) -> list[OutboxEntry]:
    """Newest first; `state` is pending, delivered or dead."""
    query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(outbox.c.state == state)
    async with db.read() as conn:
        return [OutboxEntry.from_row(r) for r in (await conn.execute(query)).all()]


async def backlog(db: Database, *, now: float) -> tuple[InstallationFigures, ...]:
    """Per Saleor: is its circuit open, how many events wait for it, and since when."""
    async with db.read() as conn:
        return await installation_figures(conn, now)


async def counts(db: Database) -> dict[str, int]:
    async with db.read() as conn:
        rows = (await conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))).all()
    return {state: int(n) for state, n in rows}


def requeue_values(now: float) -> dict[str, Any]:
    # Attempts start over, so the backoff does too; last_error stays as history
    # until the next attempt replaces it.
    return {"state": PENDING, "next_attempt_at": now, "attempts": 0, "lease_owner": None, "lease_until": None}


async def retry(db: Database, entry_id: int, *, now: float) -> OutboxEntry:
    """Make a dead (or backing-off pending) row due now; the relay sends it on its next pass."""
    async with db.write() as conn:
        row = (await conn.execute(select(outbox).where(outbox.c.id == entry_id))).first()
        if row is None:
            raise NotRetryable(f"no outbox row {entry_id}")
        if row.state == DELIVERED:
            raise NotRetryable(f"outbox row {entry_id} was delivered already")
        values = requeue_values(now)
        if row.state == PENDING:
            # It may be in a relay's hands right now: leave its lease alone.
            del values["lease_owner"], values["lease_until"]
        await conn.execute(update(outbox).where(outbox.c.id == entry_id).values(**values))
        updated = (await conn.execute(select(outbox).where(outbox.c.id == entry_id))).first()
    return OutboxEntry.from_row(updated)


async def retry_all_dead(db: Database, *, now: float) -> int:
    async with db.write() as conn:
        result = await conn.execute(update(outbox).where(outbox.c.state == DEAD).values(**requeue_values(now)))
    return int(result.rowcount or 0)
