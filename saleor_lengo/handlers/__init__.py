"""One module per Saleor sync event, each with one `handle(ctx)`.

A decline is a result (`200` with `CHARGE_FAILURE`); a fault is an
exception the route turns into an error answer — except a database outage
in a session webhook, which Saleor never retries: those modules declare a
`when_storage_unavailable()` answer, served with HTTP 200 instead of a 503.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from saleor_lengo.saleor.installations import Installation
from saleor_lengo.saleor.events import SyncEvent
from saleor_lengo.saleor.sync_answers import SyncAnswer
from saleor_lengo.needs import (
    HasBackground, HasCache, HasCallbackQueue, HasCipher, HasClock, HasDb, HasHttp, HasLeases, HasMetrics, HasSettings,
    HasTimer, HasWakeups,
)


class Needs(
    HasDb, HasClock, HasTimer, HasSettings, HasCipher, HasHttp, HasCache, HasLeases, HasWakeups, HasMetrics,
    HasBackground, HasCallbackQueue, Protocol,
):
    """What the handlers and the flows they call use."""


@dataclass(frozen=True)
class WebhookContext:
    deps: Needs
    installation: Installation
    event: SyncEvent
    body: dict[str, Any]


Handler = Callable[[WebhookContext], Awaitable[SyncAnswer]]


def handlers() -> dict[str, Handler]:
    from saleor_lengo.handlers import (
        payment_gateway_initialize_session,
        transaction_cancelation_requested,
        transaction_charge_requested,
        transaction_initialize_session,
        transaction_process_session,
        transaction_refund_requested,
    )

    return {
        "PAYMENT_GATEWAY_INITIALIZE_SESSION": payment_gateway_initialize_session.handle,
        "TRANSACTION_INITIALIZE_SESSION": transaction_initialize_session.handle,
        "TRANSACTION_PROCESS_SESSION": transaction_process_session.handle,
        "TRANSACTION_CHARGE_REQUESTED": transaction_charge_requested.handle,
        "TRANSACTION_REFUND_REQUESTED": transaction_refund_requested.handle,
        "TRANSACTION_CANCELATION_REQUESTED": transaction_cancelation_requested.handle,
    }


def storage_unavailable_answers() -> dict[str, Callable[[], SyncAnswer]]:
    """The events answered 200 with a well-formed "storage unavailable" result; the others answer 503."""
    from saleor_lengo.handlers import (
        payment_gateway_initialize_session,
        transaction_initialize_session,
        transaction_process_session,
    )

    return {
        "PAYMENT_GATEWAY_INITIALIZE_SESSION": payment_gateway_initialize_session.when_storage_unavailable,
        "TRANSACTION_INITIALIZE_SESSION": transaction_initialize_session.when_storage_unavailable,
        "TRANSACTION_PROCESS_SESSION": transaction_process_session.when_storage_unavailable,
    }
