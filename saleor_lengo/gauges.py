"""Prometheus gauges read from the database at scrape time, and the scrape itself.

Gauges come from the database when `/metrics` is scraped, so they are right
whichever process answers, and after a restart: outbox depth, age of the
oldest pending event (per Saleor installation), whether a relay finds that
Saleor unreachable (its circuit is open), dead letters, open payments by state. Every replica
reports the same figures: aggregate them with `max`, not `sum`. The
counters come from the process's `metrics.Metrics`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from saleor_lengo.db.engine import Database
from saleor_lengo.db.schema import outbox, payments, payouts
from saleor_lengo.logs import get_logger
from saleor_lengo.metrics import Metrics
from saleor_lengo.outbox.backlog import InstallationFigures, installation_figures
from saleor_lengo.payments.model import OPEN_STATES, State
from saleor_lengo.payouts.model import PayoutState

log = get_logger(__name__)

# A scrape must answer even when the database does not (Prometheus' default scrape timeout is 10 s).
DATABASE_TIMEOUT = 5.0
PENDING, DEAD = "pending", "dead"  # outbox states (see outbox.relay)


@dataclass(frozen=True)
class DatabaseFigures:
    outbox_pending: int
    outbox_dead: int
    open_payments: dict[str, int]
    needs_review: int = 0
    installations: tuple[InstallationFigures, ...] = ()
    payouts_needs_review: int = 0


async def read_database(db: Database, now: float) -> DatabaseFigures | None:
    """The gauges' values, or None when the database does not answer in time."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT), db.read() as conn:
            rows = await conn.execute(
                select(outbox.c.state, func.count())
                .where(outbox.c.state.in_((PENDING, DEAD)))
                .group_by(outbox.c.state)
            )
            by_state = {state: int(n) for state, n in rows.all()}
            open_rows = await conn.execute(
                select(payments.c.state, func.count())
                .where(payments.c.state.in_([s.value for s in OPEN_STATES]))
                .group_by(payments.c.state)
            )
            open_payments = {s.value: 0 for s in sorted(OPEN_STATES)}
            open_payments.update({state: int(n) for state, n in open_rows.all()})
            needs_review = (
                await conn.execute(
                    select(func.count()).select_from(payments).where(payments.c.state == State.NEEDS_REVIEW.value)
                )
            ).scalar_one()
            per_installation = await installation_figures(conn, now)
            payouts_needs_review = (
                await conn.execute(
                    select(func.count()).select_from(payouts).where(payouts.c.state == PayoutState.NEEDS_REVIEW.value)
                )
            ).scalar_one()
    except (SQLAlchemyError, OSError, TimeoutError):
        log.warning("metrics_database_unavailable", exc_info=True)
        return None
    return DatabaseFigures(
        outbox_pending=by_state.get(PENDING, 0),
        outbox_dead=by_state.get(DEAD, 0),
        open_payments=open_payments,
        needs_review=int(needs_review),
        installations=per_installation,
        payouts_needs_review=int(payouts_needs_review),
    )


class DatabaseCollector:
    def __init__(self, figures: DatabaseFigures | None) -> None:
        self.figures = figures

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        f = self.figures
        yield GaugeMetricFamily(
            "saleor_lengo_database_up", "1 when the database answered this scrape; the gauges below need it.",
            value=0 if f is None else 1,
        )
        if f is None:
            return
        yield GaugeMetricFamily(
            "saleor_lengo_outbox_pending_events", "Outbox events not yet delivered to Saleor (still retried).",
            value=f.outbox_pending,
        )
        oldest = GaugeMetricFamily(
            "saleor_lengo_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox event not yet delivered to this Saleor (0 when none).",
            labels=["installation"],
        )
        circuit = GaugeMetricFamily(
            "saleor_lengo_saleor_circuit_open",
            "1 while a relay finds this Saleor unreachable and only probes it; 0 when it answers.",
            labels=["installation"],
        )
        for inst in f.installations:
            oldest.add_metric([inst.saleor_api_url], inst.oldest_pending_age_seconds)
            circuit.add_metric([inst.saleor_api_url], 1 if inst.circuit_open else 0)
        yield oldest
        yield circuit
        yield GaugeMetricFamily(
            "saleor_lengo_outbox_dead_letters", "Outbox events given up on (`saleor-lengo outbox list --dead`).",
            value=f.outbox_dead,
        )
        open_payments = GaugeMetricFamily(
            "saleor_lengo_open_payments", "Payments not yet paid, failed, canceled or expired, by state.",
            labels=["state"],
        )
        for state, n in f.open_payments.items():
            open_payments.add_metric([state], n)
        yield open_payments
        yield GaugeMetricFamily(
            "saleor_lengo_payments_needs_review",
            "Payments Lengo reported paid with an amount that cannot be right, held until staff resolve them "
            "(`saleor-lengo payments list --status needs_review`).",
            value=f.needs_review,
        )
        held = GaugeMetricFamily(
            "saleor_lengo_payouts",
            "Refund payouts by state; needs_review: the app cannot tell whether money left "
            "(`saleor-lengo payouts list --status needs_review`).",
            labels=["state"],
        )
        held.add_metric(["needs_review"], f.payouts_needs_review)
        yield held



def render(metrics: Metrics, figures: DatabaseFigures | None) -> tuple[bytes, str]:
    """The exposition text and its content type. Blocking (it reads the multiprocess files)."""
    return metrics.exposition(DatabaseCollector(figures))
