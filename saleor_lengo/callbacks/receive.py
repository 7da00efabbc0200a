"""Reading a Lengo callback and recording it, before anything else happens.

Lengo POSTs JSON (`pay_id`, `status`, `amount`, `message`, `Client`);
the same fields as form data are accepted too, defensively.

Order of checks, and why:
1. The token: an unknown one is answered 404 whatever the body, so a probe
   learns nothing (the route answers it with an empty body).
2. The body. A body that cannot be read (neither a JSON object nor form
   fields, no `pay_id` or `status`, an `amount` that is not a number
   within `money.read_amount`'s bounds) is
   answered 400 with a short reason — but when the token is valid it is
   still recorded first, with outcome `malformed`, the reason and whatever
   envelope we have (content type, address): the token proves the sender
   knows this payment, so the merchant's audit trail must show the attempt.
   It is never confirmed: the reconciler watches open payments anyway.
3. The `pay_id`, compared byte for byte with the stored one. A different one
   is recorded (`mismatch`), logged as suspicious and answered 400. None
   stored yet (the callback beat Lengo's answer to the create) → recorded as
   `waiting_pay_id`, answered 200, confirmed once the pay_id is known.

The payer's phone (`Client`) is stored encrypted (a refund by payout will
need it) plus a masked copy for display; it is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import parse_qsl

from saleor_lengo import jsonutil
from saleor_lengo.callbacks import gate, kept

# The outcomes of a row (see the package docstring), importable from here as before.
from saleor_lengo.callbacks.outcomes import (
    ABANDONED as ABANDONED,
    CONFIRMED as CONFIRMED,
    DUPLICATE as DUPLICATE,
    IGNORED as IGNORED,
    MALFORMED as MALFORMED,
    MISMATCH as MISMATCH,
    RECORDED as RECORDED,
    UNCONFIRMED as UNCONFIRMED,
    WAITING_PAY_ID as WAITING_PAY_ID,
)
from saleor_lengo.crypto import Cipher, mask, token_digest
from saleor_lengo.db.engine import Tx
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import callbacks
from saleor_lengo.lengo import vocabulary
from saleor_lengo.logs import get_logger
from saleor_lengo.money import AmountError, read_amount
from saleor_lengo.payments import store
from saleor_lengo.payments.model import State
from saleor_lengo.needs import HasClock, HasCipher, HasLeases, HasCallbackQueue, HasCallbackWrites


class Needs(HasClock, HasCipher, HasLeases, HasCallbackQueue, HasCallbackWrites, Protocol):
    """What recording a callback uses."""


log = get_logger(__name__)

# How often a callback waiting for its pay_id is looked at again by the loop
# (the checkout code normally wakes it at once with `confirm_waiting_callbacks`).
WAITING_RECHECK_SECONDS = 30.0

MAX_TOKEN_CHARS = 256
MAX_PAY_ID_CHARS = 512
MAX_STATUS_CHARS = 64
MAX_MESSAGE_CHARS = 1000
MAX_CLIENT_CHARS = 64
MAX_FORM_FIELDS = 32

_INSERT = prepared(callbacks.insert())  # built once; the values come with each execution


class UnknownToken(Exception):
    """No payment has this callback token."""


class MalformedCallback(ValueError):
    """The body cannot be read as a callback; `reason` is short and safe to answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CallbackRejected(Exception):
    """Recorded for the audit trail, but refused (answered 400): malformed or another pay_id."""

    def __init__(self, reason: str, *, callback_id: int, outcome: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.callback_id = callback_id
        self.outcome = outcome


@dataclass(frozen=True)
class CallbackBody:
    pay_id: str
    status: str
    amount: Decimal | None
    message: str | None
    client: str | None = None

    def __repr__(self) -> str:  # the payer's phone stays out of reprs and tracebacks
        return f"CallbackBody(pay_id={self.pay_id!r}, status={self.status!r}, amount={self.amount!r})"


@dataclass(frozen=True)
class Receipt:
    callback_id: int
    payment_id: str
    outcome: str  # RECORDED (confirm it now) or WAITING_PAY_ID
    # When its payment's next check may start: this callback waits for it (gate.py).
    deferred_until: float | None = None

    @property
    def needs_confirmation(self) -> bool:
        """Confirm it now: recorded, and (when the caller asked to confirm now) its payment's gate claimed."""
        return self.outcome == RECORDED and self.deferred_until is None


def parse(raw: bytes) -> CallbackBody:
    """The callback's fields from a JSON or form-encoded body; MalformedCallback otherwise.

    The format is sniffed, not taken from Content-Type (which senders get
    wrong, and which is only recorded): a body starting with `{` or `[` is
    JSON, anything else form data.
    """
    if raw.lstrip()[:1] in (b"{", b"["):
        return _fields(_json_fields(raw), form=False)
    return _fields(_form_fields(raw), form=True)


def _json_fields(raw: bytes) -> dict[str, Any]:
    try:
        body = jsonutil.loads(raw)
    except jsonutil.JsonError:
        raise MalformedCallback("body is neither JSON nor form data") from None
    if not isinstance(body, dict):
        raise MalformedCallback("body must be a JSON object")
    return body


def _form_fields(raw: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise MalformedCallback("body is neither JSON nor form data") from None
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:  # as jsonutil refuses it in JSON: no column can store it
            raise MalformedCallback("NUL character in the form data")
        if name in fields:
            raise MalformedCallback(f"field {name[:32]!r} is given twice")
        fields[name] = value
    return fields


def _fields(body: dict[str, Any], *, form: bool) -> CallbackBody:
    pay_id = body.get("pay_id")
    if not isinstance(pay_id, str) or not pay_id.strip():
        raise MalformedCallback("pay_id is missing")
    if form:
        # A pay_id is base64 and never holds a space: a space here is a "+"
        # that the sender forgot to percent-encode, which form decoding turned
        # into a space. Put it back, or the byte-for-byte comparison fails.
        pay_id = pay_id.replace(" ", "+")
    if len(pay_id) > MAX_PAY_ID_CHARS:
        raise MalformedCallback("pay_id is too long")
    status = body.get("status")
    if not isinstance(status, str) or not status.strip():
        raise MalformedCallback("status is missing")
    if len(status) > MAX_STATUS_CHARS:
        raise MalformedCallback("status is too long")
    amount: Decimal | None = None
    raw_amount = body.get("amount")
    if raw_amount is not None and raw_amount != "":
        try:
            amount = read_amount(raw_amount)
        except AmountError as exc:
            # Bounded before anything is built from it (the row keeps its text).
            raise MalformedCallback(f"amount is {exc.reason}"[:100]) from None
    message = body.get("message")
    client = body.get(vocabulary.CALLBACK_CLIENT_FIELD, body.get(vocabulary.CALLBACK_CLIENT_FIELD.lower()))
    if isinstance(client, int) and not isinstance(client, bool):
        client = str(client)  # a phone sent as a JSON number
    phone = client.strip()[:MAX_CLIENT_CHARS] if isinstance(client, str) else ""
    return CallbackBody(
        pay_id=pay_id,
        status=status.strip(),
        amount=amount,
        message=message[:MAX_MESSAGE_CHARS] if isinstance(message, str) else None,
        client=phone or None,
    )


async def record(
    deps: Needs,
    token: str,
    raw: bytes,
    *,
    content_type: str | None,
    remote_addr: str | None,
    confirm_now: bool = True,
) -> Receipt:
    """Find the token's payment and record the callback, committed before this returns.

    On SQLite, callbacks arriving together share the transaction (`db/grouped.py`).

    `confirm_now`: the caller confirms it at once (the row, and its payment's
    gate, are claimed for that) — unless the gate is closed: then the row is
    due when it reopens (`Receipt.deferred_until`); otherwise it is due at
    once for the confirmer loop.

    Raises UnknownToken (→ 404), CallbackRejected once a malformed or
    mismatched callback is recorded (→ 400); a database error propagates
    (→ 503, so Lengo retries).
    """
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise UnknownToken
    digest = token_digest(token)
    body: CallbackBody | None
    problem: str | None = None
    try:
        body = parse(raw)
    except MalformedCallback as exc:
        body, problem = None, exc.reason
    now = deps.clock()
    # A row confirmed at once is leased to this process (db/leases.py): should
    # it die, another process's loop takes the row over within seconds.
    owner = await deps.leases.ensure() if confirm_now else None

    async def insert(conn: Tx) -> tuple[int, str, str | None, str, float | None]:
        # The row lock orders this insert with the checkout storing the
        # pay_id: either we see the pay_id, or our waiting row is committed
        # before the checkout looks for waiting callbacks.
        target = await store.callback_target(conn, digest)
        if target is None:
            raise UnknownToken
        payment_id, stored_pay_id = target.id, target.pay_id
        values = _row(deps.cipher, body, problem, stored_pay_id, now, owner, deps.leases.until(now))
        deferred: float | None = None
        # A succeeded payment's callbacks are settled without asking Lengo: no gate for them.
        if values["outcome"] == RECORDED and confirm_now and target.state != State.SUCCEEDED:
            # The payment's gate (gate.py), decided under the row lock taken
            # anyway: claimed for the caller's confirmation, or this callback
            # waits for the next check, without a transaction of its own either way.
            in_flight = payment_id in deps.callback_queue.checks_in_flight
            deferred = gate.reopens_at(target.callback_check_at, now, in_flight=in_flight)
            if deferred is None:
                await store.update_fields(conn, payment_id, callback_check_at=now)
            else:
                # Not confirmed now: no lease, so the loop takes it when the gate reopens.
                values.update(next_attempt_at=deferred, lease_owner=None, lease_until=None)
        values.update(
            payment_id=payment_id,
            received_at=now,
            content_type=(content_type or "")[:255] or None,
            remote_addr=(remote_addr or "")[:64] or None,
            attempts=0,
        )
        result = await conn.execute(_INSERT, values)
        if values["outcome"] in (MALFORMED, MISMATCH):  # final at once: kept only within the cap
            await kept.trim(conn, payment_id)
        callback_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return callback_id, payment_id, stored_pay_id, values["outcome"], deferred

    # In a burst, callbacks recorded together share one transaction (db/grouped.py).
    callback_id, payment_id, stored_pay_id, outcome, deferred = await deps.callback_writes.run(insert)
    fields = {"callback_id": callback_id, "payment_id": payment_id, "outcome": outcome}
    if outcome == MALFORMED:
        log.warning("callback_malformed", reason=problem, remote_addr=remote_addr, **fields)
        raise CallbackRejected(problem or "malformed", callback_id=callback_id, outcome=outcome)
    assert body is not None
    if outcome == MISMATCH:
        log.warning(
            "callback_suspicious",
            reason="pay_id mismatch",
            received_pay_id=body.pay_id[:64],
            stored_pay_id=stored_pay_id,
            remote_addr=remote_addr,
            **fields,
        )
        raise CallbackRejected("pay_id does not match this payment", callback_id=callback_id, outcome=outcome)
    log.info("callback_recorded", lengo_status=body.status, pay_id=body.pay_id, deferred_until=deferred, **fields)
    return Receipt(callback_id, payment_id, outcome, deferred)


def _row(
    cipher: Cipher, body: CallbackBody | None, problem: str | None, stored_pay_id: str | None, now: float,
    owner: str | None, lease_until: float,
) -> dict[str, Any]:
    """What a callback row says, given the payment's pay_id as stored when it is recorded."""
    if body is None:
        return {"outcome": MALFORMED, "last_error": problem, "processed_at": now}
    values: dict[str, Any] = {
        "pay_id": body.pay_id,
        "status": body.status,
        "amount": format(body.amount, "f") if body.amount is not None else None,  # bounded by read_amount
        "message": body.message,
        "client_enc": cipher.encrypt(body.client) if body.client else None,
        "client_masked": mask(body.client) if body.client else None,
    }
    if stored_pay_id is None:
        values.update(outcome=WAITING_PAY_ID, next_attempt_at=now + WAITING_RECHECK_SECONDS)
    elif body.pay_id != stored_pay_id:
        values.update(outcome=MISMATCH, processed_at=now, last_error="pay_id differs from the payment's pay_id")
    else:
        values.update(outcome=RECORDED, next_attempt_at=now)
        if owner is not None:
            values.update(lease_owner=owner, lease_until=lease_until)
    return values
