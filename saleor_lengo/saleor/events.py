"""The one registry of Saleor sync events this app handles.

Routes, manifest webhooks and subscription documents are all derived from
this tuple, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from saleor_lengo.saleor.documents import load


@dataclass(frozen=True)
class SyncEvent:
    name: str  # Saleor's enum name, e.g. TRANSACTION_INITIALIZE_SESSION

    @property
    def kebab(self) -> str:
        return self.name.lower().replace("_", "-")

    @property
    def header(self) -> str:
        """The value of the `Saleor-Event` header."""
        return self.name.lower()

    @property
    def path(self) -> str:
        return f"/api/webhooks/saleor/{self.kebab}"

    @property
    def subscription(self) -> str:
        return load(f"subscriptions/{self.kebab}.graphql")


PAYMENT_GATEWAY_INITIALIZE_SESSION = SyncEvent("PAYMENT_GATEWAY_INITIALIZE_SESSION")
TRANSACTION_INITIALIZE_SESSION = SyncEvent("TRANSACTION_INITIALIZE_SESSION")
TRANSACTION_PROCESS_SESSION = SyncEvent("TRANSACTION_PROCESS_SESSION")
TRANSACTION_CHARGE_REQUESTED = SyncEvent("TRANSACTION_CHARGE_REQUESTED")
TRANSACTION_REFUND_REQUESTED = SyncEvent("TRANSACTION_REFUND_REQUESTED")
TRANSACTION_CANCELATION_REQUESTED = SyncEvent("TRANSACTION_CANCELATION_REQUESTED")

SYNC_EVENTS: tuple[SyncEvent, ...] = (
    PAYMENT_GATEWAY_INITIALIZE_SESSION,
    TRANSACTION_INITIALIZE_SESSION,
    TRANSACTION_PROCESS_SESSION,
    TRANSACTION_CHARGE_REQUESTED,
    TRANSACTION_REFUND_REQUESTED,
    TRANSACTION_CANCELATION_REQUESTED,
)

BY_KEBAB = {e.kebab: e for e in SYNC_EVENTS}
