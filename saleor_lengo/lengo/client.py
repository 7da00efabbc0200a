"""The HTTP client for Lengo Pay's merchant API.

One method per endpoint the app uses. Each turns every way a call can end
into either a small typed result or one `LengoError` (see `errors`), and
reports each attempt as a `LengoCall` to an optional recorder (the audit
log). Only the status call is retried: it changes nothing on Lengo's side,
whereas a repeated create would make a second payment.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

import httpx

from saleor_lengo import jsonutil
from saleor_lengo.backoff import doubling
from saleor_lengo.lengo import cashin, responses, vocabulary
from saleor_lengo.lengo.responses import Balance, CreatedPayment, PaymentStatus
from saleor_lengo.lengo.cashin import Cashin, CashinRequested
from saleor_lengo.lengo.errors import (
    CallOutcome,
    LengoError,
    LengoOutcomeUnknown,
    LengoProtocolError,
    LengoUnavailable,
)
from saleor_lengo.logs import get_logger, register_secret
from saleor_lengo.money import Money
from saleor_lengo.outbound import AnswerTooLarge, check_url, send_bounded, within
from saleor_lengo.outbound_networks import AddressNotAllowed

__all__ = [
    "Balance",
    "Cashin",
    "CashinRequested",
    "CreatedPayment",
    "LengoCall",
    "LengoClient",
    "LengoCredentials",
    "PaymentStatus",
]

log = get_logger(__name__)

CREATE_TIMEOUT = 12.0
STATUS_BUDGET = 8.0
# One hung status attempt must not eat the whole budget: cap each attempt so
# a retry still fits.
STATUS_ATTEMPT_TIMEOUT = 5.0
BALANCE_TIMEOUT = 8.0
CASHIN_TIMEOUT = 12.0
CASHIN_STATUS_TIMEOUT = 8.0
HISTORY_TIMEOUT = 15.0
CONNECT_TIMEOUT = 3.0
# Lengo answers a few hundred bytes of JSON; more is read no further.
MAX_ANSWER_BYTES = 256 * 1024
FIRST_BACKOFF = 0.2
MAX_BACKOFF = 2.0
# An attempt with less time than this left is not worth starting.
MIN_ATTEMPT_TIMEOUT = 0.5

Operation = Literal["create_payment", "payment_status", "balance", "cashin_request", "cashin_status", "cashin_history"]
T = TypeVar("T")

# Errors raised before a single byte of the request left: nothing can have
# been created, whatever the operation.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True)
class LengoCredentials:
    """Where and as whom to call Lengo. The key never appears in the repr."""

    base_url: str
    website_id: str
    license_key: str = field(repr=False)

    def __post_init__(self) -> None:
        check_url(self.base_url)
        if not self.website_id.strip():
            raise ValueError("the Lengo site id is empty")
        # The key goes into a header verbatim; a control character would
        # either break the request or smuggle another header, and a header
        # cannot carry anything but ASCII.
        key = self.license_key
        if not key.strip() or responses.CONTROL_CHARS.search(key) or not key.isascii():
            raise ValueError("the Lengo license key is empty or malformed")


@dataclass(frozen=True)
class LengoCall:
    """One HTTP attempt, for the audit log. `detail` is safe to store and show."""

    operation: Operation
    started_at: datetime
    duration_ms: int
    http_status: int | None
    outcome: CallOutcome
    detail: str


Recorder = Callable[[LengoCall], Awaitable[None]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LengoClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        credentials: LengoCredentials,
        *,
        recorder: Recorder | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        check_url(credentials.base_url)
        # Masked in every log line from now on, whoever logs it.
        register_secret(credentials.license_key)
        self._http = http
        self._credentials = credentials
        self._recorder = recorder
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self._headers = {
            # The key exactly as issued: Lengo does not want base64("user:password").
            "Authorization": f"Basic {credentials.license_key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def __repr__(self) -> str:
        return f"LengoClient({self._credentials!r})"

    # --- Public API ---------------------------------------------------------

    async def create_payment(
        self,
        amount: Money,
        *,
        return_url: str | None,
        callback_url: str | None,
        timeout: float = CREATE_TIMEOUT,
    ) -> CreatedPayment:
        """Ask Lengo for a payment link. Never retried (no idempotency key exists).

        Raises LengoOutcomeUnknown when the request may have reached Lengo but
        no usable answer came back (timeout, 5xx, broken connection).
        """
        for url in (return_url, callback_url):
            if url is not None:
                check_url(url)
        body: dict[str, Any] = {
            "websiteid": self._credentials.website_id,
            "amount": amount.to_lengo(),
            "currency": amount.currency,
        }
        # Both are optional for Lengo; an explicit null might trip a validator.
        if return_url is not None:
            body["return_url"] = return_url
        if callback_url is not None:
            body["callback_url"] = callback_url
        return await self._attempt(
            "create_payment",
            "POST",
            vocabulary.CREATE_PAYMENT_PATH,
            body,
            timeout,
            ambiguous=True,
            parse=lambda payload: _created(payload, amount),
        )

    async def payment_status(self, pay_id: str, *, budget: float = STATUS_BUDGET) -> PaymentStatus:
        """The payment's status, the source of truth (callbacks are only hints).

        Retries LengoUnavailable with exponential backoff while `budget`
        seconds allow; then raises the last one.
        """
        if not pay_id:
            raise ValueError("pay_id is empty")
        if budget <= 0:
            raise ValueError("budget must be positive")
        body = {"pay_id": pay_id, "websiteid": self._credentials.website_id}
        deadline = self._clock() + budget
        failures = 0
        while True:
            remaining = deadline - self._clock()
            try:
                return await self._attempt(
                    "payment_status",
                    "POST",
                    vocabulary.PAYMENT_STATUS_PATH,
                    body,
                    min(remaining, STATUS_ATTEMPT_TIMEOUT),
                    ambiguous=False,
                    parse=lambda payload: _status(payload, pay_id),
                )
            except LengoUnavailable:
                failures += 1
                delay = doubling(FIRST_BACKOFF, MAX_BACKOFF, failures)
                if deadline - self._clock() - delay < MIN_ATTEMPT_TIMEOUT:
                    raise
            await self._sleep(delay)

    async def balance(self, *, timeout: float = BALANCE_TIMEOUT) -> Balance:
        return await self._attempt(
            "balance",
            "GET",
            vocabulary.balance_path(self._credentials.website_id),
            None,
            timeout,
            ambiguous=False,
            parse=_balance,
        )

    async def cashin_request(
        self, amount: Money, *, type_account: str, account: str, callback_url: str | None, timeout: float = CASHIN_TIMEOUT
    ) -> CashinRequested:
        """Pay `amount` out of the merchant's balance to `account`. Sent once, never retried here.

        Lengo has no idempotency key for it: the same request sent twice may
        pay twice. LengoUnavailable means the request provably never reached
        Lengo (no connection, name not resolved, a 404 page, 408/429: turned
        away); LengoOutcomeUnknown and LengoProtocolError mean money may have
        left, and the caller must look for the cash-in before doing anything else.
        """
        if callback_url is not None:
            check_url(callback_url)
        body: dict[str, Any] = {
            # A numeric string, as the doc shows.
            "amount": format(amount.to_lengo(), "f") if isinstance(amount.to_lengo(), Decimal) else str(amount.to_lengo()),
            "currency": amount.currency,
            "websiteid": self._credentials.website_id,
            "type_account": type_account,
            "account": account,
        }
        if callback_url is not None:
            body["callback_url"] = callback_url
        return await self._attempt(
            "cashin_request",
            "POST",
            vocabulary.CASHIN_REQUEST_PATH,
            body,
            timeout,
            ambiguous=True,
            parse=lambda payload: _cashin_requested(payload, amount),
            hide=(account,),
        )

    async def cashin_status(self, pay_id: str, *, timeout: float = CASHIN_STATUS_TIMEOUT) -> Cashin:
        if not pay_id:
            raise ValueError("pay_id is empty")
        body = {"pay_id": pay_id, "websiteid": self._credentials.website_id}
        return await self._attempt(
            "cashin_status", "POST", vocabulary.CASHIN_STATUS_PATH, body, timeout, ambiguous=False,
            parse=lambda payload: _cashin_status(payload, pay_id),
        )

    async def cashin_history(self, *, timeout: float = HISTORY_TIMEOUT) -> list[Cashin]:
        body = {"websiteid": self._credentials.website_id}
        return await self._attempt(
            "cashin_history", "POST", vocabulary.CASHIN_HISTORY_PATH, body, timeout, ambiguous=False,
            parse=_cashin_history,
        )

    # --- One attempt ----------------------------------------------------------

    async def _attempt(
        self,
        operation: Operation,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        timeout: float,
        *,
        ambiguous: bool,
        parse: Callable[[Any], tuple[T, str]],
        hide: tuple[str, ...] = (),
    ) -> T:
        """Send once, map the answer, record it. `ambiguous`: a lost answer may hide a change."""
        started_at = self._now()
        start = self._clock()
        http_status: int | None = None
        try:
            response = await self._exchange(method, path, body, timeout, ambiguous=ambiguous)
            http_status = response.status_code
            payload = responses.json_of(
                response, ambiguous=ambiguous, license_key=self._credentials.license_key, hide=hide
            )
            result, detail = parse(payload)
        except LengoError as exc:
            if exc.http_status is None:
                exc.http_status = http_status  # an unusable 2xx answer
            await self._report(operation, started_at, start, exc.http_status, exc.outcome, exc.safe_message)
            raise
        await self._report(operation, started_at, start, http_status, "ok", detail)
        return result

    async def _exchange(
        self, method: str, path: str, body: dict[str, Any] | None, timeout: float, *, ambiguous: bool
    ) -> httpx.Response:
        url = self._credentials.base_url.rstrip("/") + path
        content = jsonutil.dumps(body) if body is not None else None
        try:
            # httpx's timeouts are per phase and some transports ignore them:
            # `within` bounds the whole exchange (without cancelling httpx).
            # Never redirected (a redirect would carry the license key to another URL),
            # the answer read up to a bound: the URL may be a staff member's choice.
            return await within(
                send_bounded(
                    self._http,
                    method,
                    url,
                    max_bytes=MAX_ANSWER_BYTES,
                    content=content,
                    headers=self._headers,
                    timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
                ),
                timeout,
            )
        except AnswerTooLarge:
            raise LengoProtocolError(f"Lengo's answer is over {MAX_ANSWER_BYTES} bytes") from None
        except AddressNotAllowed:
            raise LengoUnavailable("Lengo's address is not allowed by OUTBOUND_ALLOWED_NETWORKS") from None
        except _NOT_SENT as exc:
            raise LengoUnavailable(f"Lengo could not be reached ({type(exc).__name__})") from None
        except (TimeoutError, httpx.TimeoutException):
            if ambiguous:
                raise LengoOutcomeUnknown(
                    "Lengo did not answer in time; the payment may or may not have been created"
                ) from None
            raise LengoUnavailable("Lengo did not answer in time") from None
        except httpx.HTTPError as exc:
            # Exception texts may quote the URL or the request; the type name is enough.
            if ambiguous:
                raise LengoOutcomeUnknown(
                    f"the connection to Lengo broke ({type(exc).__name__}); "
                    "the payment may or may not have been created"
                ) from None
            raise LengoUnavailable(f"the connection to Lengo broke ({type(exc).__name__})") from None

    async def _report(
        self,
        operation: Operation,
        started_at: datetime,
        start: float,
        http_status: int | None,
        outcome: CallOutcome,
        detail: str,
    ) -> None:
        duration_ms = max(0, round((self._clock() - start) * 1000))
        call = LengoCall(operation, started_at, duration_ms, http_status, outcome, detail)
        emit = log.info if outcome == "ok" else log.warning
        emit(
            "lengo_call",
            operation=operation,
            outcome=outcome,
            http_status=http_status,
            duration_ms=duration_ms,
            detail=detail,
        )
        if self._recorder is None:
            return
        try:
            await self._recorder(call)
        except Exception:
            # Losing an audit row must not lose a payment that Lengo created.
            log.exception("lengo_call_not_recorded", operation=operation, outcome=outcome)


# Each answer with its one-line audit detail: ids and amounts, never the payer.


def _created(payload: Any, amount: Money) -> tuple[CreatedPayment, str]:
    created = responses.read_created(payload)
    return created, f"pay_id={created.pay_id} amount={amount}"


def _status(payload: Any, pay_id: str) -> tuple[PaymentStatus, str]:
    status = responses.read_status(payload, pay_id)
    return status, f"pay_id={status.pay_id} status={responses.shown(status.status)}"


def _balance(payload: Any) -> tuple[Balance, str]:
    balance = responses.read_balance(payload)
    return balance, f"balance={balance.balance} {responses.shown(balance.currency, 8)}"


def _cashin_requested(payload: Any, amount: Money) -> tuple[CashinRequested, str]:
    requested = cashin.read_requested(payload)
    return requested, f"cash-in pay_id={requested.pay_id} amount={amount}"


def _cashin_status(payload: Any, pay_id: str) -> tuple[Cashin, str]:
    found = cashin.read_status(payload, pay_id)
    return found, f"cash-in pay_id={found.pay_id} status={responses.shown(found.status)}"


def _cashin_history(payload: Any) -> tuple[list[Cashin], str]:
    entries = cashin.read_history(payload)
    return entries, f"cash-in history: {len(entries)} entries"
