"""Apply what Lengo's status endpoint reports: the only thing that changes a payment.

Callbacks, the storefront's process call, the reconciler and staff re-checks
all end here, so a status is interpreted the same way whoever asked.
"""

from __future__ import annotations

from saleor_lengo.lengo import vocabulary
from saleor_lengo.lengo.client import PaymentStatus
from saleor_lengo.logs import get_logger
from saleor_lengo.payments import store
from saleor_lengo.payments.model import State
from saleor_lengo.payments.state_machine import Outcome, transition
from saleor_lengo.services import Services

log = get_logger(__name__)


async def apply_status(services: Services, payment_id: str, status: PaymentStatus, *, source: str) -> Outcome:
    now = services.clock()
    async with services.db.write() as conn:
        payment = await store.get(conn, payment_id, lock=True)
        if payment is None:
            raise LookupError(payment_id)
        amount = format(status.amount, "f") if status.amount is not None else None
        await store.record_status_check(
            conn, payment_id, at=now, source=source, lengo_status=status.status, amount=amount, gateway=status.gateway
        )
        await store.update_fields(
            conn,
            payment_id,
            lengo_status=status.status,
            last_status_at=now,
            gateway=status.gateway or payment.gateway,
            updated_at=now,
        )
        if status.status.upper() not in vocabulary.KNOWN_STATUSES:
            log.warning("lengo_status_unknown", payment_id=payment_id, status=status.status[:64])
        kind = vocabulary.classify(status.status)
        payment = await store.get(conn, payment_id)
        assert payment is not None
        if kind == "paid":
            return await transition(
                conn,
                payment,
                State.SUCCEEDED,
                reason=f"Lengo status {status.status} ({source})",
                now=now,
                confirmed_amount=status.amount if status.amount is not None else payment.amount,
                gateway=status.gateway,
                lengo_status=status.status,
            )
        if kind == "failed":
            if payment.state != State.ACTION_REQUIRED:
                return Outcome(payment, False)
            return await transition(
                conn, payment, State.FAILED, reason="Payment failed on Lengo Pay.", now=now, lengo_status=status.status
            )
        return Outcome(payment, False)


async def record_check_error(services: Services, payment_id: str, *, source: str, error: str) -> None:
    async with services.db.write() as conn:
        await store.record_status_check(conn, payment_id, at=services.clock(), source=source, error=error[:500])
