"""A payment's recorded history as the app would leave it, row by row, for the timeline's tests and screens.

Times are exact (the app's clock has sub-second precision): two steps within
one second are what the timeline must still put in their true order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from saleor_lengo.db.schema import callbacks, lengo_requests, outbox, payment_transitions, payments, payouts, status_checks
from saleor_lengo.services import Services
from tests.fakes.dashboard import insert_payment

PHONE = "624897845"
MASKED = "••••7845"


async def _created(services: Services, pid: str, pay_id: str, config_id: int, t0: float) -> None:
    async with services.db.write() as conn:
        await conn.execute(lengo_requests.insert().values(
            payment_id=pid, configuration_id=config_id, operation="create_payment", started_at=t0 + 0.2,
            duration_ms=240.0, http_status=200, outcome="ok", detail=f"pay_id {pay_id}",
        ))
        await conn.execute(payment_transitions.insert().values(
            payment_id=pid, at=t0 + 0.5, from_state="creating", to_state="action_required",
            reason=f"Lengo payment created (pay_id {pay_id}).",
        ))


async def _callback(services: Services, pid: str, pay_id: str, at: float, status: str, amount: str, outcome: str) -> None:
    async with services.db.write() as conn:
        await conn.execute(callbacks.insert().values(
            payment_id=pid, received_at=at, pay_id=pay_id, status=status, amount=amount,
            message="Transaction Successful" if status == "SUCCESS" else "Transaction Failed",
            client_enc=services.cipher.encrypt(PHONE), client_masked=MASKED, outcome=outcome,
        ))


async def _checked(
    services: Services, pid: str, inst_id: int, at: float, *, status: str, amount: str, source: str, to_state: str,
    event_type: str, reason: str,
) -> None:
    # One clock reading for the check, the state change and the event, as apply_status does.
    async with services.db.write() as conn:
        await conn.execute(status_checks.insert().values(
            payment_id=pid, checked_at=at, source=source, lengo_status=status, amount=amount, gateway="Orange Money",
        ))
        await conn.execute(payment_transitions.insert().values(
            payment_id=pid, at=at, from_state="action_required", to_state=to_state, reason=reason,
        ))
        await conn.execute(outbox.insert().values(
            payment_id=pid, installation_id=inst_id, saleor_transaction_id="tx", event_type=event_type,
            psp_reference="psp-" + pid, amount=amount, currency="GNF", message=reason, available_actions="[]",
            event_time=at, state="delivered", attempts=1, next_attempt_at=at, created_at=at, delivered_at=at + 0.4,
        ))


async def paid_payment(
    services: Services, inst_id: int, config_id: int, t0: float, *, amount: str = "176500",
    check_first: bool = False, refunds: tuple[str, ...] = (), **values: Any,
) -> str:
    """A payment Lengo's callback made paid (or, `check_first`, that the shopper's return confirmed
    before the callback came, a late copy), reported to Saleor, then refunded by hand `refunds`."""
    pid = await insert_payment(
        services.db, installation_id=inst_id, configuration_id=config_id, now=t0, amount=amount,
        confirmed_amount=amount, **values,
    )
    async with services.db.read() as conn:
        pay_id = str((await conn.execute(payments.select().where(payments.c.id == pid))).one().pay_id)
    await _created(services, pid, pay_id, config_id, t0)
    paid = dict(status="SUCCESS", amount=amount, to_state="succeeded", event_type="CHARGE_SUCCESS")
    if check_first:
        await _checked(services, pid, inst_id, t0 + 60.1, source="process", reason="Lengo status SUCCESS (process)", **paid)
        await _callback(services, pid, pay_id, t0 + 60.7, "SUCCESS", amount, "duplicate")
    else:
        await _callback(services, pid, pay_id, t0 + 60.2, "SUCCESS", amount, "confirmed")
        await _checked(services, pid, inst_id, t0 + 60.6, source="callback", reason="Lengo status SUCCESS (callback)", **paid)
    refunded = Decimal(0)
    for n, part in enumerate(refunds, start=1):
        at = t0 + 3600 * n
        refunded += Decimal(part)
        async with services.db.write() as conn:
            await conn.execute(outbox.insert().values(
                payment_id=pid, installation_id=inst_id, saleor_transaction_id="tx", event_type="REFUND_SUCCESS",
                psp_reference=f"{pay_id}:manual-refund:{n}", amount=part, currency="GNF",
                message=f"Refund made by hand outside Lengo Pay: {part} GNF.", available_actions="[]",
                event_time=at, state="delivered", attempts=1, next_attempt_at=at, created_at=at, delivered_at=at + 1,
            ))
            await conn.execute(payments.update().where(payments.c.id == pid).values(refunded_amount=format(refunded, "f")))
    return pid


async def declined_payment(services: Services, inst_id: int, config_id: int, t0: float, **values: Any) -> str:
    """A payment the shopper's mobile money refused; Lengo still names the means it was tried with."""
    pid = await insert_payment(
        services.db, installation_id=inst_id, configuration_id=config_id, now=t0, state="failed",
        lengo_status="FAILED", failure_reason="Payment failed on Lengo Pay.", gateway="Orange Money", **values,
    )
    async with services.db.read() as conn:
        pay_id = str((await conn.execute(payments.select().where(payments.c.id == pid))).one().pay_id)
    await _created(services, pid, pay_id, config_id, t0)
    await _callback(services, pid, pay_id, t0 + 45.3, "FAILED", "176500", "confirmed")
    await _checked(
        services, pid, inst_id, t0 + 45.8, status="FAILED", amount="176500", source="callback", to_state="failed",
        event_type="CHARGE_FAILURE", reason="Payment failed on Lengo Pay.",
    )
    return pid


async def payout_for(services: Services, pid: str, inst_id: int, config_id: int, at: float, *, amount: str,
                     state: str, reason: str | None = None) -> str:
    """A refund payout to the payer's wallet, as the payout flow leaves its row in `state`."""
    payout_id = f"po_{pid[:8]}_{int(at)}"
    async with services.db.write() as conn:
        await conn.execute(payouts.insert().values(
            id=payout_id, payment_id=pid, installation_id=inst_id, configuration_id=config_id,
            saleor_transaction_id="tx", psp_reference=f"payout:{payout_id}", idempotency_key=payout_id.ljust(64, "0"),
            amount=amount, currency="GNF", type_account="lp-om-gn", account_enc=services.cipher.encrypt(PHONE),
            account_masked=MASKED, account_digest="d" * 64, state=state, reason=reason, created_at=at, updated_at=at + 2,
        ))
    return payout_id
