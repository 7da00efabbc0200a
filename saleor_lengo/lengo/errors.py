"""What can go wrong when talking to Lengo, as one exception tree.

    LengoError                  base; `safe_message`, `retryable`, `http_status`
    ├── LengoRefused            Lengo refused the request (HTTP 400 and other 4xx):
    │                           `message` is Lengo's own text, e.g. "Unsupported amount"
    ├── LengoUnauthorized       the license key was refused (HTTP 401/403)
    ├── LengoUnavailable        no usable answer (network error, timeout, 5xx, 429,
    │                           HTML 404) where asking again is safe — retryable
    ├── LengoOutcomeUnknown     no usable answer to a *create*: the payment may or may
    │                           not exist, and there is no idempotency key — never retried
    └── LengoProtocolError      an answer we cannot use (200 without `pay_id`, a
                                status for another `pay_id`, a redirect, ...)

`safe_message` may be shown to staff and shoppers and written to logs: it
never contains the license key, the payer's phone or a raw response body,
only short texts built here plus Lengo's own (truncated) error message.

Whether an error is worth a retry is part of its type (`retryable`), so
callers never have to guess from a status code.
"""

from __future__ import annotations

from typing import ClassVar, Literal

# How a call ended, as recorded in the audit log (`LengoCall.outcome`).
CallOutcome = Literal["ok", "refused", "unauthorized", "unavailable", "outcome_unknown", "protocol_error"]


class LengoError(Exception):
    """Any failure of a call to Lengo."""

    retryable: ClassVar[bool] = False
    outcome: ClassVar[CallOutcome] = "protocol_error"

    def __init__(self, safe_message: str, *, http_status: int | None = None) -> None:
        super().__init__(safe_message)
        self.safe_message = safe_message
        self.http_status = http_status


# What a credentials check tells the person who typed the URL when it got no
# usable answer, whatever the reason: refused, timed out, unreachable, an
# answer that is not Lengo's. The same words for all, so the check cannot be
# used to probe which ports answer at an address, nor to read their answers.
NO_USABLE_ANSWER = "no usable answer from that URL"


class LengoRefused(LengoError):
    """Lengo understood the request and said no; sending it again will not help."""

    outcome: ClassVar[CallOutcome] = "refused"

    def __init__(self, message: str | None, *, http_status: int | None = 400) -> None:
        # `message` is Lengo's text (e.g. "Missing body fields"), or None when
        # the refusal came without one.
        self.message = message
        reason = message if message else f"HTTP {http_status}"
        super().__init__(f"Lengo refused the request: {reason}", http_status=http_status)


class LengoUnauthorized(LengoError):
    """The license key is wrong, revoked or missing: a configuration problem."""

    outcome: ClassVar[CallOutcome] = "unauthorized"

    def __init__(self, *, http_status: int | None = 401) -> None:
        super().__init__(
            f"Lengo refused the license key (HTTP {http_status}); check the configuration",
            http_status=http_status,
        )


class LengoUnavailable(LengoError):
    """Lengo gave no usable answer, and nothing was changed by asking: try again later."""

    retryable: ClassVar[bool] = True
    outcome: ClassVar[CallOutcome] = "unavailable"


class LengoOutcomeUnknown(LengoError):
    """A create got no usable answer: a payment may exist on Lengo's side.

    Not retryable, because Lengo has no idempotency key and a second create
    makes a second payment. Its link never reached anyone, so it cannot be
    paid; the caller reports the attempt as failed and lets the shopper start
    over.
    """

    outcome: ClassVar[CallOutcome] = "outcome_unknown"


class LengoProtocolError(LengoError):
    """Lengo answered, but not with anything we can rely on."""

    outcome: ClassVar[CallOutcome] = "protocol_error"
