"""Webhook bodies parsed once into small trusted types.

Bodies were parsed by `jsonutil`, so amounts arrive exact (`176500.0` is
Decimal("176500.0"), `22.38` stays 22.38) and are then read by
`money.read_amount`. An amount the app cannot hold (`1e30`, `1e999`, more
decimals than any currency) is kept as `Unholdable`, for the handler to give
its normal refusal; one that is no number at all is a PayloadError.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from saleor_lengo.money import AmountError, Problem, Unholdable, read_amount


class PayloadError(ValueError):
    """The verified body lacks something the handler needs."""


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object")
    return value


# Longer than any identifier Saleor sends, and within every column that stores one.
MAX_TEXT = 255


def _str(value: Any, where: str, *, optional: bool = False, max_len: int = MAX_TEXT) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string")
    if len(value) > max_len:
        raise PayloadError(f"{where} is longer than {max_len} characters")
    return value


def _issued_at(body: dict[str, Any]) -> str:
    """Saleor's ISO timestamp; it keys the idempotency of action answers, so it must be a short string."""
    return _str(body.get("issuedAt") or "", "issuedAt", max_len=64) or ""


def _amount(value: Any, where: str) -> Decimal | Unholdable:
    try:
        return read_amount(value)
    except AmountError as exc:
        if exc.problem == Problem.NOT_A_NUMBER:
            raise PayloadError(f"{where} must be a number") from None
        return Unholdable.of(exc)


@dataclass(frozen=True)
class Channel:
    id: str | None
    slug: str | None
    currency: str | None

    @classmethod
    def parse(cls, value: Any) -> Channel:
        if not isinstance(value, dict):
            return cls(None, None, None)
        return cls(
            _str(value.get("id"), "channel.id", optional=True),
            _str(value.get("slug"), "channel.slug", optional=True),
            _str(value.get("currencyCode"), "channel.currencyCode", optional=True),
        )


@dataclass(frozen=True)
class SourceObject:
    type: str | None  # "Checkout" | "Order"
    id: str | None
    channel: Channel

    @classmethod
    def parse(cls, value: Any) -> SourceObject:
        if not isinstance(value, dict):
            return cls(None, None, Channel(None, None, None))
        return cls(
            _str(value.get("__typename"), "sourceObject.__typename", optional=True),
            _str(value.get("id"), "sourceObject.id", optional=True),
            Channel.parse(value.get("channel")),
        )


@dataclass(frozen=True)
class Action:
    amount: Decimal | Unholdable
    currency: str
    action_type: str

    @classmethod
    def parse(cls, value: Any) -> Action:
        action = _dict(value, "action")
        currency = _str(action.get("currency"), "action.currency")
        assert currency is not None
        return cls(
            _amount(action.get("amount"), "action.amount"),
            currency,
            str(action.get("actionType") or "CHARGE"),
        )


@dataclass(frozen=True)
class Transaction:
    id: str
    psp_reference: str

    @classmethod
    def parse(cls, value: Any) -> Transaction:
        tx = _dict(value, "transaction")
        tx_id = _str(tx.get("id"), "transaction.id")
        assert tx_id is not None
        return cls(tx_id, _str(tx.get("pspReference") or "", "transaction.pspReference", max_len=512) or "")


@dataclass(frozen=True)
class GatewayInitialize:
    source: SourceObject
    amount: Decimal | Unholdable | None
    data: Any

    @classmethod
    def parse(cls, body: dict[str, Any]) -> GatewayInitialize:
        raw = body.get("amount")
        return cls(
            SourceObject.parse(body.get("sourceObject")),
            None if raw is None else _amount(raw, "amount"),
            body.get("data"),
        )


@dataclass(frozen=True)
class Session:
    """TRANSACTION_INITIALIZE_SESSION and TRANSACTION_PROCESS_SESSION."""

    issued_at: str
    transaction: Transaction
    action: Action
    source: SourceObject
    data: Any
    idempotency_key: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Session:
        return cls(
            _issued_at(body),
            Transaction.parse(body.get("transaction")),
            Action.parse(body.get("action")),
            SourceObject.parse(body.get("sourceObject")),
            body.get("data"),
            _str(body.get("idempotencyKey"), "idempotencyKey", optional=True, max_len=512),
        )


@dataclass(frozen=True)
class ActionRequest:
    """TRANSACTION_CHARGE/REFUND/CANCELATION_REQUESTED."""

    issued_at: str
    transaction: Transaction
    action: Action
    source: SourceObject
    granted_refund_id: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ActionRequest:
        tx = _dict(body.get("transaction"), "transaction")
        source_raw = tx.get("order") or tx.get("checkout")
        source = SourceObject.parse(source_raw)
        if isinstance(source_raw, dict) and source.type is None:
            source = SourceObject("Order" if tx.get("order") else "Checkout", source.id, source.channel)
        granted = body.get("grantedRefund")
        return cls(
            _issued_at(body),
            Transaction.parse(tx),
            Action.parse(body.get("action")),
            source,
            _str(granted.get("id"), "grantedRefund.id", optional=True) if isinstance(granted, dict) else None,
        )
