"""TRANSACTION_PROCESS_SESSION: tell Saleor where the shopper's Lengo payment stands."""

from __future__ import annotations

from saleor_lengo.handlers import WebhookContext
from saleor_lengo.flows import storage_unavailable
from saleor_lengo.flows import process
from saleor_lengo.flows.sync_responses import SessionAnswer
from saleor_lengo.saleor.payloads import Session
from saleor_lengo.saleor.sync_answers import ChargeActionRequired


async def handle(ctx: WebhookContext) -> SessionAnswer:
    return await process.execute(ctx.deps, ctx.installation, Session.parse(ctx.body))


def when_storage_unavailable() -> ChargeActionRequired:
    """HTTP 200 all the same: Saleor never retries this webhook (see flows.storage_unavailable)."""
    return storage_unavailable.process()
