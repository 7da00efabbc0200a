"""TRANSACTION_CANCELATION_REQUESTED: cancel only what Lengo confirms unpaid, honestly and idempotently."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from saleor_lengo.saleor import installations
from saleor_lengo.db.schema import action_answers, outbox, status_checks
from saleor_lengo.handlers import transaction_cancelation_requested as cancel_handler
from saleor_lengo.lengo.client import PaymentStatus
from saleor_lengo.flows import lengo_status
from saleor_lengo.flows.actions import Answer, answer_once
from saleor_lengo.payments import store
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.saleor.payloads import ActionRequest
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.fakes.payloads import action_request, new_transaction_id
from tests.fakes.payment_rows import open_payment, paid_payment
from tests.fakes.saleor import FakeSaleor
from tests.helpers.lengo import status_calls
from tests.helpers.actions import act_on, action_psp, send_action

EVENT = "TRANSACTION_CANCELATION_REQUESTED"
ISSUED_AT = "2026-11-28T03:50:08.970264+00:00"
LATER = "2026-11-28T04:12:41.002311+00:00"
STILL_PAYABLE = (
    "Lengo Pay cannot close a payment link, so the shopper may still pay it; "
    "such a payment would be reported here as charged, with a refund due."
)

pytestmark = pytest.mark.usefixtures("installed")


def psp(base: str, issued_at: str) -> str:
    return action_psp(EVENT, base, issued_at)


async def cancel(
    client: httpx.AsyncClient, fake_saleor: FakeSaleor, payment: Payment, issued_at: str = ISSUED_AT
) -> dict[str, Any]:
    return await act_on(client, fake_saleor, EVENT, payment, issued_at=issued_at)


async def state_of(services: Services, payment: Payment) -> State:
    async with services.db.read() as conn:
        found = await store.get(conn, payment.id)
    assert found is not None
    return found.state


async def outbox_rows(services: Services, payment: Payment) -> list[Any]:
    async with services.db.read() as conn:
        return list((await conn.execute(select(outbox).where(outbox.c.payment_id == payment.id))).all())


async def test_an_unpaid_payment_is_canceled_and_the_answer_says_the_link_may_still_be_paid(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id

    answer = await cancel(client, installed, payment)

    assert answer == {
        "result": "CANCEL_SUCCESS",
        "pspReference": psp(payment.pay_id, ISSUED_AT),
        "amount": 0,
        "message": f"Canceled: Lengo Pay reports this payment unpaid (INITIATED). {STILL_PAYABLE}",
        "actions": [],
    }
    assert await state_of(services, payment) == State.CANCELED
    assert status_calls(lengo) == 1
    assert installed.charged_amount(payment.saleor_transaction_id) == 0
    # Nothing goes through the outbox: the sync answer is the report.
    assert await outbox_rows(services, payment) == []
    async with services.db.read() as conn:
        checks = (await conn.execute(select(status_checks).where(status_checks.c.payment_id == payment.id))).all()
    assert [(c.source, c.lengo_status) for c in checks] == [("cancel", "INITIATED")]


async def test_the_same_cancel_again_gets_the_same_answer_without_asking_lengo(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    first = await cancel(client, installed, payment)

    again = await cancel(client, installed, payment)

    assert again == first
    assert status_calls(lengo) == 1
    async with services.db.read() as conn:
        stored = (await conn.execute(select(action_answers))).all()
    assert len(stored) == 1
    assert len(installed.events(payment.saleor_transaction_id, "CANCEL_SUCCESS")) == 1


async def test_another_cancel_request_gets_its_own_psp_reference(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    await cancel(client, installed, payment)

    second = await cancel(client, installed, payment, issued_at=LATER)

    assert second == {
        "result": "CANCEL_SUCCESS",
        "pspReference": psp(payment.pay_id, LATER),
        "amount": 0,
        "message": f"Already canceled; Lengo Pay reports it unpaid (INITIATED). {STILL_PAYABLE}",
        "actions": [],
    }
    assert psp(payment.pay_id, LATER) != psp(payment.pay_id, ISSUED_AT)
    assert status_calls(lengo) == 2
    assert len(installed.events(payment.saleor_transaction_id, "CANCEL_SUCCESS")) == 2


async def test_a_pending_payment_is_canceled_with_a_warning_that_the_shopper_was_paying(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo, lengo_status="PENDING")
    assert payment.pay_id

    answer = await cancel(client, installed, payment)
    again = await cancel(client, installed, payment)

    assert answer == {
        "result": "CANCEL_SUCCESS",
        "pspReference": psp(payment.pay_id, ISSUED_AT),
        "amount": 0,
        "message": (
            "Canceled, but Lengo Pay reports that the shopper was paying at that very moment (PENDING): "
            f"the payment may still complete. {STILL_PAYABLE}"
        ),
        "actions": [],
    }
    assert again == answer
    assert status_calls(lengo) == 1
    assert await state_of(services, payment) == State.CANCELED


async def test_a_payment_paid_on_lengo_is_not_canceled_and_its_success_is_reported(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    # The shopper paid, the callback never came: Lengo is the one who knows.
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    lengo.pay(payment.pay_id)

    answer = await cancel(client, installed, payment)
    again = await cancel(client, installed, payment)

    assert answer == {
        "result": "CANCEL_FAILURE",
        "pspReference": psp(payment.pay_id, ISSUED_AT),
        "amount": 0,
        "message": (
            "Not canceled: already paid — refund instead (GNF\u00a0176,500 paid on Lengo Pay). "
            "Lengo Pay has no refund API: refund the shopper by hand."
        ),
        "actions": [],
    }
    assert again == answer
    assert status_calls(lengo) == 1
    assert await state_of(services, payment) == State.SUCCEEDED
    [row] = await outbox_rows(services, payment)
    assert (row.event_type, row.psp_reference, row.amount) == ("CHARGE_SUCCESS", payment.pay_id, "176500")
    assert "refund due" not in row.message


async def test_a_payment_known_paid_is_not_canceled_and_lengo_is_not_asked(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await paid_payment(services, installed, lengo)
    assert payment.pay_id

    answer = await cancel(client, installed, payment)

    assert answer == {
        "result": "CANCEL_FAILURE",
        "pspReference": psp(payment.pay_id, ISSUED_AT),
        "amount": 0,
        "message": (
            "Not canceled: already paid — refund instead (GNF\u00a0176,500 paid on Lengo Pay). "
            "Lengo Pay has no refund API: refund the shopper by hand."
        ),
        "actions": [],
    }
    assert status_calls(lengo) == 0
    assert await state_of(services, payment) == State.SUCCEEDED
    assert installed.charged_amount(payment.saleor_transaction_id) == 176500


async def test_when_lengo_cannot_be_asked_nothing_is_canceled_and_the_answer_says_so(
    client: httpx.AsyncClient,
    services: Services,
    installed: FakeSaleor,
    lengo: LengoState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cancel_handler, "STATUS_BUDGET_SECONDS", 0.6)  # one attempt, no retry
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    lengo.fail_next = 1

    answer = await cancel(client, installed, payment)
    again = await cancel(client, installed, payment)

    assert answer == {
        "result": "CANCEL_FAILURE",
        "pspReference": psp(payment.pay_id, ISSUED_AT),
        "amount": 0,
        "message": (
            "Not canceled: it could not be confirmed with Lengo Pay that the payment is unpaid "
            "(Lengo answered HTTP 500). Try again later."
        ),
        "actions": ["CANCEL"],
    }
    assert again == answer
    assert status_calls(lengo) == 1
    assert await state_of(services, payment) == State.ACTION_REQUIRED
    async with services.db.read() as conn:
        checks = (await conn.execute(select(status_checks).where(status_checks.c.payment_id == payment.id))).all()
    assert [(c.source, c.error) for c in checks] == [("cancel", "Lengo answered HTTP 500")]

    # Staff press Cancel again once Lengo is back: a new request, a real answer.
    retried = await cancel(client, installed, payment, issued_at=LATER)
    assert retried["result"] == "CANCEL_SUCCESS"
    assert await state_of(services, payment) == State.CANCELED


async def test_a_success_landing_while_canceling_wins_and_the_cancel_fails(
    client: httpx.AsyncClient,
    services: Services,
    installed: FakeSaleor,
    lengo: LengoState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    original = lengo_status.apply_status

    async def callback_lands_right_after(svc: Services, payment_id: str, status: PaymentStatus, *, source: str) -> Any:
        outcome = await original(svc, payment_id, status, source=source)
        # Lengo said INITIATED; a moment later the shopper's payment is confirmed.
        sim = lengo.pay(status.pay_id)
        await original(svc, payment_id, PaymentStatus("SUCCESS", sim.pay_id, sim.amount, None, sim.gateway), source="callback")
        return outcome

    monkeypatch.setattr(lengo_status, "apply_status", callback_lands_right_after)

    answer = await cancel(client, installed, payment)

    assert answer["result"] == "CANCEL_FAILURE"
    assert "already paid — refund instead" in answer["message"]
    assert await state_of(services, payment) == State.SUCCEEDED
    [row] = await outbox_rows(services, payment)
    assert row.event_type == "CHARGE_SUCCESS"


async def test_a_success_after_the_cancel_is_still_reported_with_a_refund_due(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    assert (await cancel(client, installed, payment))["result"] == "CANCEL_SUCCESS"

    sim = lengo.pay(payment.pay_id)
    outcome = await lengo_status.apply_status(
        services, payment.id, PaymentStatus("SUCCESS", sim.pay_id, sim.amount, None, sim.gateway), source="callback"
    )

    assert outcome.payment.state == State.SUCCEEDED
    [row] = await outbox_rows(services, payment)
    assert (row.event_type, row.amount) == ("CHARGE_SUCCESS", "176500")
    assert "refund due" in row.message


async def test_a_transaction_without_a_payment_gets_a_failure_not_an_error(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    answer = await send_action(client, installed, EVENT, new_transaction_id(), psp="", issued_at=ISSUED_AT)

    assert answer == {
        "result": "CANCEL_FAILURE",
        "pspReference": psp("no-lengo-payment", ISSUED_AT),
        "amount": 0,
        "message": "Not canceled: no Lengo Pay payment is known for this transaction.",
    }
    assert lengo.calls == []


async def test_concurrent_copies_of_one_request_get_one_answer(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)

    first, second = await asyncio.gather(cancel(client, installed, payment), cancel(client, installed, payment))

    assert first == second
    assert first["result"] == "CANCEL_SUCCESS"
    async with services.db.read() as conn:
        assert len((await conn.execute(select(action_answers))).all()) == 1
    assert await state_of(services, payment) == State.CANCELED


async def test_when_two_copies_decide_at_once_the_first_stored_answer_is_everyones(
    services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    request = ActionRequest.parse(
        action_request(EVENT, installed.app_id, payment.saleor_transaction_id, psp=payment.pay_id or "")
    )
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None
    both_decided = asyncio.Barrier(2)

    def deciding(message: str) -> Any:
        async def decide(_services: Services, _payment: Payment | None, _request: ActionRequest) -> Answer:
            await both_decided.wait()  # neither has stored its answer yet
            return Answer("CANCEL_FAILURE", message)

        return decide

    answers = await asyncio.gather(
        answer_once(services, inst.id, request, "CANCEL", deciding("one")),
        answer_once(services, inst.id, request, "CANCEL", deciding("two")),
    )

    assert answers[0] == answers[1]
    assert answers[0].to_json()["message"] in ("one", "two")
    async with services.db.read() as conn:
        [row] = (await conn.execute(select(action_answers))).all()
    assert json.loads(row.response)["message"] == answers[0].to_json()["message"]
