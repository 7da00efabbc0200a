"""The payout worker: Saleor's request confirmed, the balance checked, one cash-in, polled to its outcome."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from saleor_lengo.db.schema import lengo_requests
from saleor_lengo.lengo import vocabulary
from saleor_lengo.outbox import relay
from saleor_lengo.payments import store as payment_store
from saleor_lengo.payouts.model import PayoutState
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import WEBSITE_ID
from tests.faults.ledger import Clock
from tests.fakes.saleor import FakeSaleor
from tests.handlers.conftest import lengo_http, transports  # noqa: F401  (every request the app sends Lengo)
from tests.helpers.lengo import LengoRecorder
from tests.helpers.payouts import PAYER, all_payouts, payable_payment, payouts_on, refund, work_payouts

pytestmark = pytest.mark.usefixtures("installed")


def cashins(lengo: LengoState) -> int:
    return sum(1 for _, path in lengo.calls if path == vocabulary.CASHIN_REQUEST_PATH)


async def test_an_automatic_refund_puts_the_money_on_the_payers_wallet_and_reports_one_refund_success(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo, funds=Decimal(0))
    await payouts_on(services)
    balance_before = lengo.balance(WEBSITE_ID)

    answer = await refund(client, installed, payment, Decimal(76500))
    await work_payouts(services, clock)
    await relay.run_once(services)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.PAID_OUT and payout.psp_reference == answer["pspReference"]
    assert lengo.wallets == {PAYER: Decimal(76500)}
    assert lengo.balance(WEBSITE_ID) == balance_before - 76500
    assert cashins(lengo) == 1
    [success] = installed.events(payment.saleor_transaction_id, "REFUND_SUCCESS")
    assert (success.psp_reference, success.amount) == (payout.psp_reference, Decimal(76500))
    assert "••••7845" in success.message and PAYER not in success.message
    report = [c for c in installed.graphql_calls if "transactionEventReport" in c["query"]][-1]
    assert report["variables"]["availableActions"] == ["REFUND"]  # 100000 GNF still refundable
    async with services.db.read() as conn:
        updated = await payment_store.get(conn, payment.id)
        audit = (await conn.execute(select(lengo_requests).where(lengo_requests.c.operation.like("cashin%")))).all()
    assert updated is not None and updated.refunded_amount == Decimal(76500)
    assert {a.operation for a in audit} == {"cashin_request", "cashin_status"}
    assert all(PAYER not in (a.detail or "") for a in audit)


async def test_a_full_refund_removes_the_refund_button(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo, amount=Decimal(20000))
    await payouts_on(services)

    await refund(client, installed, payment, Decimal(20000))
    await work_payouts(services, clock)
    await relay.run_once(services)

    report = [c for c in installed.graphql_calls if "transactionEventReport" in c["query"]][-1]
    assert (report["variables"]["type"], report["variables"]["availableActions"]) == ("REFUND_SUCCESS", [])


async def test_a_balance_too_low_fails_the_refund_without_asking_for_a_cash_in(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo, funds=Decimal(0))
    await payouts_on(services)
    lengo.funds[WEBSITE_ID] = Decimal(-170000)  # the merchant withdrew most of it

    await refund(client, installed, payment, Decimal(50000))
    await work_payouts(services, clock)
    await relay.run_once(services)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.FAILED and payout.released_at is not None
    assert cashins(lengo) == 0
    [failure] = installed.events(payment.saleor_transaction_id, "REFUND_FAILURE")
    assert failure.psp_reference == payout.psp_reference and "balance" in failure.message


async def test_nothing_is_sent_when_saleor_already_shows_a_failure_for_the_payout(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    answer = await refund(client, installed, payment, Decimal(50000))
    # Saleor never got the answer in time: it recorded a failure with the payout's reference.
    installed.transactions[payment.saleor_transaction_id][-1].type = "REFUND_FAILURE"

    await work_payouts(services, clock)

    [payout] = await all_payouts(services)
    assert (payout.state, payout.psp_reference) == (PayoutState.NEEDS_REVIEW, answer["pspReference"])
    assert cashins(lengo) == 0


async def test_a_cash_in_that_provably_never_left_is_sent_again_once(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock,
    lengo_http: LengoRecorder,  # noqa: F811
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    await refund(client, installed, payment, Decimal(50000))

    # The balance check goes through; the cash-in's connection is refused: nothing reached Lengo.
    original = lengo_http.handle_async_request

    async def refusing(request: httpx.Request) -> httpx.Response:
        if request.url.path == vocabulary.CASHIN_REQUEST_PATH and not refusing.done:  # type: ignore[attr-defined]
            refusing.done = True  # type: ignore[attr-defined]
            raise httpx.ConnectError("connection refused", request=request)
        return await original(request)

    refusing.done = False  # type: ignore[attr-defined]
    lengo_http.handle_async_request = refusing  # type: ignore[method-assign]
    await work_payouts(services, clock)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.PAID_OUT
    assert refusing.done  # type: ignore[attr-defined]
    assert cashins(lengo) == 1 and len(lengo.cashins) == 1
    assert sum(1 for r in lengo_http.requests if r.url.path == vocabulary.CASHIN_REQUEST_PATH) == 1  # the refused one never got there


async def test_one_payer_gets_one_cash_in_at_a_time(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    lengo.cashin_statuses = ["PENDING", "PENDING", "SUCCESS"]
    await refund(client, installed, payment, Decimal(10000))
    await refund(client, installed, payment, Decimal(20000), issued_at="2026-12-05T09:00:00+00:00")

    from saleor_lengo.flows import payout_worker

    await payout_worker.run_once(services)
    states = sorted(p.state.value for p in await all_payouts(services))
    assert states == ["sending", "sent"]  # the second waits for the first
    assert sum(1 for p in await all_payouts(services) if p.in_flight) == 1

    await work_payouts(services, clock)
    assert [p.state for p in await all_payouts(services)] == [PayoutState.PAID_OUT, PayoutState.PAID_OUT]
    assert lengo.wallets == {PAYER: Decimal(30000)}

