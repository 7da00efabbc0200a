"""The CLI and order links: `payments show` prints the order and the masked e-mail; `rotate-secrets` keeps e-mails searchable."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from saleor_lengo.commands.rotate_secrets import rotate_all
from saleor_lengo.crypto import Cipher
from saleor_lengo.db.schema import payment_orders
from saleor_lengo.flows import order_search
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import TEST_SECRET_KEY
from tests.faults.ledger import Clock
from tests.fakes.saleor import FakeSaleor
from tests.helpers.cli import saleor_lengo
from tests.orders.helpers import EMAIL, link_of, linked

pytestmark = pytest.mark.usefixtures("installed")

NEW_KEY = "the-new-secret-key-0123456789-abcdefghijklmnop"


async def test_payments_show_prints_the_order_and_the_masked_email(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await linked(services, installed, lengo, number="1042")

    text = await saleor_lengo(services, "payments", "show", payment.id)
    as_json = await saleor_lengo(services, "payments", "show", payment.id, "--json")

    assert text.code == 0, text.err
    assert "Saleor order        #1042 (T3JkZXI61042)" in text.out
    assert "customer e-mail     a•••@example.com (masked)" in text.out
    assert json.loads(as_json.out)["order"]["orderNumber"] == "1042"
    for out in (text.out, text.err, as_json.out):
        assert "amadou" not in out.lower()


async def found(services: Services, cipher: Cipher, term: str) -> list[str]:
    async with services.db.read() as conn:
        return list((await conn.execute(order_search.matching(cipher, term))).scalars())


async def test_rotating_the_key_keeps_emails_readable_and_searchable(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await linked(services, installed, lengo)
    rotating = Cipher(NEW_KEY, (TEST_SECRET_KEY,))
    # Before the command: the old key, as a fallback, still finds it.
    assert await found(services, rotating, EMAIL) == [payment.id]

    counts = await rotate_all(services.db, rotating)

    assert (counts["payment_orders.email_enc"], counts["payment_orders.email_hash"]) == (1, 1)
    new_only = Cipher(NEW_KEY)
    assert await found(services, new_only, EMAIL) == [payment.id]
    assert await found(services, Cipher(TEST_SECRET_KEY), EMAIL) == []
    link = await link_of(services, payment.id)
    assert new_only.decrypt(link.email_enc) == EMAIL.lower()
    async with services.db.read() as conn:
        assert (await conn.execute(select(payment_orders.c.email_hash))).scalar_one() == new_only.lookup_hash(EMAIL.lower())
