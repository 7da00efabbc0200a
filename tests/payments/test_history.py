"""A payment's history keeps, beside each row's time to the second, what puts same-second rows in true order."""

from __future__ import annotations

from datetime import UTC, datetime

from saleor_lengo.payments import store
from saleor_lengo.payments.history import history
from saleor_lengo.services import Services
from tests.conftest import configure_channel
from tests.fakes.saleor import FakeSaleor
from tests.helpers.app_api import installation
from tests.helpers.story import paid_payment

T0 = datetime(2025, 4, 1, 9, 30, tzinfo=UTC).timestamp()


async def test_each_row_carries_its_exact_time_and_its_tables_sequence_id(services: Services, installed: FakeSaleor) -> None:
    config = await configure_channel(services, installed)
    inst = await installation(services, installed)
    pid = await paid_payment(services, inst.id, config.id, T0, check_first=True, refunds=("1000", "2000"))
    async with services.db.read() as conn:
        payment = await store.get(conn, pid)
        assert payment is not None
        h = await history(conn, payment)
    (check,), (callback,) = h.status_checks, h.callbacks
    # One second apart for people; 0.6 s apart, the callback last, for the timeline.
    assert check["at"] == callback["at"]
    assert (check["epoch"], callback["epoch"]) == (T0 + 60.1, T0 + 60.7)
    seqs = [e["seq"] for e in h.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert [e["type"] for e in h.events] == ["CHARGE_SUCCESS", "REFUND_SUCCESS", "REFUND_SUCCESS"]
    assert all(isinstance(r["seq"], int) for r in (*h.transitions, *h.lengo_requests, *h.status_checks, *h.callbacks))
