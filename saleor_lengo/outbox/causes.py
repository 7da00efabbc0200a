"""Why an event went to the dead letters, in a word the Dashboard page can explain, and whether sending
it again can help.

Read from the reason the relay stored (`relay.py`'s `Dead(...)` texts and
Saleor's error codes): the page shows the merchant words and keeps the
technical text one click away, and warns before a retry that cannot work.
"""

from __future__ import annotations

from enum import StrEnum


class Cause(StrEnum):
    PERMISSION = "PERMISSION"  # the app lost HANDLE_PAYMENTS (or its token): fixable in Saleor
    TRANSACTION_NOT_FOUND = "TRANSACTION_NOT_FOUND"  # the transaction is gone from Saleor
    REJECTED = "REJECTED"  # Saleor refuses the event's content as it is
    NOT_INSTALLED = "NOT_INSTALLED"  # this installation was removed
    SECRET_KEY = "SECRET_KEY"  # the stored token cannot be decrypted: the operator's SECRET_KEY
    UNKNOWN = "UNKNOWN"


# Sending these again sends the same thing to the same refusal.
FAILS_AGAIN = frozenset({Cause.TRANSACTION_NOT_FOUND, Cause.REJECTED, Cause.NOT_INSTALLED})


def cause_of(last_error: str | None) -> Cause:
    text = last_error or ""
    if text.startswith("permission denied"):
        return Cause.PERMISSION
    if text.startswith("the app is no longer installed"):
        return Cause.NOT_INSTALLED
    if text.startswith("the app token cannot be decrypted"):
        return Cause.SECRET_KEY
    if text.startswith("NOT_FOUND"):
        return Cause.TRANSACTION_NOT_FOUND
    if text.startswith(("INCORRECT_DETAILS", "INVALID", "REQUIRED")):
        return Cause.REJECTED
    return Cause.UNKNOWN


def fails_again(cause: Cause) -> bool:
    return cause in FAILS_AGAIN
