"""TRANSACTION_PROCESS_SESSION: where does the shopper's payment stand?

Lengo's status endpoint is the source of truth; what it says is applied
through `lengo_status.apply_status`, like a callback or the reconciler would, and
the answer is rendered from the stored payment. Storefronts poll this while
the shopper waits, and Saleor keeps every CHARGE_ACTION_REQUIRED answer as an
event, so a status fetched a few seconds ago is reused instead of asking
Lengo again. Lengo being unreachable is never a 5xx: the payment is simply
still open as far as we know.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from saleor_lengo import configurations
from saleor_lengo.saleor.installations import Installation
from saleor_lengo.lengo.errors import LengoError
from saleor_lengo.logs import get_logger
from saleor_lengo.flows import sync_responses
from saleor_lengo.flows.sync_responses import SessionAnswer
from saleor_lengo.flows.lengo_status import apply_status, record_check_error
from saleor_lengo.flows.initialize import find, render, wait_while_creating
from saleor_lengo.flows.lengo_access import lengo_client
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.saleor.payloads import Session
from saleor_lengo.saleor import messages
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasSettings, HasCipher, HasHttp, HasCache, HasMetrics
from saleor_lengo.words import Words, words


class Needs(HasDb, HasClock, HasTimer, HasSettings, HasCipher, HasHttp, HasCache, HasMetrics, Protocol):
    """What answering a process session uses."""


log = get_logger(__name__)

# The status call's share of Saleor's 20 s (retries included).
STATUS_BUDGET_SECONDS = 8.0
# A status fetched this recently is answered again without asking Lengo.
STATUS_FRESH_SECONDS = 5.0


async def execute(deps: Needs, installation: Installation, session: Session) -> SessionAnswer:
    payment = await find(deps, installation.id, session.transaction.id)
    if payment is None:
        log.warning("process_unknown_transaction")
        return sync_responses.unknown_transaction(messages.DEFAULT_LANGUAGE)
    waited = payment.state == State.CREATING
    if waited:
        # Still being created (its initialize answer is not even out): wait
        # for it, then answer without asking Lengo, whose fresh link can only
        # say INITIATED and whose call would not fit in Saleor's 20 s anymore.
        payment = await wait_while_creating(deps, payment)
    note: Words | None = None
    # A success is final (and its amount fixed), a held payment waits for staff;
    # without a pay_id there is nothing to ask.
    asking = payment.pay_id and payment.state not in (State.SUCCEEDED, State.CREATING, State.NEEDS_REVIEW, State.CLOSED)
    if asking and not waited and not _fresh(deps, payment):
        payment, note = await refresh(deps, payment)
    return await render(deps, installation, payment, note=note)


def _fresh(deps: Needs, payment: Payment) -> bool:
    if payment.last_status_at is None or not payment.lengo_status:
        return False
    return deps.clock() - payment.last_status_at < STATUS_FRESH_SECONDS


async def refresh(deps: Needs, payment: Payment) -> tuple[Payment, Words | None]:
    """Ask Lengo and apply the answer; on failure, the stored payment and a note saying why it may be stale."""
    assert payment.pay_id is not None
    async with deps.db.read() as conn:
        config = await configurations.get_by_id(conn, payment.configuration_id)
    if config is None:
        return payment, words("Its Lengo Pay configuration was deleted, so the status could not be checked.")
    try:
        client = lengo_client(deps, config, payment.id)
        # The client retries inside its budget; this bounds it whatever the transport.
        async with asyncio.timeout(STATUS_BUDGET_SECONDS + 0.5):
            status = await client.payment_status(payment.pay_id, budget=STATUS_BUDGET_SECONDS)
    except TimeoutError:
        error = f"Lengo Pay did not answer within {STATUS_BUDGET_SECONDS:g} s"
    except LengoError as exc:
        error = exc.safe_message
    except ValueError as exc:  # credentials that cannot be used (see LengoCredentials)
        error = f"configuration {config.name!r} cannot call Lengo Pay: {exc}"
    else:
        outcome = await apply_status(deps, payment.id, status, source="process")
        return outcome.payment, None
    log.warning("process_status_unavailable", payment_id=payment.id, error=error)
    await record_check_error(deps, payment.id, source="process", error=error)
    return payment, words(
        "The status could not be checked with Lengo Pay just now ({error}); this is the last known state.", error=error
    )
