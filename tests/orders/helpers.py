"""Order links in tests: a paid payment whose charge Saleor got, and the loop run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from saleor_lengo.db.schema import payment_orders
from saleor_lengo.flows import order_links
from saleor_lengo.outbox import relay
from saleor_lengo.payments.model import Payment
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.fakes.payment_rows import paid_payment
from tests.fakes.known_secrets import remember
from tests.fakes.saleor import FakeSaleor

EMAIL = "Amadou.Diallo@Example.com"
# The redaction guard fails the run should the e-mail ever be logged.
remember(EMAIL, EMAIL.lower())


async def charged(services: Services, fake: FakeSaleor, lengo: LengoState) -> Payment:
    """Paid, and its CHARGE_SUCCESS delivered to Saleor by the outbox."""
    payment = await paid_payment(services, fake, lengo)
    await relay.run_once(services)
    return payment


def owner_queries(fake: FakeSaleor) -> list[dict[str, Any]]:
    return [c for c in fake.graphql_calls if "TransactionOwner" in (c["query"] or "")]


async def link_of(services: Services, payment_id: str) -> Any:
    async with services.db.read() as conn:
        return (await conn.execute(select(payment_orders).where(payment_orders.c.payment_id == payment_id))).first()


async def linked(services: Services, fake: FakeSaleor, lengo: LengoState, *, number: str = "1042",
                 email: str | None = EMAIL) -> Payment:
    """A charged payment whose order Saleor has, learnt by the loop."""
    payment = await charged(services, fake, lengo)
    fake.set_owner(payment.saleor_transaction_id, order=("T3JkZXI6" + number, number, email))
    await order_links.run_once(services)
    return payment
