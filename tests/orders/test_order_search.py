"""The app API finds a payment by its order, checkout or customer e-mail, and shows the e-mail masked only."""

from __future__ import annotations

import pytest

from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.faults.ledger import Clock
from tests.fakes.saleor import FakeSaleor
from tests.helpers.app_api import Api
from tests.orders.helpers import EMAIL, charged, linked

pytestmark = pytest.mark.usefixtures("installed")

PAGE = "query($filter: PaymentFilter) { payments(filter: $filter, first: 10) { items { id payId " \
       "order { orderId orderNumber checkoutId customerEmail settled } } } }"


async def found(api: Api, term: str) -> list[str]:
    items = (await api.ok(PAGE, {"filter": {"search": term}}))["payments"]["items"]
    return [p["id"] for p in items]


async def test_a_payment_is_found_by_its_order_number_order_id_transaction_pay_id_and_email(
    api: Api, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    other = await linked(services, installed, lengo, number="1041", email="someone@else.example")
    payment = await linked(services, installed, lengo, number="1042")

    for term in ("1042", "#1042", " # 1042 ", "T3JkZXI61042", payment.saleor_transaction_id, payment.pay_id or "",
                 EMAIL, EMAIL.upper(), f"  {EMAIL.lower()} "):
        assert await found(api, term) == [payment.id], term
    assert await found(api, "1041") == [other.id]
    for term in ("104", "10421", "amadou.diallo", "@example.com", "mamadou.diallo@example.com", "x" * 400):
        assert await found(api, term) == [], term


async def test_a_payment_waiting_for_its_order_is_found_by_its_checkout(
    api: Api, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    from saleor_lengo.flows import order_links

    payment = await charged(services, installed, lengo)
    installed.set_owner(payment.saleor_transaction_id, checkout=("Q2hlY2tvdXQ6Yw==", None))
    await order_links.run_once(services)

    assert await found(api, "Q2hlY2tvdXQ6Yw==") == [payment.id]
    [item] = (await api.ok(PAGE, {"filter": {"search": "Q2hlY2tvdXQ6Yw=="}}))["payments"]["items"]
    assert item["order"] == {"orderId": None, "orderNumber": None, "checkoutId": "Q2hlY2tvdXQ6Yw==",
                             "customerEmail": None, "settled": False}


async def test_the_email_is_shown_masked_and_never_in_clear(
    api: Api, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await linked(services, installed, lengo)

    one = await api.ok("query($id: ID!) { payment(id: $id) { order { orderId orderNumber customerEmail } } }",
                       {"id": payment.id})
    assert one["payment"]["order"] == {"orderId": "T3JkZXI61042", "orderNumber": "1042", "customerEmail": "a•••@example.com"}
    await found(api, EMAIL)
    assert not any("amadou" in answer.lower() for answer in api.answers)


async def test_before_the_charge_reached_saleor_a_payment_has_no_order(
    api: Api, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    from tests.fakes.payment_rows import paid_payment

    payment = await paid_payment(services, installed, lengo)
    one = await api.ok("query($id: ID!) { payment(id: $id) { order { orderNumber } } }", {"id": payment.id})
    assert one["payment"]["order"] is None


async def test_once_the_charge_is_delivered_the_order_number_appears_in_the_list(
    api: Api, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    from saleor_lengo.flows import order_links
    from saleor_lengo.outbox import relay
    from tests.fakes.payment_rows import paid_payment

    payment = await paid_payment(services, installed, lengo)
    installed.set_owner(payment.saleor_transaction_id, order=("T3JkZXI6NTU=", "55", EMAIL))
    list_orders = "{ payments(first: 10) { items { id order { orderNumber } } } }"
    await order_links.run_once(services)
    assert (await api.ok(list_orders))["payments"]["items"] == [{"id": payment.id, "order": None}]

    await relay.run_once(services)  # the CHARGE_SUCCESS reaches Saleor
    await order_links.run_once(services)

    assert (await api.ok(list_orders))["payments"]["items"] == [{"id": payment.id, "order": {"orderNumber": "55"}}]
