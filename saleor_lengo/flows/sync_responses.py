"""The sync answers of the checkout webhooks (saleor/sync_answers.py), and nothing else.

Every answer about a stored payment is rendered from the payment row alone
(`for_payment`), so a repeated initialize, a process call and the first
answer can never disagree. Amounts are Decimals quantized to the currency:
the route writes them with `jsonutil`, so 176500 GNF goes out as `176500`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from saleor_lengo.configurations import Configuration
from saleor_lengo.money import Money, Unholdable
from saleor_lengo.payments.outbox import clip, event_message
from saleor_lengo.payments.errors import ErrorCode, Refusal, from_reason
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payments.state_machine import success_message
from saleor_lengo.saleor.sync_answers import ChargeActionRequired, ChargeFailure, ChargeSuccess, GatewayAvailability

# What the Dashboard may offer: Lengo can let a link lapse (cancel on our side)
# but has no refund and no separate capture.
OPEN_ACTIONS: tuple[str, ...] = ("CANCEL",)
FINAL_ACTIONS: tuple[str, ...] = ()

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def amount_of(amount: Decimal, currency: str) -> Decimal:
    """The amount as Saleor should read it: quantized when it fits the currency (zeros added), else as given."""
    return Money(amount, currency.upper()).shown()


_SHOPPER_UNDER_REVIEW = "The shop is checking this payment. Do not pay again; it will contact you if needed."


def _money(payment: Payment, amount: Decimal | None = None) -> Money:
    return Money(payment.amount if amount is None else amount, payment.currency)


def _method_name(payment: Payment) -> str | None:
    """The paymentMethodDetails name: the gateway the shopper paid with, if Lengo said."""
    if not payment.gateway:
        return None
    return _CONTROL.sub(" ", payment.gateway).strip()[:256]


def _status_word(status: str) -> str:
    return _CONTROL.sub(" ", status).strip()[:40]


# --- PAYMENT_GATEWAY_INITIALIZE_SESSION -------------------------------------


def gateway_initialize(config: Configuration | None, refusal: Refusal | None) -> GatewayAvailability:
    return GatewayAvailability(
        available=refusal is None,
        environment=config.environment if config else None,
        currencies=config.currencies if config else (),
        min_amount=config.min_amount if config else None,
        max_amount=config.max_amount if config else None,
        error=refusal.error() if refusal else None,
    )


# --- Sessions (initialize and process) ----------------------------------------


def refused(refusal: Refusal, *, amount: Decimal | Unholdable, currency: str) -> ChargeFailure:
    """A payment that never started: nothing was stored, nothing sent to Lengo.

    An amount the app cannot hold is left out (Saleor then keeps the one it asked for).
    """
    return ChargeFailure(
        amount=amount_of(amount, currency) if isinstance(amount, Decimal) else None,
        message=clip(refusal.staff_message),
        data={"error": refusal.error()},
        actions=FINAL_ACTIONS,
    )


def unknown_transaction() -> ChargeFailure:
    return ChargeFailure(
        message=(
            "No Lengo Pay payment is known for this transaction: it was not started through this app "
            "(TRANSACTION_INITIALIZE_SESSION), or the app's database lost it."
        ),
        actions=FINAL_ACTIONS,
    )


SessionAnswer = ChargeSuccess | ChargeActionRequired | ChargeFailure


def for_payment(payment: Payment, *, note: str | None = None, paid_from: State | None = None) -> SessionAnswer:
    """The answer that says where `payment` stands; `note` adds why it may be stale.

    `paid_from` is the state a succeeded payment left: a late payment says
    so, in the very words of the outbox report, since Saleor keeps whichever
    of the two arrives first.
    """
    if payment.state == State.SUCCEEDED:
        return _succeeded(payment, paid_from or State.ACTION_REQUIRED)
    if payment.state == State.ACTION_REQUIRED:
        return _action_required(payment, note)
    if payment.state == State.CREATING:
        return still_creating(payment)
    if payment.state == State.NEEDS_REVIEW:
        return _under_review(payment)
    return _failed(payment, note)


def _under_review(payment: Payment) -> ChargeActionRequired:
    """Paid with an amount that cannot be right: neither paid nor failed until staff say (flows/review.py)."""
    refusal = Refusal.of(
        ErrorCode.OUTCOME_UNKNOWN,
        "Lengo Pay reported this payment as paid with an amount that cannot be right; it is held for review and "
        f"nothing is reported until staff resolve it. {payment.failure_reason or ''}".strip(),
        _SHOPPER_UNDER_REVIEW,
    )
    return ChargeActionRequired(
        psp_reference=payment.pay_id or None,
        amount=payment.amount,
        message=event_message(payment, refusal.staff_message),
        data={"error": refusal.error(), "payId": payment.pay_id},
        actions=FINAL_ACTIONS,
    )


def still_creating(payment: Payment) -> ChargeFailure:
    refusal = Refusal.of(
        ErrorCode.OUTCOME_UNKNOWN,
        "An earlier request for this transaction is still waiting for Lengo Pay to create the payment, "
        "so its outcome is not known yet. Check the Lengo portal before the shopper pays again.",
    )
    return ChargeFailure(
        amount=payment.amount,
        message=event_message(payment, refusal.staff_message),
        data={"error": refusal.error()},
        actions=FINAL_ACTIONS,
    )


def _action_required(payment: Payment, note: str | None) -> ChargeActionRequired:
    assert payment.pay_id is not None and payment.payment_url is not None
    if payment.lengo_status:
        head = f"Waiting for the shopper to pay {_money(payment)} on Lengo Pay (Lengo status {_status_word(payment.lengo_status)})."
    else:
        head = f"Lengo Pay payment page created for {_money(payment)}; waiting for the shopper to pay."
    return ChargeActionRequired(
        psp_reference=payment.pay_id,
        amount=payment.amount,
        data={"paymentUrl": payment.payment_url, "payId": payment.pay_id},
        external_url=payment.payment_url,
        message=event_message(payment, head, note),
        actions=OPEN_ACTIONS,
        method_name=_method_name(payment),
    )


def _succeeded(payment: Payment, paid_from: State) -> ChargeSuccess:
    assert payment.pay_id is not None
    amount = payment.charged_amount
    return ChargeSuccess(
        psp_reference=payment.pay_id,
        # The confirmed amount: the callback's later report uses the very same
        # (pspReference, amount), so Saleor counts the payment once.
        amount=amount_of(amount, payment.currency),
        # Same wording as the outbox report (it includes the test-money note).
        message=event_message(payment, success_message(payment, paid_from, amount, payment.gateway)),
        actions=FINAL_ACTIONS,
        external_url=payment.payment_url or None,
        method_name=_method_name(payment),
    )


def _failed(payment: Payment, note: str | None) -> ChargeFailure:
    refusal = from_reason(payment.failure_reason)
    data: dict[str, object] = {}
    if refusal is not None:
        head = refusal.staff_message
        data["error"] = refusal.error()
    else:
        head = payment.failure_reason or f"The Lengo Pay payment is {payment.state.value}."
    if payment.pay_id:
        data["payId"] = payment.pay_id
    # No paymentMethodDetails: nothing was paid with the method the shopper tried.
    return ChargeFailure(
        amount=payment.amount,
        psp_reference=payment.pay_id or None,
        external_url=payment.payment_url or None,
        message=event_message(payment, head, note),
        data=data,
        actions=FINAL_ACTIONS,
    )
