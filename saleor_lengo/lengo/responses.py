"""Lengo's answers, read once into small types or turned into one `LengoError`.

Pure functions over an `httpx.Response`: no I/O, so every mapping from an
HTTP status or a body to a result or an error lives here, in one place.
Bodies are parsed with `jsonutil.loads`, so JSON numbers arrive as `int` or
`Decimal`, never as binary floats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from saleor_lengo import jsonutil
from saleor_lengo.lengo import vocabulary
from saleor_lengo.lengo.errors import (
    LengoOutcomeUnknown,
    LengoProtocolError,
    LengoRefused,
    LengoUnauthorized,
    LengoUnavailable,
)
from saleor_lengo.money import AmountError, Unholdable, read_amount
from saleor_lengo.outbound import UnsafeUrl, check_url

MAX_MESSAGE_CHARS = 200
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class CreatedPayment:
    pay_id: str  # opaque base64 with "=" padding: compare byte for byte, never decode
    payment_url: str


@dataclass(frozen=True)
class PaymentStatus:
    status: str  # Lengo's word, unchanged; `outcome` says what it means
    pay_id: str
    # None: Lengo gave none (it charges what was created). Unholdable: what
    # it gave is no amount the app can hold; the payment then waits for staff.
    amount: Decimal | Unholdable | None
    date: str | None  # format unknown, kept as given
    gateway: str | None  # "Orange Money", "MTN MoMo", ...
    # The payer's number (9 digits) when Lengo gave one that is a number: the
    # only destination a refund payout may use. Personal data: never in a repr.
    account: str | None = field(default=None, repr=False)

    @property
    def outcome(self) -> vocabulary.Outcome:
        return vocabulary.classify(self.status)


@dataclass(frozen=True)
class Balance:
    balance: Decimal
    currency: str


def json_of(response: httpx.Response, *, ambiguous: bool, license_key: str, hide: tuple[str, ...] = ()) -> Any:
    """The JSON of a 2xx answer; any other answer raises the matching LengoError.

    `ambiguous`: the request may have changed something (a create), so a lost
    answer is LengoOutcomeUnknown rather than LengoUnavailable.
    """
    status = response.status_code
    try:
        payload: Any = jsonutil.loads(response.content)
    except jsonutil.JsonError:
        payload = None
    if 200 <= status < 300:
        if payload is None:
            raise LengoProtocolError(f"Lengo answered HTTP {status} without JSON", http_status=status)
        return payload
    if status in (401, 403):
        raise LengoUnauthorized(http_status=status)
    message = safe_message_of(payload, license_key, hide)
    if status == 404 and message is None:
        # Lengo's unknown routes answer an HTML page: a wrong base URL or a
        # moved endpoint, not a refusal of this request.
        raise LengoUnavailable("Lengo answered HTTP 404 (no such endpoint; check the base URL)", http_status=status)
    if status in (408, 429):
        # Turned away before being processed: nothing happened, asking again is safe.
        raise LengoUnavailable(f"Lengo answered HTTP {status}", http_status=status)
    if 400 <= status < 500:
        raise LengoRefused(message, http_status=status)
    if status >= 500:
        if ambiguous:
            raise LengoOutcomeUnknown(
                f"Lengo answered HTTP {status}; the payment may or may not have been created", http_status=status
            )
        raise LengoUnavailable(f"Lengo answered HTTP {status}", http_status=status)
    # 1xx or 3xx: redirects are not followed, since they would carry the key elsewhere.
    raise LengoProtocolError(f"Lengo answered HTTP {status}", http_status=status)


def safe_message_of(payload: Any, license_key: str, hide: tuple[str, ...] = ()) -> str | None:
    """Lengo's error text, made safe to show: one short line, never the key, nor what `hide` holds (a payer's number)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), str):
        return None
    text = CONTROL_CHARS.sub(" ", payload["message"]).strip()
    text = text.replace(license_key, "[redacted]")
    for value in hide:
        if value:
            text = text.replace(value, "••••" + value[-4:])
    return text[:MAX_MESSAGE_CHARS] or None


def read_created(payload: Any) -> CreatedPayment:
    # A 200 without these may well hide a payment; like every protocol error
    # it is not retried.
    pay_id = payload.get("pay_id") if isinstance(payload, dict) else None
    payment_url = payload.get("payment_url") if isinstance(payload, dict) else None
    if not isinstance(pay_id, str) or not pay_id:
        raise LengoProtocolError("Lengo confirmed the payment without a pay_id")
    if not isinstance(payment_url, str) or not payment_url:
        raise LengoProtocolError("Lengo confirmed the payment without a payment_url")
    try:
        # The shopper is sent there: only an absolute http(s) URL will do.
        check_url(payment_url)
    except UnsafeUrl:
        raise LengoProtocolError("Lengo answered a payment_url that is not an http(s) URL") from None
    return CreatedPayment(pay_id, payment_url)


def read_status(payload: Any, pay_id: str) -> PaymentStatus:
    if not isinstance(payload, dict):
        raise LengoProtocolError("Lengo answered a status that is not a JSON object")
    status = payload.get("status")
    if not isinstance(status, str) or not status.strip():
        raise LengoProtocolError("Lengo answered a status without a status")
    answered = payload.get("pay_id")
    # str equality is exact: a decoded, re-padded or "+"-to-space mangled id
    # is another payment as far as we can know.
    if answered is not None and answered != pay_id:
        raise LengoProtocolError(f"Lengo answered about another payment than {pay_id}")
    return PaymentStatus(
        status=status,
        pay_id=pay_id,
        amount=_status_amount(payload.get("amount")),
        date=_optional_text(payload.get("date")),
        gateway=_optional_text(payload.get("gateway")),
        account=vocabulary.payer_number(payload.get("account")),
    )


def read_balance(payload: Any) -> Balance:
    if not isinstance(payload, dict):
        raise LengoProtocolError("Lengo answered a balance that is not a JSON object")
    value = _optional_amount(payload.get("balance"))
    currency = payload.get("currency")
    if value is None or not isinstance(currency, str) or not currency:
        raise LengoProtocolError("Lengo answered a balance without an amount or a currency")
    return Balance(value, currency)


def shown(text: str, limit: int = 40) -> str:
    """A value from Lengo, fit for one log line."""
    return CONTROL_CHARS.sub(" ", text)[:limit]


def _optional_amount(value: Any) -> Decimal | None:
    """A JSON number (int or Decimal, never float) or a numeric string, exactly."""
    if value is None:
        return None
    try:
        return read_amount(value)
    except AmountError as exc:
        raise LengoProtocolError(f"Lengo answered an amount that is {exc.reason}") from None


def _status_amount(value: Any) -> Decimal | Unholdable | None:
    """A status's amount; one that cannot be read is kept as such (the payment may be paid all the same)."""
    if value is None:
        return None
    try:
        return read_amount(value)
    except AmountError as exc:
        return Unholdable.of(exc)


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
