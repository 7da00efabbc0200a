"""A Lengo client for one configuration, whose every call lands in the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from saleor_lengo.configurations import Configuration
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import lengo_requests
from saleor_lengo.lengo.client import LengoCall, LengoClient
from saleor_lengo.logs import get_logger
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasCipher, HasHttp, HasMetrics


class Needs(HasDb, HasClock, HasTimer, HasCipher, HasHttp, HasMetrics, Protocol):
    """What calling Lengo for a configuration uses."""


log = get_logger(__name__)

_INSERT = prepared(lengo_requests.insert())  # built once; the values come with each execution


def lengo_client(deps: Needs, config: Configuration, payment_id: str | None = None) -> LengoClient:
    async def record(call: LengoCall) -> None:
        deps.metrics.lengo_call(call)  # never raises
        # Its own short transaction: an audit row must never hold a lock
        # across a Lengo call, nor be lost with a failed business transaction.
        try:
            async with deps.db.write() as conn:
                await conn.execute(
                    _INSERT,
                    {
                        "payment_id": payment_id,
                        "configuration_id": config.id,
                        "operation": call.operation,
                        "started_at": call.started_at.timestamp(),
                        "duration_ms": call.duration_ms,
                        "http_status": call.http_status,
                        "outcome": call.outcome,
                        "detail": call.detail,
                    },
                )
        except Exception as exc:  # the audit log must never break a payment
            log.warning("lengo_audit_write_failed", error=type(exc).__name__)

    return LengoClient(
        deps.http,
        config.credentials(deps.cipher),
        recorder=record,
        sleep=deps.sleep,
        clock=deps.monotonic,
        # The audit row's time on the app's clock, as every other stored time.
        now=lambda: datetime.fromtimestamp(deps.clock(), UTC),
    )
