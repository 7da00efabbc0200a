"""A Saleor refund request answered with a payout: checks, the payout recorded, the async answer.

Everything is decided under the payment's row lock and the configuration's
(PostgreSQL `FOR UPDATE`; SQLite's write lock serialises all writers), so
two refunds of one payment, or two payouts of one configuration, never both
see the same room in the ledger or in the daily limit. The money moves later,
in the background (`flows/payout_worker.py`); the answer is
`{pspReference: P, actions}` without a result, so Saleor records a
REFUND_REQUEST with P and waits for REFUND_SUCCESS / REFUND_FAILURE with P.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from saleor_lengo import configurations
from saleor_lengo.configurations import Configuration
from saleor_lengo.crypto import DecryptionError
from saleor_lengo.db.engine import Tx
from saleor_lengo.db.schema import outbox
from saleor_lengo.flows.actions import Answer
from saleor_lengo.lengo import vocabulary
from saleor_lengo.logs import get_logger
from saleor_lengo.money import AmountError, Money, parse_amount
from saleor_lengo.page_words import APP_PAGE
from saleor_lengo.payments import store as payment_store
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payouts import ledger, store
from saleor_lengo.payouts.model import PayoutMode, PayoutState
from saleor_lengo.saleor.payloads import ActionRequest
from saleor_lengo.needs import HasDb, HasClock, HasSettings, HasCipher, HasWakeups
from saleor_lengo.words import Text, words


class Needs(HasDb, HasClock, HasSettings, HasCipher, HasWakeups, Protocol):
    """What accepting a refund payout request uses."""


log = get_logger(__name__)

REFUND = ("REFUND",)
LIMIT_REACHED = "daily payout limit reached"


def destination_type(payment: Payment, config: Configuration | None) -> str | None:
    """The cash-in `type_account` a refund of this payment may be paid out to, or None: refund by hand.

    Payouts on, the payment paid in GNF with Orange Money or MTN MoMo, and
    the payer's number known from the status that confirmed it.
    """
    if config is None or config.payout_mode == PayoutMode.OFF.value or config.payout_daily_limit is None:
        return None
    if payment.currency != vocabulary.CASHIN_CURRENCY or payment.payer_account_enc is None:
        return None
    return vocabulary.payout_account_type(payment.gateway)


def refund_actions(payment: Payment, config: Configuration | None) -> tuple[str, ...]:
    """("REFUND",) for a paid payment refundable by payout, () otherwise (before the ledger is read)."""
    if payment.state != State.SUCCEEDED or destination_type(payment, config) is None:
        return ()
    return REFUND


def callback_token(secret_key: str, payout_id: str) -> str:
    """The payout's callback URL token: derived, so only its digest is stored."""
    return hmac.new(secret_key.encode(), f"payout-callback:{payout_id}".encode(), hashlib.sha256).hexdigest()


def account_key(secret_key: str, configuration_id: int, account: str) -> str:
    """Which payouts go to one payer (one in flight at a time); keyed, since 10⁹ numbers are quick to try."""
    return hmac.new(secret_key.encode(), f"payout-account:{configuration_id}:{account}".encode(), hashlib.sha256).hexdigest()


async def offer_refund(conn: Tx, payment: Payment, outbox_id: int | None) -> None:
    """A CHARGE_SUCCESS of a payment refundable by payout offers Saleor's Refund button."""
    if outbox_id is None:
        return
    config = await configurations.get_by_id(conn, payment.configuration_id)
    if refund_actions(payment, config):
        await conn.execute(outbox.update().where(outbox.c.id == outbox_id).values(available_actions='["REFUND"]'))


LIMIT_MESSAGE = (
    f"Nothing was refunded: {LIMIT_REACHED} ({{used}} of {{limit}} over the last 24 hours). "
    f"Refund by hand and record it in {APP_PAGE}, or try again later."
)


def _failure(message: Text, actions: tuple[str, ...]) -> Answer:
    return Answer("REFUND_FAILURE", message, actions)


async def request_payout(deps: Needs, payment: Payment, config: Configuration, request: ActionRequest) -> Answer:
    """Record a payout for this refund request (or find the one recorded for it), and answer Saleor."""
    requested = request.action.amount
    if not isinstance(requested, Decimal) or request.action.currency != payment.currency:
        return _failure(
            words(
                "Nothing was refunded: the refund amount or currency cannot be paid out ({currency} only).",
                currency=payment.currency,
            ),
            REFUND,
        )
    try:
        amount = parse_amount(requested, payment.currency)
    except AmountError as exc:
        return _failure(words("Nothing was refunded: the refund amount is {problem}.", problem=exc.reason), REFUND)
    type_account = destination_type(payment, config)
    assert type_account is not None and config.payout_daily_limit is not None
    key = store.idempotency_key(request.transaction.id, request.issued_at, amount)
    now = deps.clock()
    secret = deps.settings.secret_key
    try:
        async with deps.db.write() as conn:
            existing = await store.by_idempotency_key(conn, key)
            if existing is not None:
                log.info("payout_request_repeated", payout_id=existing.id)
                return Answer(None, "", REFUND, psp_reference=existing.psp_reference)
            current = await payment_store.get(conn, payment.id, lock=True)
            await ledger.lock_configuration(conn, config.id)
            assert current is not None
            left = await ledger.refundable(conn, current)
            if amount > left:
                return _failure(
                    words(
                        "Nothing was refunded: at most {left} can still be refunded "
                        "({charged} charged, {refunded} refunded, the rest held by payouts in progress).",
                        left=Money(left, current.currency),
                        charged=Money(current.charged_amount, current.currency),
                        refunded=Money(current.refunded_amount, current.currency),
                    ),
                    REFUND if left > 0 else (),
                )
            if config.min_amount is not None and amount < config.min_amount:
                return _failure(
                    words(
                        "Nothing was refunded: a payout must be at least {minimum}.",
                        minimum=Money(config.min_amount, current.currency),
                    ),
                    REFUND,
                )
            used = await ledger.paid_out_today(conn, config.id, now)
            if used + amount > config.payout_daily_limit:
                return _failure(
                    words(
                        LIMIT_MESSAGE,
                        used=Money(used, current.currency),
                        limit=Money(config.payout_daily_limit, current.currency),
                    ),
                    REFUND,
                )
            try:
                account = deps.cipher.decrypt(current.payer_account_enc or "")
            except DecryptionError:
                return _failure(words("Nothing was refunded: the payer's number cannot be read (check SECRET_KEY)."), ())
            payout_id = store.new_id()
            automatic = config.payout_mode == PayoutMode.AUTOMATIC.value
            await store.insert(
                conn,
                id=payout_id,
                payment_id=current.id,
                installation_id=current.installation_id,
                configuration_id=config.id,
                saleor_transaction_id=current.saleor_transaction_id,
                # The payout's own id: unique per request, and what `payouts show` takes.
                psp_reference=payout_id,
                idempotency_key=key,
                amount=format(amount, "f"),
                currency=current.currency,
                type_account=type_account,
                account_enc=deps.cipher.encrypt(account),
                account_masked=current.payer_account_masked or "",
                account_digest=account_key(secret, config.id, account),
                state=(PayoutState.SENDING if automatic else PayoutState.AWAITING_APPROVAL).value,
                callback_token_digest=hashlib.sha256(callback_token(secret, payout_id).encode()).hexdigest(),
                next_check_at=now if automatic else None,
                created_at=now,
                updated_at=now,
            )
            still = left - amount
    except IntegrityError:
        # The same request, answered at the same moment by another process: its payout is the payout.
        async with deps.db.read() as conn:
            existing = await store.by_idempotency_key(conn, key)
        if existing is None:
            raise
        return Answer(None, "", REFUND, psp_reference=existing.psp_reference)
    log.info("payout_recorded", payout_id=payout_id, payment_id=payment.id, mode=config.payout_mode)
    deps.wakeups.payouts.set()
    return Answer(None, "", REFUND if still > 0 else (), psp_reference=payout_id)
