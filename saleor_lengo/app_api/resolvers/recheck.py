"""Staff asks Lengo for a payment's status now; the answer goes through `apply_status` like any other."""

from __future__ import annotations

from saleor_lengo import configurations
from saleor_lengo.app_api.context import ApiContext, ApiError
from saleor_lengo.app_api.resolvers.payments import get_payment
from saleor_lengo.crypto import DecryptionError
from saleor_lengo.lengo.errors import LengoError
from saleor_lengo.flows.lengo_status import apply_status, record_check_error
from saleor_lengo.flows.lengo_access import lengo_client
from saleor_lengo.payments.model import Payment

SOURCE = "manual"


async def recheck_payment(ctx: ApiContext, payment_id: str) -> Payment:
    payment = await get_payment(ctx, payment_id)
    if not payment.pay_id:
        raise ApiError("Lengo never answered with a payment id for this payment: there is nothing to check.", "NO_PAY_ID")
    async with ctx.deps.db.read() as conn:
        config = await configurations.get_by_id(conn, payment.configuration_id)
    if config is None:
        raise ApiError("The configuration of this payment is gone.", "NOT_FOUND")
    try:
        client = lengo_client(ctx.deps, config, payment.id)
    except DecryptionError as exc:
        raise ApiError(str(exc), "UNAVAILABLE") from None
    try:
        status = await client.payment_status(payment.pay_id)
    except LengoError as exc:
        await record_check_error(ctx.deps, payment.id, source=SOURCE, error=exc.safe_message)
        raise ApiError(f"Lengo could not be asked: {exc.safe_message}.", "LENGO_ERROR") from None
    outcome = await apply_status(ctx.deps, payment.id, status, source=SOURCE)
    if outcome.outbox_id:
        ctx.deps.wakeups.outbox.set()
    return outcome.payment
