"""TRANSACTION_CHARGE_REQUESTED: there is nothing to capture.

Lengo Pay charges the shopper when they pay the link; there is no separate
capture. The answer is always CHARGE_FAILURE with its own pspReference and
the requested amount (0.0 from the Dashboard): a CHARGE_SUCCESS carrying the
payment's amount would make Saleor count the money twice.
"""

from __future__ import annotations

from typing import Protocol

from saleor_lengo.handlers import WebhookContext
from saleor_lengo.money import Money
from saleor_lengo.flows.actions import Answer, answer_once, available_actions
from saleor_lengo.payments.describe import state_words
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.saleor.payloads import ActionRequest
from saleor_lengo.saleor.sync_answers import StoredAnswer
from saleor_lengo.needs import HasCache
from saleor_lengo.words import words


class Needs(HasCache, Protocol):
    """What deciding a charge request uses."""


ACTION = "CHARGE"
NOTHING_TO_CAPTURE = words("Nothing to capture: Lengo Pay charges the shopper at payment time, with no separate capture.")


async def decide(deps: Needs, payment: Payment | None, request: ActionRequest) -> Answer:
    if payment is None:
        return Answer("CHARGE_FAILURE", (NOTHING_TO_CAPTURE, words("No Lengo Pay payment is known for this transaction.")))
    if payment.state == State.SUCCEEDED:
        amount = Money(payment.charged_amount, payment.currency)
        return Answer(
            "CHARGE_FAILURE",
            (
                NOTHING_TO_CAPTURE,
                words("This payment was already charged ({amount}) and reported; nothing more was charged.", amount=amount),
            ),
            available_actions(payment),
        )
    if payment.state == State.ACTION_REQUIRED:
        return Answer(
            "CHARGE_FAILURE",
            (
                NOTHING_TO_CAPTURE,
                words("This payment is not paid yet; it will be reported as charged when the shopper pays."),
            ),
            available_actions(payment),
        )
    return Answer(
        "CHARGE_FAILURE",
        (NOTHING_TO_CAPTURE, words("Nothing was charged: {state}.", state=state_words(payment))),
        available_actions(payment),
    )


async def handle(ctx: WebhookContext) -> StoredAnswer:
    request = ActionRequest.parse(ctx.body)
    return await answer_once(ctx.deps, ctx.installation.id, request, ACTION, decide)
