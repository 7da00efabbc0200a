"""TRANSACTION_PROCESS_SESSION."""

from __future__ import annotations

from typing import Any

from saleor_lengo.handlers import WebhookContext


async def handle(ctx: WebhookContext) -> dict[str, Any]:
    return {"result": "CHARGE_FAILURE", "message": "Lengo Pay is not configured for this channel."}
