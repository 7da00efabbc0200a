"""What every resolver gets: the collaborators it may use (`Needs`) and the verified Dashboard user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from saleor_lengo.app_api.auth import DashboardUser
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasCipher, HasHttp, HasSaleor, HasWakeups, HasMetrics


class ApiError(Exception):
    """A refusal worth showing to the merchant as it is (validation, Lengo's answer, not found).

    `code` is what the page translates; `field`, the input field at fault, is where it shows it.
    """

    def __init__(self, message: str, code: str = "INVALID", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class Needs(HasDb, HasClock, HasTimer, HasCipher, HasHttp, HasSaleor, HasWakeups, HasMetrics, Protocol):
    """What the resolvers and the flows they call use."""


@dataclass(frozen=True)
class ApiContext:
    deps: Needs
    user: DashboardUser

    @property
    def installation_id(self) -> int:
        return self.user.installation.id
