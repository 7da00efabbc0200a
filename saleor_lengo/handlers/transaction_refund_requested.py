"""TRANSACTION_REFUND_REQUESTED: Lengo Pay has no refund API.

With payouts on (`configure --payouts`), a paid Orange Money / MTN MoMo
payment is refunded by a cash-in to the payer's number: answered
`{pspReference, actions}` and reported later (flows/payout_request.py).
Every other request is answered REFUND_FAILURE (never a success: no money
moved) with what staff must do by hand, and REFUND is not offered.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from saleor_lengo import configurations
from saleor_lengo.flows.payout_request import destination_type, request_payout
from saleor_lengo.handlers import WebhookContext
from saleor_lengo.money import Money
from saleor_lengo.page_words import APP_PAGE, RECORD_REFUND
from saleor_lengo.flows.actions import Answer, answer_once, available_actions
from saleor_lengo.payments.describe import state_words
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.saleor.payloads import ActionRequest
from saleor_lengo.saleor.sync_answers import StoredAnswer
from saleor_lengo.needs import HasDb, HasClock, HasSettings, HasCipher, HasWakeups
from saleor_lengo.words import Words, words


class Needs(HasDb, HasClock, HasSettings, HasCipher, HasWakeups, Protocol):
    """What deciding a refund request uses."""


ACTION = "REFUND"
BY_HAND = (
    "Nothing was refunded: Lengo Pay has no refund API. Refund {amount} to the payer by hand "
    "({method}from the Lengo Pay merchant portal or by a mobile-money transfer), then record it "
    f"in {APP_PAGE}: search for {{reference}}, open the payment and use "
    f"{RECORD_REFUND}. Do not add a manual refund in Saleor: it would ask the app for another refund."
)
NOT_PAID = (
    "Nothing was refunded: Lengo Pay has not reported this payment as paid ({state}). "
    f"Lengo Pay has no refund API; {APP_PAGE} shows this payment and can ask Lengo for its status again."
)


def _by_hand(payment: Payment, amount: Money | None) -> Words:
    # The pay_id is the pspReference Saleor shows on the order page, and the page's search finds it.
    # A manual refund added in Saleor would come back here as another refund request.
    return words(
        BY_HAND,
        amount=amount or words("the amount due"),
        method=words("{gateway}; ", gateway=payment.gateway) if payment.gateway else "",
        reference=payment.pay_id or payment.saleor_transaction_id,
    )


async def decide(deps: Needs, payment: Payment | None, request: ActionRequest) -> Answer:
    requested = request.action.amount
    amount = Money(requested, request.action.currency) if isinstance(requested, Decimal) else None
    if payment is None:
        return Answer(
            "REFUND_FAILURE",
            words("Nothing was refunded: no Lengo Pay payment is known for this transaction, and Lengo Pay has no refund API."),
        )
    if payment.state != State.SUCCEEDED:
        return Answer(
            "REFUND_FAILURE",
            words(NOT_PAID, state=state_words(payment)),
            available_actions(payment),
        )
    async with deps.db.read() as conn:
        config = await configurations.get_by_id(conn, payment.configuration_id)
    if config is not None and destination_type(payment, config) is not None:
        return await request_payout(deps, payment, config, request)
    return Answer("REFUND_FAILURE", _by_hand(payment, amount), available_actions(payment))


async def handle(ctx: WebhookContext) -> StoredAnswer:
    request = ActionRequest.parse(ctx.body)
    return await answer_once(ctx.deps, ctx.installation.id, request, ACTION, decide)
