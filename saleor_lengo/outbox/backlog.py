"""What waits for each Saleor: its oldest pending event, and whether a relay finds it unreachable.

Read by the metrics scrape and by `saleor-lengo outbox list`, from the
database, so the answer is the same whichever process asks. A circuit
counts as open while any live process's relay has it open
(`saleor_circuits`, kept by `outbox/relay.py`; a dead process's rows are ignored).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select

from saleor_lengo.db.engine import Tx
from saleor_lengo.db.schema import installations, lease_holders, outbox, saleor_circuits

PENDING = "pending"  # outbox state (see outbox.relay)


@dataclass(frozen=True)
class InstallationFigures:
    """One Saleor, named by its API URL."""

    saleor_api_url: str
    circuit_open: bool
    oldest_pending_age_seconds: float  # 0 when nothing waits for it
    pending: int


async def installation_figures(conn: Tx, now: float) -> tuple[InstallationFigures, ...]:
    pending = {
        inst: (int(n), oldest)
        for inst, n, oldest in (await conn.execute(
            select(outbox.c.installation_id, func.count(), func.min(outbox.c.created_at))
            .where(outbox.c.state == PENDING).group_by(outbox.c.installation_id)
        )).all()
    }
    open_ids = set((await conn.execute(
        select(saleor_circuits.c.installation_id).distinct()
        .where(exists().where(lease_holders.c.id == saleor_circuits.c.holder_id))
    )).scalars().all())
    rows = (await conn.execute(
        select(installations.c.id, installations.c.saleor_api_url).order_by(installations.c.id)
    )).all()
    figures = []
    for inst_id, url in rows:
        n, oldest = pending.get(inst_id, (0, None))
        age = max(0.0, now - float(oldest)) if oldest is not None else 0.0
        figures.append(InstallationFigures(url, inst_id in open_ids, age, n))
    return tuple(figures)
