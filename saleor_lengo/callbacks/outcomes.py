"""The outcomes of a callback row (their life is in the package docstring)."""

from __future__ import annotations

from enum import StrEnum


class CallbackOutcome(StrEnum):
    """What became of one callback; stored as its value in `callbacks.outcome`."""

    RECORDED = "recorded"
    WAITING_PAY_ID = "waiting_pay_id"
    CONFIRMED = "confirmed"
    UNCONFIRMED = "unconfirmed"
    IGNORED = "ignored"
    # A late copy: the payment had already succeeded, so it confirms what is known (not an error).
    DUPLICATE = "duplicate"
    ABANDONED = "abandoned"
    MISMATCH = "mismatch"
    MALFORMED = "malformed"


# The names the confirmation code reads as words.
RECORDED = CallbackOutcome.RECORDED
WAITING_PAY_ID = CallbackOutcome.WAITING_PAY_ID
CONFIRMED = CallbackOutcome.CONFIRMED
UNCONFIRMED = CallbackOutcome.UNCONFIRMED
IGNORED = CallbackOutcome.IGNORED
DUPLICATE = CallbackOutcome.DUPLICATE
ABANDONED = CallbackOutcome.ABANDONED
MISMATCH = CallbackOutcome.MISMATCH
MALFORMED = CallbackOutcome.MALFORMED

# Still to be confirmed: every other outcome is final.
OPEN = (RECORDED, WAITING_PAY_ID)
