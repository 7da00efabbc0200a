"""The merchant's view of the page in one language, and the rows the page tests set up for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from saleor_lengo.saleor import installations
from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import outbox
from saleor_lengo.services import Services
from tests.conftest import configure_channel
from tests.fakes.saleor import FakeSaleor
from tests.web.browser import Page


LONG_ERROR = "permission denied (is the app still installed?): " + "HANDLE_PAYMENTS_" * 40


class Merchant(Page):
    """The page at a given language, theme and width, with its own words at hand."""

    def __init__(self, driver: Any, shots: Path, parent_url: str, locale: str) -> None:
        super().__init__(driver, shots)
        self.parent_url = parent_url
        self.locale = locale
        self.words: dict[str, str] = {}

    def open(self, *, theme: str = "light", width: int = 600, wait_for_nav: bool = True, payment: str | None = None) -> None:
        """`payment`: as the Dashboard's extensions/app/<id>?payment=… route that a transaction event links to."""
        self.d.switch_to.default_content()
        query = f"locale={self.locale}&theme={theme}&width={width}" + (f"&payment={payment}" if payment else "")
        self.d.get(f"{self.parent_url}/?{query}")
        self.d.switch_to.frame("app")
        if wait_for_nav:
            self.visible("#nav")
        self.read_words()

    def read_words(self) -> None:
        self.wait.until(lambda d: d.execute_script("return !!window.LENGO_MESSAGES"))
        self.words = self.d.execute_script("return window.LENGO_MESSAGES")[self.locale]

    def w(self, key: str, **values: Any) -> str:
        text = self.words[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def click(self, css: str) -> None:
        """Click what `css` finds once it shows, again if the list it is in was drawn anew meanwhile."""
        from selenium.common.exceptions import StaleElementReferenceException

        def clicked(_d: Any) -> bool:
            try:
                self.visible(css).click()
            except StaleElementReferenceException:
                return False
            return True

        self.wait.until(clicked, message=css)

    def tab(self, name: str) -> None:
        self.el(f"#nav-{name}").click()
        self.visible(f"#view-{name}")

    def hold_requests(self) -> None:
        """The app's API calls wait until `release_requests`: the page's in-between state can be seen."""
        self.d.execute_script(
            "window.__held = []; window.__fetch = window.fetch;"
            "window.fetch = function (u, o) { return new Promise(function (ok, ko) {"
            "  window.__held.push(function () { window.__fetch(u, o).then(ok, ko); }); }); };"
        )

    def release_requests(self) -> None:
        self.wait.until(lambda d: d.execute_script("return window.__held.length > 0"))
        self.d.execute_script("window.fetch = window.__fetch; window.__held.forEach(function (go) { go(); });")

    def confirm_dialog(self) -> Any:
        dialog = self.visible("#confirm")
        assert dialog.get_attribute("role") == "alertdialog"
        assert self.d.execute_script("return document.getElementById('confirm').open") is True
        return dialog


async def configured(services: Services, saleor: FakeSaleor, **extra: Any) -> tuple[int, Configuration]:
    inst = await installations.find(services.db, saleor.api_url)
    assert inst is not None
    config = await configure_channel(services, saleor, name="Boutique Conakry", **extra)
    return inst.id, config


async def dead_event(services: Services, inst_id: int, pid: str, error: str, at: float) -> int:
    async with services.db.write() as conn:
        result = await conn.execute(
            outbox.insert().values(
                payment_id=pid, installation_id=inst_id, saleor_transaction_id="tx", event_type="CHARGE_SUCCESS",
                psp_reference="cHNwLXJlZmVyZW5jZS0xMjM0NTY3ODkw" * 2, amount="176500", currency="GNF", message="Paid",
                available_actions="[]", event_time=at, state="dead", attempts=9, next_attempt_at=at, created_at=at,
                last_error=error,
            )
        )
    return int(result.inserted_primary_key[0])  # type: ignore[index]
