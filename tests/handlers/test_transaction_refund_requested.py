"""TRANSACTION_REFUND_REQUESTED: Lengo Pay has no refund API, so staff are told how to refund by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from saleor_lengo.payments.model import Payment
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import configure_channel
from tests.fakes.payloads import new_transaction_id
from tests.fakes.payment_rows import open_payment, paid_payment
from tests.fakes.saleor import FakeSaleor
from tests.helpers.actions import act_on, action_psp, send_action

EVENT = "TRANSACTION_REFUND_REQUESTED"
ISSUED_AT = "2026-11-28T03:50:14.670827+00:00"
LATER = "2026-11-28T03:58:02.114520+00:00"

pytestmark = pytest.mark.usefixtures("installed")


def psp(base: str, issued_at: str) -> str:
    return action_psp(EVENT, base, issued_at)


async def refund(
    client: httpx.AsyncClient, fake_saleor: FakeSaleor, payment: Payment, amount: Decimal, issued_at: str = ISSUED_AT
) -> dict[str, Any]:
    return await act_on(client, fake_saleor, EVENT, payment, issued_at=issued_at, amount=amount)


def by_hand(payment: Payment, amount: str) -> str:
    return (
        f"Nothing was refunded: Lengo Pay has no refund API. Refund {amount} to the payer by hand "
        "(Orange Money; from the Lengo Pay merchant portal or by a mobile-money transfer), then record it "
        f"in Extensions → Lengo Pay: search for {payment.pay_id}, open the payment and use "
        "“Record a refund made by hand”. Do not add a manual refund in Saleor: it would ask the app for another refund."
    )


async def test_a_refund_of_a_paid_payment_fails_with_instructions_to_refund_by_hand(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await paid_payment(services, installed, lengo)
    assert payment.pay_id

    answer = await refund(client, installed, payment, Decimal("176500.0"))

    assert answer == {
        "result": "REFUND_FAILURE",
        "pspReference": psp(payment.pay_id, ISSUED_AT),
        "amount": 176500,
        "message": by_hand(payment, "GNF\u00a0176,500"),
        "actions": [],
    }
    assert "REFUND" not in answer["actions"]
    assert lengo.calls == []
    assert installed.charged_amount(payment.saleor_transaction_id) == 176500


async def test_the_same_refund_again_gets_the_same_answer_and_another_one_its_own_psp_reference(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await paid_payment(services, installed, lengo)
    assert payment.pay_id
    first = await refund(client, installed, payment, Decimal("88250.0"))

    again = await refund(client, installed, payment, Decimal("88250.0"))
    # A second partial refund of another amount: Saleor must not take it for the first.
    other = await refund(client, installed, payment, Decimal("50000.0"), issued_at=LATER)

    assert again == first
    assert other == {
        "result": "REFUND_FAILURE",
        "pspReference": psp(payment.pay_id, LATER),
        "amount": 50000,
        "message": by_hand(payment, "GNF\u00a050,000"),
        "actions": [],
    }
    failures = installed.events(payment.saleor_transaction_id, "REFUND_FAILURE")
    assert [(e.psp_reference, e.amount) for e in failures] == [
        (psp(payment.pay_id, ISSUED_AT), Decimal("88250")),
        (psp(payment.pay_id, LATER), Decimal("50000")),
    ]
    assert installed.events(payment.saleor_transaction_id, "CHARGE_FAILURE") == []


@pytest.mark.parametrize("lengo_status", ["INITIATED", "PENDING"])
async def test_a_refund_of_an_unpaid_payment_says_that_nothing_was_paid(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, lengo_status: str
) -> None:
    payment = await open_payment(services, installed, lengo, lengo_status=lengo_status)
    assert payment.pay_id

    answer = await refund(client, installed, payment, Decimal("176500.0"))
    again = await refund(client, installed, payment, Decimal("176500.0"))

    assert answer == {
        "result": "REFUND_FAILURE",
        "pspReference": psp(payment.pay_id, ISSUED_AT),
        "amount": 176500,
        "message": (
            "Nothing was refunded: Lengo Pay has not reported this payment as paid (it is not paid yet). "
            "Lengo Pay has no refund API; Extensions → Lengo Pay shows this payment and can ask Lengo for its status again."
        ),
        "actions": ["CANCEL"],
    }
    assert again == answer
    assert lengo.calls == []


async def test_a_refund_for_an_unknown_transaction_gets_a_failure_not_an_error(
    client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    answer = await send_action(
        client, installed, EVENT, new_transaction_id(), psp="tKJkFlbsAShhY+XO20/EBA==", amount=Decimal("10.0"),
        issued_at=ISSUED_AT,
    )

    assert answer == {
        "result": "REFUND_FAILURE",
        "pspReference": psp("tKJkFlbsAShhY+XO20/EBA==", ISSUED_AT),
        "amount": 10,
        "message": (
            "Nothing was refunded: no Lengo Pay payment is known for this transaction, and Lengo Pay has no refund API."
        ),
    }


async def test_a_french_shop_is_told_in_french_how_to_refund_by_hand(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed, language="fr")
    payment = await paid_payment(services, installed, lengo)

    answer = await refund(client, installed, payment, Decimal("176500.0"))

    assert answer["result"] == "REFUND_FAILURE"
    assert answer["message"] == (
        "Rien n'a été remboursé\u00a0: Lengo Pay n'a pas d'API de remboursement. Remboursez 176\u202f500\u00a0GNF au "
        "payeur à la main (Orange Money\u00a0; depuis le portail marchand Lengo Pay ou par un transfert mobile money), "
        f"puis enregistrez-le dans Extensions → Lengo Pay\u00a0: cherchez {payment.pay_id}, ouvrez le paiement et "
        "utilisez « Enregistrer un remboursement fait à la main ». N'ajoutez pas de remboursement manuel dans "
        "Saleor\u00a0: il demanderait un autre remboursement à l'app."
    )
