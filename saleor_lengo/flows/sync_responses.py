"""The sync answers of the checkout webhooks (saleor/sync_answers.py), and nothing else.

Every answer about a stored payment is rendered from the payment row alone
(`for_payment`), so a repeated initialize, a process call and the first
answer can never disagree. Amounts are Decimals quantized to the currency:
the route writes them with `jsonutil`, so 176500 GNF goes out as `176500`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from saleor_lengo.configurations import Configuration
from saleor_lengo.money import Money, Unholdable
from saleor_lengo.payments.outbox import event_message
from saleor_lengo.payments.errors import ErrorCode, Refusal, from_reason
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payments.state_machine import success_message
from saleor_lengo.payments.describe import state_name
from saleor_lengo.saleor import messages
from saleor_lengo.saleor.sync_answers import ChargeActionRequired, ChargeFailure, ChargeSuccess, GatewayAvailability
from saleor_lengo.words import Message, Text, load, words

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


def refused(refusal: Refusal, *, amount: Decimal | Unholdable, currency: str, language: str) -> ChargeFailure:
    """A payment that never started: nothing was stored, nothing sent to Lengo.

    An amount the app cannot hold is left out (Saleor then keeps the one it asked for).
    """
    return ChargeFailure(
        amount=amount_of(amount, currency) if isinstance(amount, Decimal) else None,
        message=messages.render((refusal.staff,), language),
        data={"error": refusal.error()},
        actions=FINAL_ACTIONS,
    )


def unknown_transaction(language: str) -> ChargeFailure:
    return ChargeFailure(
        message=messages.render((words(
            "No Lengo Pay payment is known for this transaction: it was not started through this app "
            "(TRANSACTION_INITIALIZE_SESSION), or the app's database lost it."
        ),), language),
        actions=FINAL_ACTIONS,
    )


SessionAnswer = ChargeSuccess | ChargeActionRequired | ChargeFailure


@dataclass(frozen=True)
class Reader:
    """Who reads the answer: the language of the payment's configuration, and where the payment's page is."""

    language: str
    link: str | None  # the payment in the app's page in the Dashboard (saleor/dashboard.py)


def for_payment(
    payment: Payment, reader: Reader, *, note: Text | None = None, paid_from: State | None = None
) -> SessionAnswer:
    """The answer that says where `payment` stands; `note` adds why it may be stale.

    `paid_from` is the state a succeeded payment left: a late payment says
    so, in the very words of the outbox report, since Saleor keeps whichever
    of the two arrives first.
    """
    if payment.state == State.SUCCEEDED:
        return _succeeded(payment, reader, paid_from or State.ACTION_REQUIRED)
    if payment.state == State.ACTION_REQUIRED:
        return _action_required(payment, reader, note)
    if payment.state == State.CREATING:
        return still_creating(payment, reader)
    if payment.state == State.NEEDS_REVIEW:
        return _under_review(payment, reader)
    return _failed(payment, reader, note)


def _under_review(payment: Payment, reader: Reader) -> ChargeActionRequired:
    """Paid with an amount that cannot be right: neither paid nor failed until staff say (flows/review.py)."""
    refusal = Refusal.of(
        ErrorCode.OUTCOME_UNKNOWN,
        words(
            "Lengo Pay reported this payment as paid with an amount that cannot be right; it is held for review and "
            "nothing is reported until staff resolve it."
        ),
        _SHOPPER_UNDER_REVIEW,
    )
    return ChargeActionRequired(
        psp_reference=payment.pay_id or None,
        amount=payment.amount,
        external_url=reader.link,
        message=_say(payment, reader, refusal.staff, *payment.failure_message()),
        data={"error": refusal.error(), "payId": payment.pay_id},
        actions=FINAL_ACTIONS,
    )


def still_creating(payment: Payment, reader: Reader) -> ChargeFailure:
    refusal = Refusal.of(
        ErrorCode.OUTCOME_UNKNOWN,
        words(
            "An earlier request for this transaction is still waiting for Lengo Pay to create the payment, "
            "so its outcome is not known yet. Check the Lengo portal before the shopper pays again."
        ),
    )
    return ChargeFailure(
        amount=payment.amount,
        external_url=reader.link,
        message=_say(payment, reader, refusal.staff),
        data={"error": refusal.error()},
        actions=FINAL_ACTIONS,
    )


def _say(payment: Payment, reader: Reader, *parts: Text | None) -> str:
    return messages.render(event_message(payment, *parts), reader.language)


def _action_required(payment: Payment, reader: Reader, note: Text | None) -> ChargeActionRequired:
    assert payment.pay_id is not None and payment.payment_url is not None
    if payment.lengo_status:
        head = words(
            "Waiting for the shopper to pay {amount} on Lengo Pay (Lengo status {status}).",
            amount=_money(payment),
            status=_status_word(payment.lengo_status),
        )
    else:
        head = words("Lengo Pay payment page created for {amount}; waiting for the shopper to pay.", amount=_money(payment))
    return ChargeActionRequired(
        psp_reference=payment.pay_id,
        amount=payment.amount,
        # The shopper's page is in data.paymentUrl; the Dashboard's link leads staff to the payment.
        data={"paymentUrl": payment.payment_url, "payId": payment.pay_id},
        external_url=reader.link,
        message=_say(payment, reader, head, note),
        actions=OPEN_ACTIONS,
        method_name=_method_name(payment),
    )


def _succeeded(payment: Payment, reader: Reader, paid_from: State) -> ChargeSuccess:
    assert payment.pay_id is not None
    amount = payment.charged_amount
    return ChargeSuccess(
        psp_reference=payment.pay_id,
        # The confirmed amount: the callback's later report uses the very same
        # (pspReference, amount), so Saleor counts the payment once.
        amount=amount_of(amount, payment.currency),
        # Same wording as the outbox report (it includes the test-money note).
        message=_say(payment, reader, *success_message(payment, paid_from, amount, payment.gateway)),
        actions=FINAL_ACTIONS,
        external_url=reader.link,
        method_name=_method_name(payment),
    )


def _failed(payment: Payment, reader: Reader, note: Text | None) -> ChargeFailure:
    refusal = from_reason(payment.failure_reason)
    data: dict[str, object] = {}
    head: Message
    if refusal is not None:
        head = load(payment.failure_words) or (refusal.staff,)
        data["error"] = refusal.error()
    else:
        head = payment.failure_message() or (words("The Lengo Pay payment is {state}.", state=state_name(payment)),)
    if payment.pay_id:
        data["payId"] = payment.pay_id
    # No paymentMethodDetails: nothing was paid with the method the shopper tried.
    return ChargeFailure(
        amount=payment.amount,
        psp_reference=payment.pay_id or None,
        external_url=reader.link,
        message=_say(payment, reader, *head, note),
        data=data,
        actions=FINAL_ACTIONS,
    )
