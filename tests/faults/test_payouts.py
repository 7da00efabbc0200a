"""Refund payouts under faults: at most one cash-in, and a truthful state, whatever happens.

Lengo's cash-in has no idempotency key: a request sent twice may pay twice.
Each test breaks one link — Lengo's answer lost after it paid, the app
killed between sending and storing, a cash-in reported FAILED then SUCCESS,
two replicas on one payout, Saleor repeating a refund, two refunds of one
payment at once — and checks the money moved once, the payout's state says
what happened, and Saleor heard exactly one outcome with the payout's
pspReference.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from saleor_lengo.flows import payout_worker
from saleor_lengo.lengo import vocabulary
from saleor_lengo.outbox import relay
from saleor_lengo.payments import store as payment_store
from saleor_lengo.payouts.model import PayoutState
from saleor_lengo.saleor.client import SaleorClient
from saleor_lengo.services import Services, build_services
from saleor_lengo.settings import Settings
from saleor_lengo.simulator.api import LengoState
from saleor_lengo.simulator.api import create_app as create_lengo_app
from tests.conftest import LENGO_URL, WEBSITE_ID
from tests.fakes.saleor import FakeSaleor
from tests.faults.ledger import Clock
from tests.helpers.payouts import PAYER, all_payouts, payable_payment, payouts_on, refund, work_payouts

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("installed")]


class Killed(BaseException):
    """The process dies: nothing after this line of the app runs."""


class KillAfterSending(httpx.AsyncBaseTransport):
    """Lengo gets the cash-in request and carries it out; the app dies before it reads the answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.armed = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.armed and request.url.path == vocabulary.CASHIN_REQUEST_PATH:
            self.armed = False
            raise Killed()
        return response


@pytest.fixture
async def replica(
    settings: Settings, fake_saleor: FakeSaleor, lengo: LengoState, clock: Clock
) -> AsyncIterator[Services]:
    """Another process on the same database, with a lease holder of its own."""
    http = httpx.AsyncClient(mounts={
        "http://saleor.test": httpx.ASGITransport(app=fake_saleor.asgi()),
        LENGO_URL: httpx.ASGITransport(app=create_lengo_app(lengo)),
    })
    other = build_services(settings, http=http)
    other.clock = clock
    yield other
    await other.aclose()


def cashins_asked(lengo: LengoState) -> int:
    return sum(1 for _, path in lengo.calls if path == vocabulary.CASHIN_REQUEST_PATH)


async def outcome_in_saleor(services: Services, fake: FakeSaleor, tx: str) -> list[tuple[str, str]]:
    await relay.run_once(services)
    return [(e.type, e.psp_reference) for e in fake.events(tx) if e.type.startswith("REFUND_")]


async def test_lengo_timing_out_after_accepting_pays_once_and_is_found_in_the_history(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    monkeypatch.setattr(payout_worker, "CASHIN_TIMEOUT_SECONDS", 0.2)
    lengo.cashin_then_hang, lengo.hang_seconds = 1, 0.5
    answer = await refund(client, installed, payment, Decimal(50000))

    await payout_worker.run_once(services)
    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.SENDING and payout.request_started_at is not None and payout.cashin_pay_id is None
    await asyncio.sleep(0.6)  # the hung answer ends
    await work_payouts(services, clock)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.PAID_OUT and payout.cashin_pay_id in lengo.cashins
    assert cashins_asked(lengo) == 1 and lengo.wallets == {PAYER: Decimal(50000)}
    assert await outcome_in_saleor(services, installed, payment.saleor_transaction_id) == [
        ("REFUND_REQUEST", answer["pspReference"]), ("REFUND_SUCCESS", answer["pspReference"])
    ]


async def test_lengo_answering_500_after_paying_is_never_sent_again(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    lengo.cashin_then_fail = 1
    await refund(client, installed, payment, Decimal(50000))

    await work_payouts(services, clock)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.PAID_OUT
    assert cashins_asked(lengo) == 1 and lengo.wallets == {PAYER: Decimal(50000)}


async def test_an_unknown_outcome_with_no_trace_at_lengo_goes_to_review_and_is_not_resent(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    lengo.cashin_then_fail = 1
    await refund(client, installed, payment, Decimal(50000))
    await payout_worker.run_once(services)
    lengo.cashins.clear()  # whatever Lengo did, its history does not show it

    await work_payouts(services, clock, rounds=30)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.NEEDS_REVIEW and "not sent again" in (payout.reason or "")
    assert cashins_asked(lengo) == 1
    assert await outcome_in_saleor(services, installed, payment.saleor_transaction_id) == [
        ("REFUND_REQUEST", payout.psp_reference)
    ]


async def test_two_candidates_in_the_history_go_to_review(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    lengo.cashin_then_fail = 1
    await refund(client, installed, payment, Decimal(50000))
    await payout_worker.run_once(services)
    [first] = list(lengo.cashins.values())
    from dataclasses import replace
    lengo.cashins["another"] = replace(first, pay_id="another")  # the same amount to the same payer, by hand

    await work_payouts(services, clock)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.NEEDS_REVIEW and "2 cash-ins" in (payout.reason or "")


async def test_the_app_killed_between_sending_and_storing_continues_with_the_cash_in_it_sent(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock,
    replica: Services,
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    await refund(client, installed, payment, Decimal(50000))
    killer = KillAfterSending(httpx.ASGITransport(app=create_lengo_app(lengo)))
    await services.http.aclose()
    services.http = httpx.AsyncClient(mounts={
        "http://saleor.test": httpx.ASGITransport(app=installed.asgi()), LENGO_URL: killer,
    })
    services.saleor = SaleorClient(services.http)

    with pytest.raises(Killed):
        await payout_worker.run_once(services)
    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.SENDING and payout.request_started_at is not None and len(lengo.cashins) == 1

    # Another process takes the payout over once the dead one's lease ran out.
    await work_payouts(replica, clock)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.PAID_OUT and payout.cashin_pay_id in lengo.cashins
    assert cashins_asked(lengo) == 1 and lengo.wallets == {PAYER: Decimal(50000)}


async def test_failed_then_success_reports_the_failure_then_the_success_with_one_psp_reference(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    await payouts_on(services)
    lengo.cashin_statuses = ["FAILED"]
    answer = await refund(client, installed, payment, Decimal(60000))
    for _ in range(3):
        await payout_worker.run_once(services)
        clock.advance(10)
    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.FAILED and payout.released_at is None

    # Still held: the rest of the charge is all that can be refunded meanwhile.
    held = await refund(client, installed, payment, Decimal(50000), issued_at="2026-12-05T09:00:00+00:00")
    assert held["result"] == "REFUND_FAILURE" and "at most GNF\u00a040,000" in held["message"]

    lengo.settle_cashin(payout.cashin_pay_id or "", "SUCCESS")  # Lengo reverses its word
    await work_payouts(services, clock, step=1200)

    [payout, *_] = await all_payouts(services)
    assert payout.state == PayoutState.PAID_OUT
    outcomes = await outcome_in_saleor(services, installed, payment.saleor_transaction_id)
    assert [t for t, psp in outcomes if psp == answer["pspReference"]] == [
        "REFUND_REQUEST", "REFUND_FAILURE", "REFUND_SUCCESS"
    ]
    async with services.db.read() as conn:
        paid = await payment_store.get(conn, payment.id)
    assert paid is not None and paid.refunded_amount == Decimal(60000)
    assert cashins_asked(lengo) == 1


async def test_a_failure_still_failed_an_hour_later_releases_its_reservation(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    await payouts_on(services)
    lengo.cashin_statuses = ["FAILED"]
    await refund(client, installed, payment, Decimal(60000))
    await work_payouts(services, clock, rounds=5, step=10)
    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.FAILED and payout.released_at is None

    await work_payouts(services, clock, step=1200)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.FAILED and payout.released_at is not None
    lengo.cashin_statuses = ["SUCCESS"]
    again = await refund(client, installed, payment, Decimal(100000), issued_at="2026-12-05T11:00:00+00:00")
    assert "result" not in again
    await work_payouts(services, clock)
    assert lengo.wallets == {PAYER: Decimal(100000)}


async def test_two_replicas_picking_up_one_payout_send_one_cash_in(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock,
    replica: Services,
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    await refund(client, installed, payment, Decimal(50000))

    for _ in range(10):
        await asyncio.gather(payout_worker.run_once(services), payout_worker.run_once(replica))
        clock.advance(30)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.PAID_OUT
    assert cashins_asked(lengo) == 1 and lengo.wallets == {PAYER: Decimal(50000)}
    assert [t for t, _ in await outcome_in_saleor(services, installed, payment.saleor_transaction_id)] == [
        "REFUND_REQUEST", "REFUND_SUCCESS"
    ]


async def test_a_refund_repeated_by_saleor_at_once_makes_one_payout_and_one_cash_in(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)

    answers = await asyncio.gather(*(refund(client, installed, payment, Decimal(50000)) for _ in range(3)))
    await work_payouts(services, clock)

    assert len({a["pspReference"] for a in answers}) == 1
    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.PAID_OUT
    assert cashins_asked(lengo) == 1 and lengo.wallets == {PAYER: Decimal(50000)}


async def test_two_concurrent_refunds_of_one_payment_never_exceed_the_charge(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    await payouts_on(services)
    overlapping(monkeypatch, "refundable")

    answers = await asyncio.gather(
        refund(client, installed, payment, Decimal(60000), issued_at="2026-12-05T08:00:00+00:00"),
        refund(client, installed, payment, Decimal(60000), issued_at="2026-12-05T08:00:01+00:00"),
    )
    await work_payouts(services, clock)

    assert sorted("result" in a for a in answers) == [False, True]
    assert [p.state for p in await all_payouts(services)] == [PayoutState.PAID_OUT]
    assert lengo.wallets == {PAYER: Decimal(60000)}
    assert lengo.balance(WEBSITE_ID) >= 0


def overlapping(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Each refund waits (up to 0.5 s) after reading `ledger.<name>` for the other to read it too.

    Without the locks both read the same room and both pass; with them the
    second cannot read before the first has written, and waits its turn.
    """
    from saleor_lengo.payouts import ledger

    read = getattr(ledger, name)
    arrived: list[int] = []

    async def then_wait(*args: object) -> object:
        found = await read(*args)
        arrived.append(1)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                while len(arrived) < 2:
                    await asyncio.sleep(0.01)
        return found

    monkeypatch.setattr(ledger, name, then_wait)


async def test_concurrent_refunds_of_two_payments_never_pass_the_daily_limit_together(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    two = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    await payouts_on(services, limit="100000")
    overlapping(monkeypatch, "paid_out_today")

    answers = await asyncio.gather(
        refund(client, installed, one, Decimal(60000)), refund(client, installed, two, Decimal(60000))
    )

    refused = [a for a in answers if "result" in a]
    assert len(refused) == 1 and "daily payout limit reached" in refused[0]["message"]
    assert len(await all_payouts(services)) == 1
