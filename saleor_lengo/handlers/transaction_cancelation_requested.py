"""TRANSACTION_CANCELATION_REQUESTED: cancel a payment that Lengo confirms unpaid.

Lengo cannot close a payment link, so a cancel only closes our side: the
answer says so, and a payment made later on the old link is still recorded
and reported (CHARGE_SUCCESS, "refund due") by the state machine. A payment
Lengo reports paid is never canceled; when Lengo cannot be asked, nothing is
canceled either: a success we cannot vouch for is never answered.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from saleor_lengo import configurations
from saleor_lengo.handlers import WebhookContext
from saleor_lengo.lengo import vocabulary
from saleor_lengo.lengo.errors import LengoError
from saleor_lengo.money import Money
from saleor_lengo.payments import store
from saleor_lengo.flows import lengo_status
from saleor_lengo.flows.actions import Answer, answer_once, available_actions
from saleor_lengo.payments.describe import state_name, state_words
from saleor_lengo.flows.lengo_access import lengo_client
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payments.state_machine import transition
from saleor_lengo.saleor.payloads import ActionRequest
from saleor_lengo.saleor.sync_answers import StoredAnswer
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasCipher, HasHttp, HasWakeups, HasMetrics
from saleor_lengo.words import Text, words


class Needs(HasDb, HasClock, HasTimer, HasCipher, HasHttp, HasWakeups, HasMetrics, Protocol):
    """What deciding a cancelation uses."""


ACTION = "CANCEL"
SOURCE = "cancel"
# The status call's share of Saleor's 20 s (retries included).
STATUS_BUDGET_SECONDS = 8.0
CANCEL_REASON = words("Canceled from Saleor (cancelation requested).")
STILL_PAYABLE = words(
    "Lengo Pay cannot close a payment link, so the shopper may still pay it; "
    "such a payment would be reported here as charged, with a refund due."
)


def _paid(payment: Payment) -> Answer:
    amount = Money(payment.charged_amount, payment.currency)
    return Answer(
        "CANCEL_FAILURE",
        words(
            "Not canceled: already paid — refund instead ({amount} paid on Lengo Pay). "
            "Lengo Pay has no refund API: refund the shopper by hand.",
            amount=amount,
        ),
        (),
    )


def _canceled(payment: Payment, lengo_status: str, *, already: bool) -> Answer:
    if already:
        head = words("Already {state}; Lengo Pay reports it unpaid ({status}).", state=state_name(payment), status=lengo_status)
    elif lengo_status.strip().upper() == vocabulary.PENDING:
        head = words(
            "Canceled, but Lengo Pay reports that the shopper was paying at that very moment (PENDING): "
            "the payment may still complete."
        )
    else:
        head = words("Canceled: Lengo Pay reports this payment unpaid ({status}).", status=lengo_status)
    return Answer("CANCEL_SUCCESS", (head, STILL_PAYABLE), ())


def _held(payment: Payment) -> Answer:
    """Staff decide these (flows/review.py), not a cancel: Lengo reported them paid."""
    if payment.state == State.CLOSED:
        return Answer("CANCEL_SUCCESS", words("Nothing to cancel: staff closed this payment as not charged."), ())
    return Answer(
        "CANCEL_FAILURE",
        words(
            "Not canceled: {state}. Check it on the Lengo portal and resolve it "
            "(saleor-lengo payments resolve, or the app's page in the Dashboard).",
            state=state_words(payment),
        ),
        (),
    )


async def decide(deps: Needs, payment: Payment | None, request: ActionRequest) -> Answer:
    if payment is None:
        return Answer("CANCEL_FAILURE", words("Not canceled: no Lengo Pay payment is known for this transaction."))
    if payment.state == State.SUCCEEDED:
        return _paid(payment)
    if payment.state in (State.NEEDS_REVIEW, State.CLOSED):
        return _held(payment)
    if not payment.pay_id:
        if payment.state == State.CREATING:
            return Answer(
                "CANCEL_FAILURE",
                words("Not canceled: the Lengo Pay payment link is still being created. Try again in a minute."),
                ("CANCEL",),
            )
        return Answer(
            "CANCEL_SUCCESS",
            words(
                "Nothing to cancel: no Lengo Pay payment link was ever created ({state}), so nothing can be paid.",
                state=state_name(payment),
            ),
            (),
        )

    async with deps.db.read() as conn:
        config = await configurations.get_by_id(conn, payment.configuration_id)
    if config is None:
        return Answer(
            "CANCEL_FAILURE",
            words(
                "Not canceled: the Lengo Pay configuration of this payment was deleted, so Lengo cannot be asked "
                "whether it is paid."
            ),
            available_actions(payment),
        )
    try:
        client = lengo_client(deps, config, payment.id)
        # The client retries inside its budget; this bounds it whatever the transport.
        async with asyncio.timeout(STATUS_BUDGET_SECONDS + 0.5):
            status = await client.payment_status(payment.pay_id, budget=STATUS_BUDGET_SECONDS)
    except (LengoError, TimeoutError) as exc:
        error = exc.safe_message if isinstance(exc, LengoError) else f"no answer within {STATUS_BUDGET_SECONDS:g} s"
        said: Text = error if isinstance(exc, LengoError) else words("no answer within {seconds} s", seconds=f"{STATUS_BUDGET_SECONDS:g}")
        await lengo_status.record_check_error(deps, payment.id, source=SOURCE, error=error)
        return Answer(
            "CANCEL_FAILURE",
            words(
                "Not canceled: it could not be confirmed with Lengo Pay that the payment is unpaid ({error}). "
                "Try again later.",
                error=said,
            ),
            available_actions(payment),
        )
    checked = await lengo_status.apply_status(deps, payment.id, status, source=SOURCE)
    if checked.outbox_id:
        deps.wakeups.outbox.set()  # Lengo says paid: the relay reports it now

    # Under the row lock: a callback or the reconciler may have moved it
    # since; the state machine settles who wins, and a success always does.
    async with deps.db.write() as conn:
        current = await store.get(conn, payment.id, lock=True)
        assert current is not None
        if current.state == State.SUCCEEDED:
            return _paid(current)
        if current.state in (State.NEEDS_REVIEW, State.CLOSED):
            return _held(current)
        if current.state == State.ACTION_REQUIRED:
            outcome = await transition(conn, current, State.CANCELED, reason=CANCEL_REASON, now=deps.clock())
            return _canceled(outcome.payment, status.status, already=False)
        if current.state == State.CREATING:
            return Answer(
                "CANCEL_FAILURE",
                words("Not canceled: the Lengo Pay payment link is still being created. Try again in a minute."),
                ("CANCEL",),
            )
        return _canceled(current, status.status, already=True)


async def handle(ctx: WebhookContext) -> StoredAnswer:
    request = ActionRequest.parse(ctx.body)
    return await answer_once(ctx.deps, ctx.installation.id, request, ACTION, decide)
