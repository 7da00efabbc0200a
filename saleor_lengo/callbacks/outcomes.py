"""The outcomes of a callback row (their life is in the package docstring)."""

from __future__ import annotations

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

# Still to be confirmed: every other outcome is final.
OPEN = (RECORDED, WAITING_PAY_ID)
