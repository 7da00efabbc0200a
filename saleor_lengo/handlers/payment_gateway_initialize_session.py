"""PAYMENT_GATEWAY_INITIALIZE_SESSION: tell the storefront whether Lengo can take this checkout."""

from __future__ import annotations

from typing import Any

from saleor_lengo.handlers import WebhookContext


async def handle(ctx: WebhookContext) -> dict[str, Any]:
    return {
        "data": {
            "available": False,
            "environment": None,
            "currencies": [],
            "minAmount": None,
            "maxAmount": None,
            "error": {"code": "NOT_CONFIGURED", "message": "Lengo Pay is not configured for this channel."},
        }
    }
