"""Outbox rows and Saleor reports, with payments paid the way a Lengo status pays them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import outbox
from saleor_lengo.lengo.client import PaymentStatus
from saleor_lengo.flows.lengo_status import apply_status
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.fakes.factories import MadePayment, make_payment
from tests.fakes.saleor import FakeSaleor


async def lengo_says(services: Services, made: MadePayment, status: str, amount: Decimal | None = None) -> None:
    """Apply a Lengo status as the callback or the reconciler would: the outbox row is committed with it."""
    await apply_status(
        services,
        made.id,
        PaymentStatus(status=status, pay_id=made.pay_id, amount=amount or made.amount, date=None, gateway="Orange Money"),
        source="test",
    )


async def paid_payment(
    services: Services, fake: FakeSaleor, lengo: LengoState, config: Configuration, **kwargs: Any
) -> MadePayment:
    made = await make_payment(services, fake, lengo, config, **kwargs)
    await lengo_says(services, made, "SUCCESS")
    return made


async def rows(services: Services, payment_id: str | None = None) -> list[Any]:
    query = select(outbox).order_by(outbox.c.id)
    if payment_id is not None:
        query = query.where(outbox.c.payment_id == payment_id)
    async with services.db.read() as conn:
        return list((await conn.execute(query)).all())


def later(services: Services, seconds: float) -> None:
    t = services.clock() + seconds
    services.clock = lambda: t


def report_calls(fake: FakeSaleor) -> int:
    return sum(1 for c in fake.graphql_calls if "transactionEventReport" in (c["query"] or ""))
