"""TRANSACTION_INITIALIZE_SESSION: start a Lengo payment for a Saleor transaction.

The use case lives in `flows.initialize`; the answer's shape in
`flows.sync_responses`. An AUTHORIZATION action is served as a charge: Lengo has
no authorization step, so every answer is a `CHARGE_*` one.
"""

from __future__ import annotations

import functools

from saleor_lengo.callbacks.confirmation import confirm_waiting_callbacks, has_waiting_callbacks
from saleor_lengo.handlers import WebhookContext
from saleor_lengo.flows import storage_unavailable
from saleor_lengo.flows import initialize
from saleor_lengo.flows.sync_responses import SessionAnswer
from saleor_lengo.saleor.payloads import Session
from saleor_lengo.saleor.sync_answers import ChargeFailure


async def handle(ctx: WebhookContext) -> SessionAnswer:
    early = initialize.EarlyCallbacks(
        waiting=has_waiting_callbacks, confirm=functools.partial(confirm_waiting_callbacks, ctx.deps)
    )
    return await initialize.execute(ctx.deps, ctx.installation, Session.parse(ctx.body), early)


def when_storage_unavailable() -> ChargeFailure:
    """HTTP 200 all the same: Saleor never retries this webhook (see flows.storage_unavailable)."""
    return storage_unavailable.initialize()
