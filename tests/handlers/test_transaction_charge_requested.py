"""TRANSACTION_CHARGE_REQUESTED: nothing to capture, and Saleor never counts the money twice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from saleor_lengo.payments.model import Payment
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import send_webhook
from tests.fakes.payloads import action_request, new_transaction_id
from tests.fakes.payment_rows import open_payment, paid_payment
from tests.fakes.saleor import FakeSaleor
from tests.helpers.actions import act_on, action_psp, send_action

EVENT = "TRANSACTION_CHARGE_REQUESTED"
ISSUED_AT = "2026-11-28T03:50:09.386768+00:00"
LATER = "2026-11-28T03:51:30.000001+00:00"
NOTHING_TO_CAPTURE = "Nothing to capture: Lengo Pay charges the shopper at payment time, with no separate capture."

pytestmark = pytest.mark.usefixtures("installed")


def psp(base: str, issued_at: str) -> str:
    return action_psp(EVENT, base, issued_at)


async def charge(
    client: httpx.AsyncClient, fake_saleor: FakeSaleor, payment: Payment, issued_at: str = ISSUED_AT
) -> dict[str, Any]:
    # As recorded (files 08 and 12): CHARGE arrives with amount 0.0 whatever the state.
    return await act_on(client, fake_saleor, EVENT, payment, issued_at=issued_at)


async def test_a_charge_of_a_paid_payment_fails_and_the_charged_amount_stays(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await paid_payment(services, installed, lengo)
    assert payment.pay_id
    tx = payment.saleor_transaction_id
    assert installed.charged_amount(tx) == 176500

    answer = await charge(client, installed, payment)
    again = await charge(client, installed, payment)
    other = await charge(client, installed, payment, issued_at=LATER)

    assert answer == {
        "result": "CHARGE_FAILURE",
        "pspReference": psp(payment.pay_id, ISSUED_AT),
        "amount": 0,
        "message": f"{NOTHING_TO_CAPTURE} This payment was already charged (GNF\u00a0176,500) and reported; nothing more was charged.",
        "actions": [],
    }
    assert again == answer
    assert other == {**answer, "pspReference": psp(payment.pay_id, LATER)}
    assert installed.charged_amount(tx) == 176500
    assert [e.psp_reference for e in installed.events(tx, "CHARGE_SUCCESS")] == [payment.pay_id]
    assert lengo.calls == []


@pytest.mark.parametrize("lengo_status", ["INITIATED", "PENDING"])
async def test_a_charge_of_an_unpaid_payment_fails_and_charges_nothing(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, lengo_status: str
) -> None:
    payment = await open_payment(services, installed, lengo, lengo_status=lengo_status)
    assert payment.pay_id
    tx = payment.saleor_transaction_id

    answer = await charge(client, installed, payment)
    again = await charge(client, installed, payment)

    assert answer == {
        "result": "CHARGE_FAILURE",
        "pspReference": psp(payment.pay_id, ISSUED_AT),
        "amount": 0,
        "message": f"{NOTHING_TO_CAPTURE} This payment is not paid yet; it will be reported as charged when the shopper pays.",
        "actions": ["CANCEL"],
    }
    assert again == answer
    assert installed.charged_amount(tx) == 0
    assert installed.events(tx, "CHARGE_SUCCESS") == []
    assert lengo.calls == []


async def test_a_charge_of_a_canceled_payment_says_nothing_was_charged(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    cancel = action_request(
        "TRANSACTION_CANCELATION_REQUESTED", installed.app_id, payment.saleor_transaction_id, psp=payment.pay_id
    )
    assert (await send_webhook(client, installed, "TRANSACTION_CANCELATION_REQUESTED", cancel)).json()["result"] == "CANCEL_SUCCESS"

    answer = await charge(client, installed, payment)

    assert answer == {
        "result": "CHARGE_FAILURE",
        "pspReference": psp(payment.pay_id, ISSUED_AT),
        "amount": 0,
        "message": f"{NOTHING_TO_CAPTURE} Nothing was charged: it was canceled.",
        "actions": [],
    }
    assert installed.charged_amount(payment.saleor_transaction_id) == 0


async def test_a_charge_for_an_unknown_transaction_gets_a_failure_not_an_error(
    client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    answer = await send_action(client, installed, EVENT, new_transaction_id(), psp="", issued_at=ISSUED_AT)

    assert answer == {
        "result": "CHARGE_FAILURE",
        "pspReference": psp("no-lengo-payment", ISSUED_AT),
        "amount": 0,
        "message": f"{NOTHING_TO_CAPTURE} No Lengo Pay payment is known for this transaction.",
    }
