"""Before any money moves: does Saleor hold a refund request with this payout's pspReference?

Saleor records REFUND_REQUEST with P only once it received the async
answer. If the answer was lost (Saleor timed out, the app answered too late)
Saleor shows a failure instead, and staff may already have refunded another
way: then nothing is sent.
"""

from __future__ import annotations

from typing import Literal, Protocol

from saleor_lengo.crypto import DecryptionError
from saleor_lengo.logs import get_logger
from saleor_lengo.payouts.model import Payout
from saleor_lengo.saleor import installations
from saleor_lengo.saleor.client import SaleorError
from saleor_lengo.needs import HasDb, HasCipher, HasSaleor


class Needs(HasDb, HasCipher, HasSaleor, Protocol):
    """What asking Saleor about a refund request uses."""


log = get_logger(__name__)

DOCUMENT = "queries/transaction-events.graphql"

Seen = Literal["requested", "failed", "not_yet", "unreachable"]


async def refund_request_seen(deps: Needs, payout: Payout) -> Seen:
    async with deps.db.read() as conn:
        inst = await installations.get_by_id(conn, payout.installation_id)
    if inst is None or inst.removed_at is not None:
        return "unreachable"
    try:
        token = inst.token(deps.cipher)
        data = await deps.saleor.graphql(
            inst.saleor_api_url, token, DOCUMENT, {"id": payout.saleor_transaction_id}
        )
    except (SaleorError, DecryptionError) as exc:
        log.warning("payout_saleor_check_failed", payout_id=payout.id, error=str(exc)[:200])
        return "unreachable"
    transaction = data.get("transaction")
    events = transaction.get("events") if isinstance(transaction, dict) else None
    if not isinstance(events, list):
        return "not_yet"
    mine = {e.get("type") for e in events if isinstance(e, dict) and e.get("pspReference") == payout.psp_reference}
    if "REFUND_FAILURE" in mine or "REFUND_SUCCESS" in mine:
        return "failed"
    if "REFUND_REQUEST" in mine:
        return "requested"
    return "not_yet"
