"""`saleor-lengo payouts list|show|resolve`, run as the real command: the payer's number never in clear."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.faults.ledger import Clock
from tests.fakes.saleor import FakeSaleor
from tests.helpers.cli import saleor_lengo
from tests.helpers.payouts import PAYER, all_payouts, payable_payment, payouts_on, refund, work_payouts

pytestmark = [pytest.mark.usefixtures("installed"), pytest.mark.slow]


async def test_payouts_list_show_and_resolve(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    await refund(client, installed, payment, Decimal(40000))
    installed.transactions[payment.saleor_transaction_id][-1].type = "REFUND_FAILURE"
    await work_payouts(services, clock, rounds=2)
    [payout] = await all_payouts(services)

    listed = await saleor_lengo(services, "payouts", "list", "--status", "needs_review", "--json")
    shown = await saleor_lengo(services, "payouts", "show", payout.id)
    by_payment = await saleor_lengo(services, "payouts", "list", "--payment", payment.id)
    unsaid = await saleor_lengo(services, "payouts", "resolve", payout.id, "--paid-out", "--note", "x")
    resolved = await saleor_lengo(
        services, "payouts", "resolve", payout.id, "--not-paid-out", "--by", "Ibrahima", "--note", "nothing on the portal"
    )

    assert listed.code == 0 and [p["id"] for p in json.loads(listed.out)] == [payout.id]
    assert json.loads(listed.out)[0]["account"] == "••••7845"
    assert shown.code == 0 and "needs_review" in shown.out and "••••7845" in shown.out
    assert payout.id in by_payment.out
    assert unsaid.code == 2  # --by is required
    assert resolved.code == 0 and "resolved as not paid out" in resolved.out
    assert all(PAYER not in run.out + run.err for run in (listed, shown, by_payment, resolved))
    [after] = await all_payouts(services)
    assert after.state.value == "resolved_not_paid_out" and after.resolved_by == "Ibrahima"
