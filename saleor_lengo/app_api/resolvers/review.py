"""Settling a payment held in needs_review from the Dashboard page (the use case is flows/review.py)."""

from __future__ import annotations

from saleor_lengo.app_api.context import ApiContext, ApiError
from saleor_lengo.flows import review
from saleor_lengo.payments.model import Payment


async def resolve_payment(
    ctx: ApiContext, payment_id: str, *, charged_amount: str | None, not_charged: bool, note: str
) -> Payment:
    if (charged_amount is None) == (not not_charged):
        raise ApiError("Give either chargedAmount or notCharged: true.", "INVALID_INPUT")
    try:
        done = await review.resolve(
            ctx.deps,
            payment_id,
            charged=charged_amount,
            note=note,
            by=ctx.user.email or "staff",
            installation_id=ctx.installation_id,
        )
    except review.ReviewError as exc:
        raise ApiError(exc.message, exc.code) from None
    return done.payment
