"""One module per Saleor sync event, each with one `handle(ctx)`.

A decline is a result (`200` with `CHARGE_FAILURE`); a fault is an
exception the route turns into an error answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from saleor_lengo.installations import Installation
from saleor_lengo.saleor.events import SyncEvent
from saleor_lengo.services import Services


@dataclass(frozen=True)
class WebhookContext:
    services: Services
    installation: Installation
    event: SyncEvent
    body: dict[str, Any]


Handler = Callable[[WebhookContext], Awaitable[dict[str, Any]]]


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
