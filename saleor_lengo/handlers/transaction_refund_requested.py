"""TRANSACTION_REFUND_REQUESTED."""

from __future__ import annotations

from typing import Any

from saleor_lengo.handlers import WebhookContext


async def handle(ctx: WebhookContext) -> dict[str, Any]:
    return {"result": "REFUND_FAILURE", "message": "Not available yet."}
