"""Answering Saleor's action requests (charge, refund, cancel) exactly once.

Saleor retries an action request answered with a 5xx, resending the very
same payload (PAYMENT-APPS.md §4). A request is identified by (installation,
transaction, action, `issuedAt`): the first answer is stored and every
repeat gets it back verbatim, without asking Lengo again.

Each answer carries a pspReference of its own, derived from the payment, the
action and `issuedAt` (§7): Saleor deduplicates events on (transaction,
pspReference, type), so reusing the payment's pay_id would collapse two
refund requests of different amounts into one failure, while a retry must
land on the same event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from saleor_lengo import jsonutil
from saleor_lengo.db.schema import action_answers
from saleor_lengo.logs import get_logger
from saleor_lengo.payments import store
from saleor_lengo.money import Unholdable
from saleor_lengo.payments.model import OPEN_STATES, Payment, State
from saleor_lengo.saleor import messages
from saleor_lengo.saleor.payloads import ActionRequest
from saleor_lengo.saleor.sync_answers import ACTION_RESULTS, ActionAnswer, ActionResultKind, PayoutAccepted, StoredAnswer
from saleor_lengo.needs import HasDb, HasClock, HasCache
from saleor_lengo.words import Message, Text


class Needs(HasDb, HasClock, HasCache, Protocol):
    """What answering a charge, refund or cancel request once uses."""


log = get_logger(__name__)

# Stands in for a pay_id when no payment (or no Lengo link) exists.
NO_PAYMENT_REFERENCE = "no-lengo-payment"


@dataclass(frozen=True)
class Answer:
    """What a handler decided; `render` turns it into Saleor's answer (saleor/sync_answers.py)."""

    result: ActionResultKind | None  # None: answered later (async)
    message: Text | Message
    # None leaves the Dashboard's buttons as they are; a tuple replaces them.
    actions: tuple[str, ...] | None = None
    # An async answer's own pspReference (a payout's): Saleor records a *_REQUEST event with it.
    psp_reference: str | None = None


# The handler's own needs, a superset of this module's: `decide` is called with what `answer_once` was given.
N = TypeVar("N", bound=Needs)
Decide = Callable[[N, Payment | None, ActionRequest], Awaitable[Answer]]


def action_psp_reference(base: str, action: str, issued_at: str) -> str:
    """`<pay_id>:<action>:<12 hex of sha256(issuedAt)>`: a retry gets the same one, another request not."""
    digest = hashlib.sha256(issued_at.encode()).hexdigest()[:12]
    return f"{base}:{action.lower()}:{digest}"


def reference_base(payment: Payment | None, request: ActionRequest) -> str:
    if payment is not None and payment.pay_id:
        return payment.pay_id
    return request.transaction.psp_reference or NO_PAYMENT_REFERENCE


def available_actions(payment: Payment) -> tuple[str, ...]:
    """The Dashboard buttons that make sense: CANCEL while unpaid; never REFUND (Lengo has no refund API)."""
    return ("CANCEL",) if payment.state in OPEN_STATES else ()


def render(answer: Answer, payment: Payment | None, request: ActionRequest, action: str, language: str) -> ActionAnswer:
    if answer.result is None:
        # The outcome comes later, through the outbox; never a *_REQUEST result here (PAYMENT-APPS.md §4).
        assert answer.psp_reference is not None
        return PayoutAccepted(answer.psp_reference, answer.actions)
    requested = request.action.amount
    return ACTION_RESULTS[answer.result](
        psp_reference=action_psp_reference(reference_base(payment, request), action, request.issued_at),
        # Echo the requested amount: the answer settles that request, and
        # reporting the payment's amount on a charge would count it twice.
        # One the app cannot hold is not echoed; Saleor keeps the one it asked for.
        amount=None if isinstance(requested, Unholdable) else requested,
        message=messages.render(answer.message if isinstance(answer.message, tuple) else (answer.message,), language),
        actions=answer.actions,
    )


async def _stored(deps: Needs, installation_id: int, request: ActionRequest, action: str) -> StoredAnswer | None:
    async with deps.db.read() as conn:
        row = (
            await conn.execute(
                select(action_answers.c.response).where(
                    action_answers.c.installation_id == installation_id,
                    action_answers.c.saleor_transaction_id == request.transaction.id,
                    action_answers.c.action == action,
                    action_answers.c.issued_at == request.issued_at,
                )
            )
        ).first()
    if row is None:
        return None
    stored: dict[str, Any] = jsonutil.loads(row.response)
    return StoredAnswer(stored)


async def _language(deps: Needs, payment: Payment | None) -> str:
    """The language of the payment's configuration; English when there is none."""
    if payment is None:
        return messages.DEFAULT_LANGUAGE
    return messages.language_of(await deps.cache.configuration(payment.configuration_id))


async def answer_once(
    deps: N, installation_id: int, request: ActionRequest, action: str, decide: Decide[N]
) -> StoredAnswer:
    """The stored answer to this very request, or a new one, decided, stored and returned."""
    if request.issued_at:
        previous = await _stored(deps, installation_id, request, action)
        if previous is not None:
            log.info("action_request_repeated", action=action, result=previous.body.get("result"))
            return previous

    async with deps.db.read() as conn:
        payment = await store.get_by_transaction(conn, installation_id, request.transaction.id)
    answer = await decide(deps, payment, request)
    # Stored as JSON and handed back parsed, so the first answer and every
    # repeat serialise to the very same bytes.
    language = await _language(deps, payment)
    raw = jsonutil.dumps(render(answer, payment, request, action, language).to_json())
    body: dict[str, Any] = jsonutil.loads(raw)
    if not request.issued_at:
        # Nothing identifies a repeat of this request; Saleor always sends issuedAt.
        log.warning("action_request_without_issued_at", action=action)
        return StoredAnswer(body)
    try:
        async with deps.db.write() as conn:
            await conn.execute(
                action_answers.insert().values(
                    installation_id=installation_id,
                    saleor_transaction_id=request.transaction.id,
                    action=action,
                    issued_at=request.issued_at,
                    payment_id=payment.id if payment else None,
                    psp_reference=body["pspReference"],
                    response=raw,
                    created_at=deps.clock(),
                )
            )
    except IntegrityError:
        # A concurrent copy of this request answered first: its answer is the answer.
        winner = await _stored(deps, installation_id, request, action)
        if winner is None:
            raise
        log.info("action_request_raced", action=action, result=winner.body.get("result"))
        return winner
    log.info("action_request_answered", action=action, result=body.get("result", "async"),
             payment_id=payment.id if payment else None, state=payment.state.value if payment else None)
    return StoredAnswer(body)

