"""TRANSACTION_PROCESS_SESSION: tell Saleor where the shopper's Lengo payment stands."""

from __future__ import annotations

from typing import Any

from saleor_lengo.handlers import WebhookContext
from saleor_lengo.flows import storage_unavailable
from saleor_lengo.flows import process
from saleor_lengo.saleor.payloads import Session


async def handle(ctx: WebhookContext) -> dict[str, Any]:
    return await process.execute(ctx.services, ctx.installation, Session.parse(ctx.body))


def when_storage_unavailable() -> dict[str, Any]:
    """HTTP 200 all the same: Saleor never retries this webhook (see flows.storage_unavailable)."""
    return storage_unavailable.process()
