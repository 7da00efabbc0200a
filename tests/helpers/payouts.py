"""Refund payouts in tests: payouts switched on, a payment they can refund, a refund asked as Saleor asks it, the worker run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select, update

from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import configurations, payouts
from saleor_lengo.flows import payout_worker
from saleor_lengo.payments.model import Payment
from saleor_lengo.payouts.model import Payout
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import WEBSITE_ID, send_webhook
from tests.fakes.payloads import action_request
from tests.fakes.payment_rows import paid_payment
from tests.fakes.saleor import FakeSaleor
from tests.reference import check_answer

EVENT = "TRANSACTION_REFUND_REQUESTED"
PAYER = "624897845"


async def payouts_on(services: Services, mode: str = "automatic", limit: str = "10000000") -> None:
    """Every configuration pays refunds out (what `configure --payouts … --payout-daily-limit …` stores)."""
    async with services.db.write() as conn:
        await conn.execute(update(configurations).values(payout_mode=mode, payout_daily_limit=limit))


async def payable_payment(
    services: Services, fake_saleor: FakeSaleor, lengo: LengoState, *, amount: Decimal = Decimal("176500"),
    funds: Decimal = Decimal("1000000"),
) -> Payment:
    """Paid with Orange Money by PAYER, confirmed by Lengo's status; the merchant's balance holds `funds` more."""
    lengo.funds[WEBSITE_ID] = funds
    return await paid_payment(services, fake_saleor, lengo, amount=amount)


async def refund(
    client: httpx.AsyncClient, fake_saleor: FakeSaleor, payment: Payment, amount: Decimal,
    issued_at: str = "2026-12-05T08:00:00.000000+00:00",
) -> dict[str, Any]:
    """A refund request as Saleor sends it; Saleor keeps its answer as an event (REFUND_REQUEST for an async one)."""
    body = action_request(
        EVENT, fake_saleor.app_id, payment.saleor_transaction_id, psp=payment.pay_id or "", amount=amount,
        issued_at=issued_at, charged=fake_saleor.charged_amount(payment.saleor_transaction_id),
    )
    response = await send_webhook(client, fake_saleor, EVENT, body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    check_answer("TransactionRefundRequested", answer)
    fake_saleor.record_sync_answer(payment.saleor_transaction_id, answer, requested=amount)
    return answer


async def all_payouts(services: Services) -> list[Payout]:
    async with services.db.read() as conn:
        return [Payout.from_row(r) for r in (await conn.execute(select(payouts).order_by(payouts.c.created_at))).all()]


async def work_payouts(services: Services, clock: Any, *, rounds: int = 20, step: float = 60.0) -> None:
    """Run the payout worker, moving the clock on between passes, until nothing is due for `rounds` passes."""
    for _ in range(rounds):
        await payout_worker.run_once(services)
        clock.advance(step)
