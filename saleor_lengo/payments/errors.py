"""The error codes storefronts see, and the one text each shows to shoppers.

These codes are a contract with storefront developers (see the README):
`PAYMENT_GATEWAY_INITIALIZE_SESSION` answers them in `data.error`, and so
does a failed `TRANSACTION_INITIALIZE_SESSION`. The `message` beside a code
is safe for a shopper's eyes; what staff need to act on goes in the sync
answer's top-level `message` instead, which Saleor shows in the Dashboard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from saleor_lengo.words import Text


class ErrorCode(StrEnum):
    NOT_CONFIGURED = "NOT_CONFIGURED"
    CURRENCY_NOT_SUPPORTED = "CURRENCY_NOT_SUPPORTED"
    AMOUNT_NOT_WHOLE = "AMOUNT_NOT_WHOLE"
    AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
    RETURN_URL_NOT_ALLOWED = "RETURN_URL_NOT_ALLOWED"
    LENGO_REFUSED = "LENGO_REFUSED"
    LENGO_UNAVAILABLE = "LENGO_UNAVAILABLE"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"


# Fixed texts for what Lengo did: no Lengo wording reaches a shopper.
_SHOPPER_TEXT: dict[ErrorCode, str] = {
    ErrorCode.NOT_CONFIGURED: "Lengo Pay is not available for this shop.",
    ErrorCode.RETURN_URL_NOT_ALLOWED: "This shop is not allowed to send shoppers back to this return URL.",
    ErrorCode.LENGO_REFUSED: "Lengo Pay refused this payment. Please choose another payment method.",
    ErrorCode.LENGO_UNAVAILABLE: "Lengo Pay cannot be reached right now. Please try again in a few minutes.",
    ErrorCode.OUTCOME_UNKNOWN: "Lengo Pay did not confirm the payment page. Please start the payment again.",
}


@dataclass(frozen=True)
class Refusal:
    """Why a payment cannot start: a code and text for the shopper, a text for staff."""

    code: ErrorCode
    shopper_message: str
    # Words, so Saleor shows them in the shop's language (saleor/messages.py); plain text from outside stays as is.
    staff: Text

    @classmethod
    def of(cls, code: ErrorCode, staff: Text, shopper_message: str | None = None) -> Refusal:
        return cls(code, shopper_message or _SHOPPER_TEXT.get(code, str(staff)), staff)

    @property
    def staff_message(self) -> str:
        return str(self.staff)

    def error(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.shopper_message}

    def as_reason(self) -> str:
        """How the refusal is kept in `payments.failure_reason`, so a repeat can answer it again."""
        return f"[{self.code.value}] {self.staff_message}"


_REASON = re.compile(r"\[([A-Z_]+)\] (.*)", re.DOTALL)


def from_reason(reason: str | None) -> Refusal | None:
    """The refusal that `as_reason` stored; None for a reason written by someone else."""
    match = _REASON.fullmatch(reason or "")
    if match is None:
        return None
    try:
        code = ErrorCode(match.group(1))
    except ValueError:
        return None
    return Refusal.of(code, match.group(2))
