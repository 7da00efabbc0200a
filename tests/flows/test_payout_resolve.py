"""Staff settle a payout held in needs_review: Saleor hears the outcome once, with the payout's pspReference."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from saleor_lengo.flows import payout_resolve
from saleor_lengo.outbox import relay
from saleor_lengo.payments import store as payment_store
from saleor_lengo.payouts.model import PayoutState
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.faults.ledger import Clock
from tests.fakes.saleor import FakeSaleor
from tests.helpers.metrics import scrape, value
from tests.helpers.payouts import all_payouts, payable_payment, payouts_on, refund, work_payouts

pytestmark = pytest.mark.usefixtures("installed")


async def held_payout(client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState,
                      clock: Clock) -> str:
    payment = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    await payouts_on(services)
    await refund(client, installed, payment, Decimal(40000))
    installed.transactions[payment.saleor_transaction_id][-1].type = "REFUND_FAILURE"  # Saleor lost the answer
    await work_payouts(services, clock, rounds=2)
    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.NEEDS_REVIEW
    return payout.id


async def test_resolving_as_paid_out_reports_refund_success_and_counts_it_refunded(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payout_id = await held_payout(client, services, installed, lengo, clock)

    done = await payout_resolve.resolve(services, payout_id, paid_out=True, by="Aïssata", note="seen on the portal")
    again = await payout_resolve.resolve(services, payout_id, paid_out=True, by="Aïssata", note="twice")
    await relay.run_once(services)

    assert (done.changed, again.changed) == (True, False)
    assert done.payout.state == PayoutState.RESOLVED_PAID_OUT and done.payout.resolved_by == "Aïssata"
    async with services.db.read() as conn:
        payment = await payment_store.get(conn, done.payout.payment_id)
    assert payment is not None and payment.refunded_amount == Decimal(40000)
    [success] = installed.events(payment.saleor_transaction_id, "REFUND_SUCCESS")
    assert success.psp_reference == payout_id


async def test_resolving_as_not_paid_out_frees_the_amount(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payout_id = await held_payout(client, services, installed, lengo, clock)
    [payout] = await all_payouts(services)
    async with services.db.read() as conn:
        payment = await payment_store.get(conn, payout.payment_id)
    assert payment is not None
    refused = await refund(client, installed, payment, Decimal(100000), issued_at="2026-12-05T09:00:00+00:00")
    assert refused["result"] == "REFUND_FAILURE"  # 40000 GNF held

    await payout_resolve.resolve(services, payout_id, paid_out=False, by="Ibrahima", note="no cash-in on the portal")

    again = await refund(client, installed, payment, Decimal(100000), issued_at="2026-12-05T10:00:00+00:00")
    assert "result" not in again


async def test_only_a_payout_in_review_is_resolved(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    await refund(client, installed, payment, Decimal(1000))
    [payout] = await all_payouts(services)

    with pytest.raises(payout_resolve.ResolveError, match="only a payout in needs_review"):
        await payout_resolve.resolve(services, payout.id, paid_out=False, by="x", note="y")
    with pytest.raises(payout_resolve.ResolveError, match="--by"):
        await payout_resolve.resolve(services, payout.id, paid_out=False, by=" ", note="y")


async def test_payouts_in_review_and_their_outcomes_are_in_the_metrics(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    before = value(await scrape(client), "saleor_lengo_payouts_total", outcome="needs_review")
    payout_id = await held_payout(client, services, installed, lengo, clock)

    held = await scrape(client)
    assert value(held, "saleor_lengo_payouts", state="needs_review") == 1
    assert value(held, "saleor_lengo_payouts_total", outcome="needs_review") == before + 1

    await payout_resolve.resolve(services, payout_id, paid_out=True, by="x", note="y")
    assert value(await scrape(client), "saleor_lengo_payouts", state="needs_review") == 0
