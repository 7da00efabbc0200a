"""Shapes of payment that the action-request, reconciler and history tests need.

Built on `tests.fakes.factories.make_payment` (a row put straight into the
database, with a real pay_id in the fake Lengo); this adds what those tests
look at: Lengo's status, and the CHARGE_ACTION_REQUIRED event the fake Saleor
keeps from the initialize answer. Creating one calls neither Lengo nor
Saleor, so `lengo.calls` starts empty.
"""

from __future__ import annotations

from decimal import Decimal

from saleor_lengo.saleor import installations
from saleor_lengo.configurations import get_by_name
from saleor_lengo.lengo.client import PaymentStatus
from saleor_lengo.flows import lengo_status
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import configure_channel
from tests.fakes.factories import get_payment, make_payment
from tests.fakes.saleor import FakeSaleor


async def open_payment(
    services: Services,
    fake_saleor: FakeSaleor,
    lengo: LengoState,
    *,
    amount: Decimal = Decimal("176500"),
    currency: str = "GNF",
    channel: str = "channel-gnf",
    lengo_status: str = "INITIATED",
) -> Payment:
    """An action_required payment, created now (by `services.clock`), unpaid on Lengo."""
    inst = await installations.find(services.db, fake_saleor.api_url)
    assert inst is not None, "install the app first (the `installed` fixture)"
    async with services.db.read() as conn:
        config = await get_by_name(conn, inst.id, channel)
    if config is None:
        config = await configure_channel(services, fake_saleor, channel=channel, currencies=(currency,))
    made = await make_payment(services, fake_saleor, lengo, config, amount=amount, currency=currency)
    lengo.payments[made.pay_id].status = lengo_status
    fake_saleor.record_sync_answer(
        made.transaction_id,
        {"result": "CHARGE_ACTION_REQUIRED", "pspReference": made.pay_id, "amount": amount, "actions": ["CANCEL"]},
    )
    return await get_payment(services, made.id)


async def paid_payment(services: Services, fake_saleor: FakeSaleor, lengo: LengoState, **kwargs: object) -> Payment:
    """A payment the shopper paid and Saleor knows charged (its process call answered CHARGE_SUCCESS)."""
    payment = await open_payment(services, fake_saleor, lengo, **kwargs)  # type: ignore[arg-type]
    assert payment.pay_id is not None
    sim = lengo.pay(payment.pay_id)
    status = PaymentStatus(sim.status, sim.pay_id, sim.amount, None, sim.gateway, account=sim.account)
    outcome = await lengo_status.apply_status(services, payment.id, status, source="process")
    assert outcome.payment.state == State.SUCCEEDED
    fake_saleor.record_sync_answer(
        payment.saleor_transaction_id,
        {"result": "CHARGE_SUCCESS", "pspReference": payment.pay_id, "amount": outcome.payment.charged_amount},
    )
    return outcome.payment
