"""A payment put straight into the database, with a known callback token.

For the callback and outbox tests: the row looks like what the checkout
leaves behind (`action_required`, a pay_id that exists in the fake Lengo
with this payment's callback URL), without going through the initialize
webhook. `with_pay_id=False` leaves it as a create whose answer has not
been stored yet (`creating`, no pay_id), while Lengo already knows it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from uuid import uuid4

from saleor_lengo.saleor import installations
from saleor_lengo.configurations import Configuration
from saleor_lengo.crypto import token_digest
from saleor_lengo.db.schema import payments
from saleor_lengo.payments import store
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState, SimPayment, random_pay_id
from tests.fakes.payloads import new_transaction_id
from tests.fakes.saleor import FakeSaleor
from tests.fakes.known_secrets import remember


@dataclass(frozen=True)
class MadePayment:
    id: str
    transaction_id: str
    pay_id: str  # Lengo's, whether or not the row holds it yet
    token: str
    callback_url: str
    amount: Decimal


async def make_payment(
    services: Services,
    fake_saleor: FakeSaleor,
    lengo: LengoState,
    config: Configuration,
    *,
    amount: Decimal = Decimal("150000"),
    currency: str = "GNF",
    with_pay_id: bool = True,
    open_in_saleor: bool = True,
    pay_id: str | None = None,
) -> MadePayment:
    inst = await installations.find(services.db, fake_saleor.api_url)
    assert inst is not None, "install the app first (the `installed` fixture)"
    token = secrets.token_urlsafe(32)
    remember(token)
    callback_url = services.settings.url(f"/api/lengo/callback/{token}")
    pay_id = pay_id or random_pay_id()
    lengo.payments[pay_id] = SimPayment(
        pay_id=pay_id, website_id=config.website_id, amount=amount, currency=currency, return_url=None,
        callback_url=callback_url, status="INITIATED", gateway=None, account=None, created_at=lengo.now(),
    )
    now = services.clock()
    payment_id = uuid4().hex
    tx = new_transaction_id()
    settings = services.settings
    async with services.db.write() as conn:
        await conn.execute(
            payments.insert().values(
                id=payment_id, installation_id=inst.id, configuration_id=config.id, saleor_transaction_id=tx,
                callback_token_digest=token_digest(token),
                state=(State.ACTION_REQUIRED if with_pay_id else State.CREATING).value,
                pay_id=pay_id if with_pay_id else None,
                payment_url=f"https://payment.lengo.test/{pay_id}" if with_pay_id else None,
                amount=format(amount, "f"), currency=currency, environment=config.environment,
                channel_slug="channel-gnf", created_at=now, updated_at=now,
                expires_at=now + settings.payment_ttl_seconds,
                watch_until=now + settings.payment_ttl_seconds + settings.payment_watch_seconds,
                check_attempts=0,
            )
        )
    if open_in_saleor:
        fake_saleor.open_transaction(tx)
    return MadePayment(payment_id, tx, pay_id, token, callback_url, amount)


async def store_pay_id(services: Services, made: MadePayment) -> Payment:
    """What the checkout does when Lengo's create answer comes: pay_id stored, action_required."""
    async with services.db.write() as conn:
        await store.update_fields(
            conn, made.id, pay_id=made.pay_id, payment_url=f"https://payment.lengo.test/{made.pay_id}",
            state=State.ACTION_REQUIRED.value, updated_at=services.clock(),
        )
        payment = await store.get(conn, made.id)
    assert payment is not None
    return payment


async def get_payment(services: Services, payment_id: str) -> Payment:
    async with services.db.read() as conn:
        payment = await store.get(conn, payment_id)
    assert payment is not None
    return payment
