"""PAYMENT_GATEWAY_INITIALIZE_SESSION: tell the storefront whether Lengo can take this checkout.

Always `{"data": {...}}` with HTTP 200: an unconfigured channel or an
unsupported currency is `available: false` with an error code, which is
what a storefront can show or act on.
"""

from __future__ import annotations

from saleor_lengo.handlers import WebhookContext
from saleor_lengo.flows import storage_unavailable
from saleor_lengo.flows import sync_responses
from saleor_lengo.flows.initialize import check_amount, check_currency, not_configured
from saleor_lengo.saleor.payloads import GatewayInitialize
from saleor_lengo.saleor.sync_answers import GatewayAvailability


async def handle(ctx: WebhookContext) -> GatewayAvailability:
    request = GatewayInitialize.parse(ctx.body)
    channel = request.source.channel
    config = await ctx.deps.cache.channel_configuration(ctx.installation.id, channel.id, channel.slug)
    if config is None:
        return sync_responses.gateway_initialize(None, not_configured(channel.slug or channel.id))
    refusal = check_currency(config, channel.currency)
    if refusal is None and request.amount is not None and channel.currency is not None:
        # The checkout total may still be 0 while the cart fills: only the
        # configured bounds and the currency's precision are checked here.
        refusal = check_amount(config, request.amount, channel.currency, positive=False)
    return sync_responses.gateway_initialize(config, refusal)


def when_storage_unavailable() -> GatewayAvailability:
    """HTTP 200 all the same: Saleor never retries this webhook (see flows.storage_unavailable)."""
    return storage_unavailable.gateway_initialize()
