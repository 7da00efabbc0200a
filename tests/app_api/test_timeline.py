"""A payment's timeline: outcomes a merchant reads, every technical step behind them, in true order."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import update

from saleor_lengo.db.schema import callbacks, payouts
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import configure_channel
from tests.fakes.saleor import FakeSaleor
from tests.faults.ledger import Clock
from tests.helpers.payouts import PAYER, payable_payment, payouts_on, refund
from tests.helpers.app_api import Api, installation
from tests.helpers.story import PHONE, declined_payment, paid_payment

QUERY = """query($id: ID!) { payment(id: $id) { state refundStatus gateway timeline {
    seq kind milestone at operation httpStatus outcome status amount currency gateway source phone
    fromState toState eventType outboxState detail } } }"""

T0 = datetime(2025, 4, 1, 9, 30, tzinfo=UTC).timestamp()


async def _ids(services: Services, installed: FakeSaleor) -> tuple[int, int]:
    config = await configure_channel(services, installed)
    return (await installation(services, installed)).id, config.id


async def _timeline(api: Api, pid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    payment = (await api.ok(QUERY, {"id": pid}))["payment"]
    return payment, payment["timeline"]


async def test_a_paid_payment_reads_as_its_outcomes_with_every_step_behind_them(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    pid = await paid_payment(services, *await _ids(services, installed), T0)
    _payment, timeline = await _timeline(api, pid)
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert [(e["kind"], e["milestone"]) for e in timeline] == [
        ("CREATED", "CREATED"),
        ("LENGO_REQUEST", None),
        ("TRANSITION", "WAITING"),
        ("CALLBACK", None),
        ("STATUS_CHECK", None),
        ("TRANSITION", "PAID"),
        ("EVENT", "REPORTED"),
    ]
    paid = timeline[5]
    assert (paid["amount"], paid["currency"], paid["gateway"]) == ("176500", "GNF", "Orange Money")
    assert timeline[6]["eventType"] == "CHARGE_SUCCESS" and timeline[6]["outboxState"] == "delivered"
    assert timeline[3]["phone"] == "••••7845" and PHONE not in api.answers[-1]


async def test_a_status_check_comes_after_the_callback_that_caused_it_within_the_same_second(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    pid = await paid_payment(services, *await _ids(services, installed), T0)
    _payment, timeline = await _timeline(api, pid)
    callback, check = (next(e for e in timeline if e["kind"] == kind) for kind in ("CALLBACK", "STATUS_CHECK"))
    assert callback["at"][:19] == check["at"][:19]  # the same second
    assert callback["seq"] < check["seq"]
    assert check["source"] == "callback"


async def test_a_callback_after_the_status_check_confirmed_the_payment_comes_after_it_as_a_duplicate(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    pid = await paid_payment(services, *await _ids(services, installed), T0, check_first=True)
    _payment, timeline = await _timeline(api, pid)
    kinds = [e["kind"] for e in timeline]
    check, callback = kinds.index("STATUS_CHECK"), kinds.index("CALLBACK")
    assert timeline[check]["at"][:19] == timeline[callback]["at"][:19]
    assert check < kinds.index("EVENT") < callback
    assert timeline[callback]["outcome"] == "duplicate"
    assert timeline[callback]["milestone"] is None  # a late copy: no outcome of its own, no error


async def test_refunds_by_hand_are_outcomes_and_the_payment_reads_partly_then_fully_refunded(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    inst_id, config_id = await _ids(services, installed)
    partly = await paid_payment(services, inst_id, config_id, T0, amount="250000", refunds=("50000",))
    fully = await paid_payment(services, inst_id, config_id, T0, amount="250000", refunds=("50000", "200000"))
    payment, timeline = await _timeline(api, partly)
    assert payment["state"] == "SUCCEEDED" and payment["refundStatus"] == "PARTLY_REFUNDED"
    assert [(e["milestone"], e["amount"]) for e in timeline if e["milestone"] == "REFUNDED"] == [("REFUNDED", "50000")]
    payment, timeline = await _timeline(api, fully)
    assert payment["refundStatus"] == "REFUNDED"
    assert [e["amount"] for e in timeline if e["milestone"] == "REFUNDED"] == ["50000", "200000"]
    assert timeline[-1]["milestone"] == "REFUNDED"


async def test_a_declined_payment_names_no_payment_method_anywhere(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    pid = await declined_payment(services, *await _ids(services, installed), T0)
    payment, timeline = await _timeline(api, pid)
    assert payment["state"] == "FAILED" and payment["gateway"] is None
    assert [e["milestone"] for e in timeline if e["milestone"]] == ["CREATED", "WAITING", "FAILED", "REPORTED"]
    assert all(e["gateway"] is None for e in timeline)
    assert next(e for e in timeline if e["kind"] == "STATUS_CHECK")["status"] == "FAILED"


async def test_rows_of_one_table_keep_their_sequence_order_even_when_a_clock_stamped_the_later_one_earlier(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    inst_id, config_id = await _ids(services, installed)
    pid = await paid_payment(services, inst_id, config_id, T0)
    async with services.db.write() as conn:
        # Another replica, its clock 0.3 s behind, records Lengo's second copy of the callback.
        await conn.execute(callbacks.insert().values(
            payment_id=pid, received_at=T0 + 60.1, pay_id="p", status="SUCCESS", amount="176500",
            client_enc=services.cipher.encrypt(PHONE), client_masked="••••7845", outcome="duplicate",
        ))
    _payment, timeline = await _timeline(api, pid)
    heard = [e["outcome"] for e in timeline if e["kind"] == "CALLBACK"]
    assert heard == ["confirmed", "duplicate"]


async def test_a_refund_payout_shows_where_it_stands_with_the_payer_masked(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    await payouts_on(services, mode="approval")
    await refund(client, installed, payment, Decimal("70000.0"))
    api = Api(client, installed)

    _payment, timeline = await _timeline(api, payment.id)
    [payout] = [e for e in timeline if e["kind"] == "PAYOUT"]
    assert (payout["milestone"], payout["status"], payout["amount"], payout["currency"], payout["phone"]) == (
        "PAYOUT_AWAITING_APPROVAL", "awaiting_approval", "70000", "GNF", "••••7845")
    asked = next(e for e in timeline if e["kind"] == "ACTION_REQUEST")
    assert asked["seq"] < payout["seq"]  # Saleor's request, then the payout it made
    assert PAYER not in json.dumps(api.answers[-1])

    async with services.db.write() as conn:
        await conn.execute(update(payouts).values(state="needs_review", updated_at=clock() + 5))
    _payment, timeline = await _timeline(api, payment.id)
    assert [e["milestone"] for e in timeline if e["kind"] == "PAYOUT"] == ["PAYOUT_NEEDS_REVIEW"]
    async with services.db.write() as conn:
        await conn.execute(update(payouts).values(state="resolved_not_paid_out", updated_at=clock() + 9))
    _payment, timeline = await _timeline(api, payment.id)
    # Settled: the refund's event for Saleor tells the outcome; the payout stays in the engineer's trail.
    assert [(e["milestone"], e["status"]) for e in timeline if e["kind"] == "PAYOUT"] == [(None, "resolved_not_paid_out")]
