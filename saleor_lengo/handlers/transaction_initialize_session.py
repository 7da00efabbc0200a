"""TRANSACTION_INITIALIZE_SESSION: start a Lengo payment for a Saleor transaction.

The use case lives in `payments.initialize`; the answer's shape in
`payments.answers`. An AUTHORIZATION action is served as a charge: Lengo has
no authorization step, so every answer is a `CHARGE_*` one.
"""

from __future__ import annotations

from typing import Any

from saleor_lengo.handlers import WebhookContext
from saleor_lengo.payments import initialize, storage_unavailable
from saleor_lengo.saleor.payloads import Session


async def handle(ctx: WebhookContext) -> dict[str, Any]:
    return await initialize.execute(ctx.services, ctx.installation, Session.parse(ctx.body))


def when_storage_unavailable() -> dict[str, Any]:
    """HTTP 200 all the same: Saleor never retries this webhook (see payments.storage_unavailable)."""
    return storage_unavailable.initialize()
