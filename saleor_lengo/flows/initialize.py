"""TRANSACTION_INITIALIZE_SESSION: from a Saleor transaction to a Lengo payment page.

1. Find the channel's configuration; check currency, amount and return URL.
2. A repeat of a known Saleor transaction answers the stored payment (one
   Lengo payment per transaction; Saleor repeats an initialize with the same
   idempotencyKey), whatever the checks now say; the unique (installation,
   transaction) key tells a repeat when its payment is stored.
3. Store the payment *before* calling Lengo, in "creating", in a short
   transaction of its own: no lock is held while Lengo thinks, and a payment
   Lengo may create is never unknown to us. Only a digest of the callback
   token is stored.
4. Create it at Lengo (never retried: Lengo has no idempotency key), then in
   another short transaction record `pay_id` and move creating →
   action_required, or creating → failed with the reason.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from saleor_lengo import configurations
from saleor_lengo.configurations import Configuration
from saleor_lengo.crypto import token_digest
from saleor_lengo.db.engine import Tx
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import payment_transitions, payments
from saleor_lengo.saleor.installations import Installation
from saleor_lengo.lengo.client import CreatedPayment, LengoClient
from saleor_lengo.lengo.errors import (
    LengoError,
    LengoRefused,
    LengoUnauthorized,
    LengoUnavailable,
)
from saleor_lengo.logs import get_logger
from saleor_lengo.money import Money, Problem, Unholdable, minor_units
from saleor_lengo.page_words import ACCOUNT_CHANGE, ACCOUNT_SETTINGS
from saleor_lengo.payments import store
from saleor_lengo.flows import sync_responses
from saleor_lengo.flows.sync_responses import SessionAnswer
from saleor_lengo.payments.errors import ErrorCode, Refusal
from saleor_lengo.flows.lengo_access import lengo_client
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payments.state_machine import Outcome, transition
from saleor_lengo.saleor.payloads import Session
from saleor_lengo.saleor import dashboard, messages
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasSettings, HasCipher, HasHttp, HasCache, HasMetrics
from saleor_lengo.words import Words, words


class Needs(HasDb, HasClock, HasTimer, HasSettings, HasCipher, HasHttp, HasCache, HasMetrics, Protocol):
    """What starting a checkout at Lengo uses."""


log = get_logger(__name__)

# Saleor gives a sync webhook 20 s; every Lengo call in one stays inside 15 s.
CREATE_BUDGET_SECONDS = 12.0
# httpx's own timeout fires a little earlier, so the audit log records it.
HTTP_TIMEOUT_MARGIN = 0.5
# A repeat waits this long for the first request to finish creating.
REPEAT_WAIT_SECONDS = 13.0
REPEAT_POLL_SECONDS = 0.2
# A "creating" row whose lease ran out belongs to a request that died.
LEASE_MARGIN_SECONDS = 5.0
# The query parameter the storefront finds on its return URL (see the README).
NOT_CONFIGURED = (
    f"No Lengo account takes the payments of channel {{channel}}: in {ACCOUNT_SETTINGS}, "
    "connect an account and choose it for this channel."
)
NO_RETURN_URL = (
    "The storefront sent no data.returnUrl and Lengo account {account} has no default return URL: "
    f"set one in {ACCOUNT_CHANGE} → “Default return URL”, or have the storefront send data.returnUrl."
)
RETURN_PARAMETER = "transactionId"
CALLBACK_PATH = "/api/lengo/callback/"
MAX_RETURN_URL = 1800
_INSERT_PAYMENT = prepared(payments.insert())  # built once; the values come with each execution


@dataclass(frozen=True)
class EarlyCallbacks:
    """What the callbacks layer does for a checkout: a callback can beat Lengo's answer to the create.

    `waiting` runs inside the transaction that stores the pay_id (a cheap
    check: every checkout runs it); `confirm` after it commits (it opens its
    own). Passed in by the handler, since callbacks sit above this module.
    """

    waiting: Callable[[Tx, str], Awaitable[bool]]
    confirm: Callable[[str], Awaitable[int]]


# --- Checks shared with PAYMENT_GATEWAY_INITIALIZE_SESSION --------------------


def not_configured(channel: str | None) -> Refusal:
    return Refusal.of(ErrorCode.NOT_CONFIGURED, words(NOT_CONFIGURED, channel=repr(channel)))


def check_currency(config: Configuration, currency: str | None) -> Refusal | None:
    if currency is None or currency.upper() in config.currencies:
        return None
    text = words(
        "Lengo Pay accepts {accepted} here, not {currency}.", accepted=", ".join(config.currencies), currency=currency
    )
    return Refusal.of(ErrorCode.CURRENCY_NOT_SUPPORTED, text, str(text))


def check_amount(
    config: Configuration, amount: Decimal | Unholdable, currency: str, *, positive: bool = True
) -> Refusal | None:
    if isinstance(amount, Unholdable):
        # Beyond what the app holds (webhooks' amounts are read by money.read_amount): refused like any other.
        code = ErrorCode.AMOUNT_NOT_WHOLE if amount.problem == Problem.TOO_PRECISE else ErrorCode.AMOUNT_OUT_OF_RANGE
        text = words("Lengo Pay cannot take this amount ({problem}).", problem=amount.reason)
        if amount.problem == Problem.TOO_PRECISE:
            text = words(
                "Amounts in {currency} cannot have that many decimals: this amount cannot be paid.",
                currency=currency.upper(),
            )
        return Refusal.of(code, text, str(text))
    money = Money(amount, currency.upper())
    if not money.fits_precision():
        digits = minor_units(money.currency)
        # The amount as sent (it does not fit the currency, so it is not written as one).
        sent = f"{format(amount, 'f')} {money.currency}"
        if digits == 0:
            text = words("Amounts in {currency} must be whole: {sent} cannot be paid.", currency=money.currency, sent=sent)
        else:
            text = words(
                "Amounts in {currency} have at most {digits} decimals: {sent} cannot be paid.",
                currency=money.currency, digits=str(digits), sent=sent,
            )
        return Refusal.of(ErrorCode.AMOUNT_NOT_WHOLE, text, str(text))
    low, high = config.min_amount, config.max_amount
    too_low = (positive and amount <= 0) or amount < 0 or (low is not None and amount < low)
    if too_low or (high is not None and amount > high):
        bounds: Words
        if low is not None and high is not None:
            bounds = words("between {low} and {high}", low=Money(low, money.currency), high=Money(high, money.currency))
        elif low is not None:
            bounds = words("of at least {low}", low=Money(low, money.currency))
        elif high is not None:
            bounds = words("of at most {high}", high=Money(high, money.currency))
        else:
            bounds = words("above zero")
        text = words("Lengo Pay takes amounts {bounds}, not {amount}.", bounds=bounds, amount=money)
        return Refusal.of(ErrorCode.AMOUNT_OUT_OF_RANGE, text, str(text))
    return None


def return_url_for(config: Configuration, data: Any) -> tuple[str | None, Refusal | None]:
    """The storefront's `data.returnUrl` (or the configured default) once allowed."""
    raw = data.get("returnUrl") if isinstance(data, dict) else None
    if raw is None:
        if config.default_return_url:
            # Set by staff, not by an anonymous client: trusted as is.
            return config.default_return_url, None
        return None, Refusal.of(ErrorCode.RETURN_URL_NOT_ALLOWED, words(NO_RETURN_URL, account=repr(config.name)))
    if not isinstance(raw, str) or len(raw) > MAX_RETURN_URL:
        return None, Refusal.of(
            ErrorCode.RETURN_URL_NOT_ALLOWED,
            words("data.returnUrl must be a URL of at most {limit} characters.", limit=str(MAX_RETURN_URL)),
        )
    why = config.return_url_refusal(raw)
    if why is not None:
        return None, Refusal.of(ErrorCode.RETURN_URL_NOT_ALLOWED, why)
    return raw, None


def with_transaction_id(url: str, transaction_id: str) -> str:
    """`url` with `transactionId=<id>` added; its other query parameters are kept byte for byte."""
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and unquote_plus(p.split("=", 1)[0]) != RETURN_PARAMETER]
    kept.append(urlencode({RETURN_PARAMETER: transaction_id}))
    return urlunsplit(parts._replace(query="&".join(kept)))


# --- The use case ---------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    config: Configuration
    money: Money
    return_url: str


async def execute(
    deps: Needs, installation: Installation, session: Session, early_callbacks: EarlyCallbacks
) -> SessionAnswer:
    # A first request is by far the common case: it goes straight to storing
    # its payment, and a repeat is told apart by the unique (installation,
    # transaction) key — one transaction instead of a lookup before it.
    checked = await _check(deps, installation, session)
    if isinstance(checked, Refusal):
        return await _refuse_unless_repeat(deps, installation, session, checked)

    payment_id = uuid4().hex
    try:
        # Built before anything is stored: a key that cannot be read (503)
        # must not leave a payment stuck in "creating".
        client = lengo_client(deps, checked.config, payment_id)
    except ValueError as exc:
        refusal = Refusal.of(
            ErrorCode.NOT_CONFIGURED,
            words(
                "Configuration {account} cannot be used to call Lengo Pay: {error}.",
                account=repr(checked.config.name), error=str(exc),
            ),
        )
        return await _refuse_unless_repeat(deps, installation, session, refusal)

    # At least 128 bits; the database keeps only its digest.
    token = secrets.token_urlsafe(24)
    try:
        await _store_creating(deps, installation, session, checked, payment_id, token)
    except IntegrityError:
        # A repeat, or another request for the same transaction stored its payment first.
        existing = await find(deps, installation.id, session.transaction.id)
        if existing is None:
            raise
        return await answer_repeat(deps, installation, existing)

    payment = await _create_at_lengo(
        deps, client, payment_id, token, checked, session.transaction.id, early_callbacks
    )
    return await render(deps, installation, payment)


async def _refuse_unless_repeat(
    deps: Needs, installation: Installation, session: Session, refusal: Refusal
) -> SessionAnswer:
    """A repeat gets the payment it got the first time, even if the configuration changed since; else the refusal."""
    existing = await find(deps, installation.id, session.transaction.id)
    if existing is not None:
        return await answer_repeat(deps, installation, existing)
    log.info("initialize_refused", code=refusal.code.value)
    # Refused before a payment exists: said in the language of the channel's configuration, if it has one.
    channel = session.source.channel
    config = await deps.cache.channel_configuration(installation.id, channel.id, channel.slug)
    return sync_responses.refused(
        refusal, amount=session.action.amount, currency=session.action.currency, language=messages.language_of(config)
    )


async def find(deps: Needs, installation_id: int, transaction_id: str) -> Payment | None:
    async with deps.db.read() as conn:
        return await store.get_by_transaction(conn, installation_id, transaction_id)


async def render(
    deps: Needs, installation: Installation, payment: Payment, *, note: Words | None = None
) -> SessionAnswer:
    """`sync_responses.for_payment`, with what a succeeded payment's message needs from its history."""
    paid_from: State | None = None
    if payment.state == State.SUCCEEDED:
        async with deps.db.read() as conn:
            previous = (
                await conn.execute(
                    select(payment_transitions.c.from_state)
                    .where(
                        payment_transitions.c.payment_id == payment.id,
                        payment_transitions.c.to_state == State.SUCCEEDED.value,
                    )
                    .order_by(payment_transitions.c.id)
                    .limit(1)
                )
            ).scalar()
        paid_from = State(previous) if previous is not None else None
    config = await deps.cache.configuration(payment.configuration_id)
    reader = sync_responses.Reader(
        language=messages.language_of(config),
        link=dashboard.payment_page(
            installation.saleor_api_url, installation.app_id, payment.id, deps.settings.dashboard_url
        ),
    )
    return sync_responses.for_payment(payment, reader, note=note, paid_from=paid_from)


async def _check(deps: Needs, installation: Installation, session: Session) -> _Checked | Refusal:
    channel = session.source.channel
    config = await deps.cache.channel_configuration(installation.id, channel.id, channel.slug)
    if config is None:
        return not_configured(channel.slug or channel.id)
    action = session.action
    refusal = check_currency(config, action.currency) or check_amount(config, action.amount, action.currency)
    if refusal:
        return refusal
    return_url, refusal = return_url_for(config, session.data)
    if refusal:
        return refusal
    assert return_url is not None and isinstance(action.amount, Decimal)  # check_amount refused any other
    money = Money(sync_responses.amount_of(action.amount, action.currency), action.currency.upper())
    return _Checked(config, money, return_url)


async def _store_creating(
    deps: Needs,
    installation: Installation,
    session: Session,
    checked: _Checked,
    payment_id: str,
    token: str,
) -> None:
    settings = deps.settings
    now = deps.clock()
    expires_at = now + settings.payment_ttl_seconds
    async with deps.db.write() as conn:
        await conn.execute(
            _INSERT_PAYMENT,
            {
                "id": payment_id,
                "installation_id": installation.id,
                "configuration_id": checked.config.id,
                "saleor_transaction_id": session.transaction.id,
                "idempotency_key": session.idempotency_key[:512] if session.idempotency_key else None,
                "callback_token_digest": token_digest(token),
                "state": State.CREATING.value,
                "amount": checked.money.to_saleor(),
                "currency": checked.money.currency,
                "environment": checked.config.environment,
                "channel_id": session.source.channel.id,
                "channel_slug": session.source.channel.slug,
                "source_type": session.source.type,
                "source_id": session.source.id,
                "return_url": checked.return_url,
                "action_type": session.action.action_type[:32],
                "created_at": now,
                "updated_at": now,
                "expires_at": expires_at,
                "watch_until": expires_at + settings.payment_watch_seconds,
                "next_check_at": now + settings.reconcile_interval_seconds,
                "check_attempts": 0,
                # Who creates holds the row until then; a repeat that finds
                # the lease run out knows that request died.
                "lease_until": now + CREATE_BUDGET_SECONDS + LEASE_MARGIN_SECONDS,
            },
        )
    log.info("payment_stored", payment_id=payment_id, amount=str(checked.money), environment=checked.config.environment)


async def _create_at_lengo(
    deps: Needs,
    client: LengoClient,
    payment_id: str,
    token: str,
    checked: _Checked,
    transaction_id: str,
    early_callbacks: EarlyCallbacks,
) -> Payment:
    callback_url = deps.settings.url(CALLBACK_PATH + token)
    return_url = with_transaction_id(checked.return_url, transaction_id)
    try:
        # httpx bounds each phase only (and in-process transports ignore it):
        # this bounds the whole call.
        async with asyncio.timeout(CREATE_BUDGET_SECONDS):
            created = await client.create_payment(
                checked.money,
                return_url=return_url,
                callback_url=callback_url,
                timeout=max(CREATE_BUDGET_SECONDS - HTTP_TIMEOUT_MARGIN, 0.1),
            )
    except TimeoutError:
        return await _fail(deps, payment_id, _unknown_outcome(
            words("Lengo Pay did not answer within {seconds} s", seconds=f"{CREATE_BUDGET_SECONDS:g}"), checked
        ))
    except LengoError as exc:
        return await _fail(deps, payment_id, _refusal_for(exc, checked))
    return await _created(deps, payment_id, created, early_callbacks)


def _unknown_outcome(what: Words | str, checked: _Checked) -> Refusal:
    return Refusal.of(
        ErrorCode.OUTCOME_UNKNOWN,
        words(
            "{what}; a payment of {amount} may or may not exist on Lengo's side. "
            "This attempt is marked failed and its link was never shown to anyone: "
            "check the Lengo portal (site {site}) before the shopper pays again.",
            what=what, amount=checked.money, site=checked.config.website_id,
        ),
    )


def _refusal_for(exc: LengoError, checked: _Checked) -> Refusal:
    name = checked.config.name
    if isinstance(exc, LengoUnauthorized):
        return Refusal.of(
            ErrorCode.LENGO_REFUSED,
            words(
                "Lengo Pay refused the license key of configuration {account} (HTTP {status}): "
                "check its site id, license key and environment. No payment was created.",
                account=repr(name), status=str(exc.http_status),
            ),
        )
    if isinstance(exc, LengoRefused):
        return Refusal.of(
            ErrorCode.LENGO_REFUSED,
            words(
                "Lengo Pay refused to create a payment of {amount}: {error}. No payment was created.",
                amount=checked.money, error=exc.message or f"HTTP {exc.http_status}",
            ),
        )
    if isinstance(exc, LengoUnavailable):
        return Refusal.of(
            ErrorCode.LENGO_UNAVAILABLE,
            words(
                "Lengo Pay could not be reached ({error}); no payment was created. The shopper may try again.",
                error=exc.safe_message,
            ),
        )
    # LengoOutcomeUnknown, LengoProtocolError: an answer was lost or unusable.
    # Their texts end with "; the payment may or may not…", which we say below.
    what = exc.safe_message.split(";", 1)[0]
    return _unknown_outcome(what[:1].upper() + what[1:], checked)


async def _fail(deps: Needs, payment_id: str, refusal: Refusal) -> Payment:
    log.warning("payment_create_failed", payment_id=payment_id, code=refusal.code.value)
    async with deps.db.write() as conn:
        payment = await store.get(conn, payment_id, lock=True)
        assert payment is not None
        await store.update_fields(conn, payment_id, lease_until=None)
        outcome = await transition(conn, payment, State.FAILED, reason=refusal.as_reason(), reason_words=refusal.staff, now=deps.clock())
        return outcome.payment


async def _created(
    deps: Needs, payment_id: str, created: CreatedPayment, early_callbacks: EarlyCallbacks
) -> Payment:
    now = deps.clock()
    fields: dict[str, object] = {
        "pay_id": created.pay_id,
        "payment_url": created.payment_url,
        "lease_until": None,
        "updated_at": now,
    }
    async with deps.db.write() as conn:
        payment = await store.get(conn, payment_id, lock=True)
        assert payment is not None
        outcome = await transition(
            conn,
            payment,
            State.ACTION_REQUIRED,
            reason=f"Lengo payment created (pay_id {created.pay_id}).",
            now=now,
            also=fields,
        )
        if not outcome.changed:
            # Kept whatever the state: if a repeat gave this attempt up meanwhile,
            # the watcher still needs the pay_id to notice a late payment.
            await store.update_fields(conn, payment_id, **fields)
            kept = await store.get(conn, payment_id)
            assert kept is not None
            outcome = Outcome(kept, False)
        early = await early_callbacks.waiting(conn, payment_id)
    if early:
        # A callback beat Lengo's answer to the create: confirm it now that
        # the pay_id is known (after the commit — it opens its own transaction).
        await early_callbacks.confirm(payment_id)
    return outcome.payment


# --- Repeats ---------------------------------------------------------------------


async def wait_while_creating(deps: Needs, payment: Payment) -> Payment:
    """Wait a bounded time for a payment another request is creating."""
    deadline = deps.monotonic() + REPEAT_WAIT_SECONDS
    while payment.state == State.CREATING:
        lease = payment.lease_until
        if lease is not None and lease < deps.clock():
            return await _abandon(deps, payment.id)
        if deps.monotonic() + REPEAT_POLL_SECONDS > deadline:
            return payment
        await deps.sleep(REPEAT_POLL_SECONDS)
        async with deps.db.read() as conn:
            found = await store.get(conn, payment.id)
        assert found is not None
        payment = found
    return payment


async def answer_repeat(deps: Needs, installation: Installation, payment: Payment) -> SessionAnswer:
    log.info("initialize_repeat", payment_id=payment.id, state=payment.state.value)
    return await render(deps, installation, await wait_while_creating(deps, payment))


async def _abandon(deps: Needs, payment_id: str) -> Payment:
    """The request creating this payment died: say so once, and stop waiting for it."""
    async with deps.db.write() as conn:
        payment = await store.get(conn, payment_id, lock=True)
        assert payment is not None
        if payment.state != State.CREATING or (payment.lease_until or 0) >= deps.clock():
            return payment
        refusal = Refusal.of(
            ErrorCode.OUTCOME_UNKNOWN,
            words(
                "The request creating this payment at Lengo Pay never finished (the app may have restarted); "
                "a payment of {amount} may or may not exist on Lengo's side. "
                "Check the Lengo portal before the shopper pays again.",
                amount=Money(payment.amount, payment.currency),
            ),
        )
        await store.update_fields(conn, payment_id, lease_until=None)
        payment = await store.get(conn, payment_id)
        assert payment is not None
        outcome = await transition(conn, payment, State.FAILED, reason=refusal.as_reason(), reason_words=refusal.staff, now=deps.clock())
        return outcome.payment
