"""TRANSACTION_REFUND_REQUESTED: Lengo Pay has no refund API.

Every request is answered REFUND_FAILURE (never a success: no money moved)
with what staff must do by hand. REFUND is never offered in `actions`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from saleor_lengo.handlers import WebhookContext
from saleor_lengo.money import Money
from saleor_lengo.payments.actions import Answer, answer_once, available_actions, state_words
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.saleor.payloads import ActionRequest
from saleor_lengo.services import Services

ACTION = "REFUND"


def _by_hand(payment: Payment, amount: Money | None) -> str:
    paid_with = f"{payment.gateway}; " if payment.gateway else ""
    return (
        f"Nothing was refunded: Lengo Pay has no refund API. Refund {amount or 'the amount due'} by hand, "
        "from the Lengo Pay merchant portal or by a mobile-money transfer to the payer "
        f"({paid_with}their number is shown masked by `saleor-lengo payments show {payment.id}`, "
        "in full in the Lengo merchant portal). Then record the refund in Saleor as a manual refund."
    )


async def decide(services: Services, payment: Payment | None, request: ActionRequest) -> Answer:
    requested = request.action.amount
    amount = Money(requested, request.action.currency) if isinstance(requested, Decimal) else None
    if payment is None:
        return Answer(
            "REFUND_FAILURE",
            "Nothing was refunded: no Lengo Pay payment is known for this transaction, and Lengo Pay has no refund API.",
        )
    if payment.state != State.SUCCEEDED:
        return Answer(
            "REFUND_FAILURE",
            f"Nothing was refunded: Lengo Pay has not reported this payment as paid ({state_words(payment)}). "
            "Lengo Pay has no refund API; check the Lengo Pay merchant portal before refunding anything by hand.",
            available_actions(payment),
        )
    return Answer("REFUND_FAILURE", _by_hand(payment, amount), available_actions(payment))


async def handle(ctx: WebhookContext) -> dict[str, Any]:
    request = ActionRequest.parse(ctx.body)
    return await answer_once(ctx.services, ctx.installation.id, request, ACTION, decide)
