"""TRANSACTION_PROCESS_SESSION: Lengo's status is the truth, fetched at most every few seconds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from saleor_lengo.db.schema import outbox, status_checks
from saleor_lengo.payments import store
from saleor_lengo.flows import process
from saleor_lengo.payments.model import State
from saleor_lengo.payments.state_machine import transition
from saleor_lengo.outbox import relay
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import RETURN_URL, configure_channel, send_webhook
from tests.fakes.payloads import new_transaction_id, session
from tests.fakes.saleor import FakeSaleor
from tests.helpers.sessions import app_link, assert_valid, creates, initialize_session, insert_creating, page_url, payment_of

EVENT = "TRANSACTION_PROCESS_SESSION"
STATUS_PATH = "/api/v1/transaction/status"


async def process_session(client: httpx.AsyncClient, saleor: FakeSaleor, tx: str, psp: str = "") -> dict[str, Any]:
    body = session(EVENT, saleor.app_id, tx, psp=psp, data={"returnUrl": RETURN_URL})
    response = await send_webhook(client, saleor, EVENT, body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert_valid("TransactionProcessSession", answer)
    return answer


def status_calls(lengo: LengoState) -> int:
    return sum(1 for method, path in lengo.calls if method == "POST" and path == STATUS_PATH)


async def started(services: Services, client: httpx.AsyncClient, saleor: FakeSaleor) -> tuple[str, str, str]:
    """A configured channel and an initialized payment: (transaction id, pay_id, environment)."""
    config = await configure_channel(services, saleor)
    tx = new_transaction_id()
    answer = await initialize_session(client, saleor, tx)
    assert answer["result"] == "CHARGE_ACTION_REQUIRED"
    return tx, answer["pspReference"], config.environment


def waiting(
    pay_id: str, env: str, status: str, link: str, *, note: str = "", gateway: str | None = "Orange Money"
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "result": "CHARGE_ACTION_REQUIRED",
        "pspReference": pay_id,
        "amount": 176500,
        "data": {"paymentUrl": page_url(pay_id), "payId": pay_id},
        "externalUrl": link,
        "message": (
            f"Waiting for the shopper to pay GNF\u00a0176,500 on Lengo Pay (Lengo status {status}). {note}"
            f"TEST PAYMENT ({env}): no real money."
        ),
        "actions": ["CANCEL"],
    }
    if gateway:
        answer["paymentMethodDetails"] = {"type": "OTHER", "name": gateway}
    return answer


# --- Each Lengo status ---------------------------------------------------------------


async def test_an_initiated_payment_still_requires_the_shopper_with_the_same_payment_url(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    tx, pay_id, env = await started(services, client, installed)

    answer = await process_session(client, installed, tx, pay_id)

    assert answer == waiting(pay_id, env, "INITIATED", await app_link(services, installed, tx), gateway=None)
    assert status_calls(lengo) == 1


@pytest.mark.parametrize("status", ["PENDING", "CANCELLED"])
async def test_a_pending_or_unknown_status_still_requires_the_shopper(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, status: str
) -> None:
    tx, pay_id, env = await started(services, client, installed)
    lengo.set_status(pay_id, status)

    answer = await process_session(client, installed, tx, pay_id)

    assert answer == waiting(pay_id, env, status, await app_link(services, installed, tx))
    assert (await payment_of(services, installed, tx)).state == State.ACTION_REQUIRED


async def test_a_failed_payment_is_a_charge_failure_with_its_psp_reference(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    tx, pay_id, env = await started(services, client, installed)
    lengo.decline(pay_id)

    answer = await process_session(client, installed, tx, pay_id)

    assert answer == {
        "result": "CHARGE_FAILURE",
        "amount": 176500,
        "pspReference": pay_id,
        "externalUrl": await app_link(services, installed, tx),
        "message": f"Payment failed on Lengo Pay. TEST PAYMENT ({env}): no real money.",
        "data": {"payId": pay_id},
        "actions": [],
        # No payment method: Lengo names the one tried, but nothing was paid with it.
    }
    assert (await payment_of(services, installed, tx)).state == State.FAILED


async def test_a_checkout_goes_from_initialize_to_paid_at_lengo_to_an_exact_charge_success(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    tx, pay_id, env = await started(services, client, installed)
    lengo.pay(pay_id, gateway="MTN MoMo")

    answer = await process_session(client, installed, tx, pay_id)

    assert answer == {
        "result": "CHARGE_SUCCESS",
        "pspReference": pay_id,
        "amount": 176500,
        "message": f"Paid on Lengo Pay with MTN MoMo: GNF\u00a0176,500. TEST PAYMENT ({env}): no real money.",
        "actions": [],
        "externalUrl": await app_link(services, installed, tx),
        "paymentMethodDetails": {"type": "OTHER", "name": "MTN MoMo"},
    }
    payment = await payment_of(services, installed, tx)
    assert payment.state == State.SUCCEEDED and payment.charged_amount == Decimal("176500")
    # The later report (from the outbox) carries the same pspReference and
    # amount, so Saleor counts the payment once.
    async with services.db.read() as conn:
        (report,) = (await conn.execute(select(outbox))).all()
    assert (report.event_type, report.psp_reference, report.amount) == ("CHARGE_SUCCESS", pay_id, "176500")
    installed.open_transaction(tx)
    installed.record_sync_answer(tx, answer)
    installed.record_sync_answer(tx, {"result": "CHARGE_SUCCESS", "pspReference": pay_id, "amount": Decimal(report.amount)})
    assert installed.charged_amount(tx) == Decimal("176500")

    # Final: answered again from the store, without asking Lengo.
    again = await process_session(client, installed, tx, pay_id)
    assert again == answer
    assert status_calls(lengo) == 1


async def test_a_confirmed_amount_that_differs_is_the_one_reported_and_the_message_says_so(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    tx, pay_id, env = await started(services, client, installed)
    lengo.payments[pay_id].amount = Decimal("170000")
    lengo.pay(pay_id)

    answer = await process_session(client, installed, tx, pay_id)

    assert answer["result"] == "CHARGE_SUCCESS"
    assert answer["amount"] == 170000
    assert answer["message"] == (
        "Paid on Lengo Pay with Orange Money: GNF\u00a0170,000. "
        "Lengo confirmed GNF\u00a0170,000 but GNF\u00a0176,500 was requested. "
        f"TEST PAYMENT ({env}): no real money."
    )
    lengo.payments[pay_id].amount = Decimal("176500")
    assert (await process_session(client, installed, tx, pay_id))["amount"] == 170000


# --- Lengo down, slow, or asked too often ---------------------------------------------------


async def test_lengo_down_is_still_action_required_never_a_5xx(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tx, pay_id, env = await started(services, client, installed)
    monkeypatch.setattr(process, "STATUS_BUDGET_SECONDS", 0.3)
    lengo.fail_next = 100

    answer = await process_session(client, installed, tx, pay_id)

    assert answer == {
        "result": "CHARGE_ACTION_REQUIRED",
        "pspReference": pay_id,
        "amount": 176500,
        "data": {"paymentUrl": page_url(pay_id), "payId": pay_id},
        "externalUrl": await app_link(services, installed, tx),
        "message": (
            "Lengo Pay payment page created for GNF\u00a0176,500; waiting for the shopper to pay. "
            "The status could not be checked with Lengo Pay just now (Lengo answered HTTP 500); "
            f"this is the last known state. TEST PAYMENT ({env}): no real money."
        ),
        "actions": ["CANCEL"],
    }
    payment = await payment_of(services, installed, tx)
    async with services.db.read() as conn:
        errors = (await conn.execute(select(status_checks.c.error).where(status_checks.c.payment_id == payment.id))).scalars().all()
    assert errors and all(e == "Lengo answered HTTP 500" for e in errors)


async def test_a_hung_status_call_is_cut_at_its_budget_and_answered_action_required(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tx, pay_id, _env = await started(services, client, installed)
    monkeypatch.setattr(process, "STATUS_BUDGET_SECONDS", 0.3)
    lengo.hang_next, lengo.hang_seconds = 5, 5.0

    answer = await process_session(client, installed, tx, pay_id)

    assert answer["result"] == "CHARGE_ACTION_REQUIRED"
    assert answer["data"] == {"paymentUrl": page_url(pay_id), "payId": pay_id}
    assert "The status could not be checked with Lengo Pay just now" in answer["message"]


async def test_a_status_fetched_seconds_ago_is_reused_instead_of_asking_lengo_again(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tx, pay_id, env = await started(services, client, installed)
    lengo.set_status(pay_id, "PENDING")

    first = await process_session(client, installed, tx, pay_id)
    second = await process_session(client, installed, tx, pay_id)

    assert first == second == waiting(pay_id, env, "PENDING", await app_link(services, installed, tx))
    assert status_calls(lengo) == 1

    monkeypatch.setattr(process, "STATUS_FRESH_SECONDS", 0.0)
    lengo.pay(pay_id)
    third = await process_session(client, installed, tx, pay_id)
    assert third["result"] == "CHARGE_SUCCESS"
    assert status_calls(lengo) == 2


# --- Payments the shopper cannot pay through -------------------------------------------------


async def test_an_unknown_transaction_is_a_charge_failure_with_a_message(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed)

    answer = await process_session(client, installed, new_transaction_id())

    assert answer == {
        "result": "CHARGE_FAILURE",
        "message": (
            "No Lengo Pay payment is known for this transaction: it was not started through this app "
            "(TRANSACTION_INITIALIZE_SESSION), or the app's database lost it."
        ),
        "actions": [],
    }
    assert status_calls(lengo) == 0


async def test_a_payment_whose_create_failed_answers_that_failure_without_asking_lengo(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed)
    lengo.fail_next = 1
    tx = new_transaction_id()
    first = await initialize_session(client, installed, tx)

    answer = await process_session(client, installed, tx)

    assert answer == first
    assert answer["data"]["error"]["code"] == "OUTCOME_UNKNOWN"
    assert status_calls(lengo) == 0


async def cancel(services: Services, saleor: FakeSaleor, tx: str) -> None:
    payment = await payment_of(services, saleor, tx)
    async with services.db.write() as conn:
        locked = await store.get(conn, payment.id, lock=True)
        assert locked is not None
        await transition(conn, locked, State.CANCELED, reason="Canceled by staff in the Dashboard.", now=services.clock())


async def test_a_canceled_payment_answers_its_state_honestly(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    tx, pay_id, env = await started(services, client, installed)
    await cancel(services, installed, tx)

    answer = await process_session(client, installed, tx, pay_id)

    assert answer["result"] == "CHARGE_FAILURE"
    assert answer["pspReference"] == pay_id
    assert answer["message"] == f"Canceled by staff in the Dashboard. TEST PAYMENT ({env}): no real money."
    assert status_calls(lengo) == 1  # asked anyway: a canceled link can still be paid


async def test_a_canceled_payment_paid_late_is_recorded_and_answered_as_a_success(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    tx, pay_id, _env = await started(services, client, installed)
    await cancel(services, installed, tx)
    lengo.pay(pay_id)

    answer = await process_session(client, installed, tx, pay_id)

    assert answer["result"] == "CHARGE_SUCCESS"
    assert answer["amount"] == 176500
    assert "Late payment after the payment was canceled: refund due to the shopper" in answer["message"]
    payment = await payment_of(services, installed, tx)
    assert payment.state == State.SUCCEEDED
    # Saleor keeps whichever of the two arrives first: they say the same.
    await relay.run_once(services)
    (report,) = [c["variables"] for c in installed.graphql_calls if "transactionEventReport" in c["query"]]
    assert report["message"] == answer["message"]
    assert await process_session(client, installed, tx, pay_id) == answer


async def test_a_payment_whose_creating_request_died_is_answered_as_an_unknown_outcome(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    tx = new_transaction_id()
    await insert_creating(services, installed, tx, lease_in=-1)

    answer = await process_session(client, installed, tx)

    assert answer["result"] == "CHARGE_FAILURE"
    assert answer["data"]["error"]["code"] == "OUTCOME_UNKNOWN"
    assert answer["message"].startswith("The request creating this payment at Lengo Pay never finished")
    assert (await payment_of(services, installed, tx)).state == State.FAILED
    assert status_calls(lengo) == 0 and creates(lengo) == 0
