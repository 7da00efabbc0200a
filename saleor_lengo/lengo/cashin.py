"""Lengo's cash-in answers (payouts from the merchant's balance), read defensively into small types.

API.md documents the cash-in request, its status and its history, but not
their every field's type: `account` is a JSON number in the doc's example
and a string in the request, `amount` a number, `date` a text whose time
zone is not stated. Whatever cannot be read is `None` (an entry of the
history that cannot be read is left out); an answer without what it must
carry (a pay_id, a status) is a `LengoProtocolError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from saleor_lengo.lengo import vocabulary
from saleor_lengo.lengo.errors import LengoProtocolError
from saleor_lengo.money import AmountError, read_amount

# The history's size is not documented; more entries than this are not read.
MAX_HISTORY_ENTRIES = 5000
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class CashinRequested:
    """Lengo accepted a cash-in: its pay_id is what its status is asked with."""

    pay_id: str


@dataclass(frozen=True)
class Cashin:
    """One cash-in as its status or the history tells it."""

    pay_id: str
    status: str  # Lengo's word, unchanged; `outcome` says what it means
    amount: Decimal | None
    account: str | None = field(repr=False)  # the payer's number: personal data
    date: datetime | None  # read as UTC (Guinea's time zone is GMT; Lengo states none)

    @property
    def outcome(self) -> vocabulary.Outcome:
        return vocabulary.classify(self.status)


def read_requested(payload: Any) -> CashinRequested:
    if not isinstance(payload, dict):
        raise LengoProtocolError("Lengo answered a cash-in request that is not a JSON object")
    pay_id = payload.get("pay_id")
    status = payload.get("status")
    if isinstance(status, str) and status.strip().upper() == vocabulary.ANSWER_ERROR:
        # A 200 saying ERROR: refused like a 400 would be, but this is not documented.
        raise LengoProtocolError("Lengo answered the cash-in request with status ERROR and HTTP 200")
    if not isinstance(pay_id, str) or not pay_id.strip():
        raise LengoProtocolError("Lengo accepted the cash-in without a pay_id")
    return CashinRequested(pay_id)


def read_status(payload: Any, pay_id: str) -> Cashin:
    if not isinstance(payload, dict):
        raise LengoProtocolError("Lengo answered a cash-in status that is not a JSON object")
    found = _entry(payload)
    if found is None:
        raise LengoProtocolError("Lengo answered a cash-in status without a status")
    if found.pay_id and found.pay_id != pay_id:
        raise LengoProtocolError(f"Lengo answered about another cash-in than {pay_id}")
    return Cashin(pay_id, found.status, found.amount, found.account, found.date)


def read_history(payload: Any) -> list[Cashin]:
    """The history's entries that can be read; a list is documented, `{"data": [...]}` is accepted too."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        payload = payload["data"]
    if not isinstance(payload, list):
        raise LengoProtocolError("Lengo answered a cash-in history that is not a list")
    entries = []
    for raw in payload[:MAX_HISTORY_ENTRIES]:
        entry = _entry(raw) if isinstance(raw, dict) else None
        if entry is not None and entry.pay_id:
            entries.append(entry)
    return entries


def _entry(raw: dict[str, Any]) -> Cashin | None:
    status = raw.get("status")
    if not isinstance(status, str) or not status.strip():
        return None
    pay_id = raw.get("pay_id")
    return Cashin(
        pay_id=pay_id if isinstance(pay_id, str) else "",
        status=status.strip()[:64],
        amount=_amount(raw.get("amount")),
        account=vocabulary.payer_number(raw.get("account")),
        date=_date(raw.get("date")),
    )


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return read_amount(value)
    except AmountError:
        return None


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return datetime.strptime(value.strip(), DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
