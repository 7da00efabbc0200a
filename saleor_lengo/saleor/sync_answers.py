"""What Saleor reads in a sync webhook's answer: one small class per result kind.

Handlers and flows return these; the route writes `to_json()` with
`jsonutil` (amounts are Decimals, written as they are quantized). Each
class knows its `result` and which fields Saleor's schema for it allows;
a field left `None` is left out, so Saleor keeps what it had. Amounts are
what the caller decided (quantized or echoed), never converted here.

Sessions (TRANSACTION_INITIALIZE_SESSION, TRANSACTION_PROCESS_SESSION):
`ChargeSuccess`, `ChargeActionRequired`, `ChargeFailure`.
Action requests (TRANSACTION_CHARGE/REFUND/CANCELATION_REQUESTED):
`ChargeRequestFailure`, `RefundFailure`, `CancelSuccess`, `CancelFailure`,
`PayoutAccepted` (answered later); each is stored, and the first answer
and every repeat are served as `StoredAnswer` (flows/actions.py).
PAYMENT_GATEWAY_INITIALIZE_SESSION: `GatewayAvailability`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Literal, Protocol


class SyncAnswer(Protocol):
    def to_json(self) -> dict[str, Any]: ...


JsonObject = Mapping[str, Any]


def _method(name: str | None) -> dict[str, str] | None:
    return {"type": "OTHER", "name": name} if name is not None else None


def _present(fields: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: value for key, value in fields if value is not None}


# --- PAYMENT_GATEWAY_INITIALIZE_SESSION -------------------------------------


@dataclass(frozen=True)
class GatewayAvailability:
    available: bool
    environment: str | None
    currencies: tuple[str, ...]
    min_amount: Decimal | None
    max_amount: Decimal | None
    error: JsonObject | None

    def to_json(self) -> dict[str, Any]:
        return {
            "data": {
                "available": self.available,
                "environment": self.environment,
                "currencies": list(self.currencies),
                "minAmount": self.min_amount,
                "maxAmount": self.max_amount,
                "error": dict(self.error) if self.error is not None else None,
            }
        }


# --- Sessions ------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeSuccess:
    psp_reference: str
    amount: Decimal
    message: str
    actions: tuple[str, ...]
    external_url: str | None = None
    method_name: str | None = None  # paymentMethodDetails, of type OTHER

    def to_json(self) -> dict[str, Any]:
        return _present([
            ("result", "CHARGE_SUCCESS"),
            ("pspReference", self.psp_reference),
            ("amount", self.amount),
            ("message", self.message),
            ("actions", list(self.actions)),
            ("externalUrl", self.external_url),
            ("paymentMethodDetails", _method(self.method_name)),
        ])


@dataclass(frozen=True)
class ChargeActionRequired:
    message: str
    psp_reference: str | None = None
    amount: Decimal | None = None
    data: JsonObject | None = None
    external_url: str | None = None
    actions: tuple[str, ...] | None = None
    method_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _present([
            ("result", "CHARGE_ACTION_REQUIRED"),
            ("pspReference", self.psp_reference),
            ("amount", self.amount),
            ("data", dict(self.data) if self.data is not None else None),
            ("externalUrl", self.external_url),
            ("message", self.message),
            ("actions", list(self.actions) if self.actions is not None else None),
            ("paymentMethodDetails", _method(self.method_name)),
        ])


@dataclass(frozen=True)
class ChargeFailure:
    message: str
    actions: tuple[str, ...]
    amount: Decimal | None = None
    psp_reference: str | None = None
    external_url: str | None = None
    data: JsonObject | None = None

    def to_json(self) -> dict[str, Any]:
        return _present([
            ("result", "CHARGE_FAILURE"),
            ("amount", self.amount),
            ("pspReference", self.psp_reference),
            ("externalUrl", self.external_url),
            ("message", self.message),
            ("data", dict(self.data) if self.data is not None else None),
            ("actions", list(self.actions)),
        ])


# --- Action requests -------------------------------------------------------------


ActionResultKind = Literal["CHARGE_FAILURE", "REFUND_FAILURE", "CANCEL_SUCCESS", "CANCEL_FAILURE"]


@dataclass(frozen=True)
class ActionResult:
    """A request settled now: its own pspReference, the requested amount echoed (None: left out)."""

    RESULT: ClassVar[ActionResultKind]
    psp_reference: str
    message: str
    amount: Decimal | None = None
    # None leaves the Dashboard's buttons as they are; a tuple replaces them.
    actions: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return _present([
            ("result", self.RESULT),
            ("pspReference", self.psp_reference),
            ("amount", self.amount),
            ("message", self.message),
            ("actions", list(self.actions) if self.actions is not None else None),
        ])


class ChargeRequestFailure(ActionResult):
    RESULT = "CHARGE_FAILURE"


class RefundFailure(ActionResult):
    RESULT = "REFUND_FAILURE"


class CancelSuccess(ActionResult):
    RESULT = "CANCEL_SUCCESS"


class CancelFailure(ActionResult):
    RESULT = "CANCEL_FAILURE"


ACTION_RESULTS: dict[ActionResultKind, type[ActionResult]] = {
    kind.RESULT: kind for kind in (ChargeRequestFailure, RefundFailure, CancelSuccess, CancelFailure)
}


@dataclass(frozen=True)
class PayoutAccepted:
    """Answered later, through the outbox: no `result` now (never a *_REQUEST one)."""

    psp_reference: str
    actions: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return _present([
            ("pspReference", self.psp_reference),
            ("actions", list(self.actions) if self.actions is not None else None),
        ])


@dataclass(frozen=True)
class StoredAnswer:
    """An action request's answer as stored: the first answer and every repeat serialise to the same bytes."""

    body: JsonObject

    def to_json(self) -> dict[str, Any]:
        return dict(self.body)


ActionAnswer = ActionResult | PayoutAccepted
