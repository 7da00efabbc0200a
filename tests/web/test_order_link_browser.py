"""Orders and payments linked, in a real browser (headless Chromium): the merchant types an order number
in the search box, finds the payment, reads its order and masked e-mail, and its order link asks the
Dashboard (app-bridge redirect) to open the order."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from saleor_lengo.db.schema import payments
from saleor_lengo.flows import order_links
from saleor_lengo.services import Services
from tests.fakes.saleor import FakeSaleor
from tests.helpers.story import paid_payment
from tests.orders.helpers import EMAIL
from tests.web.merchant import Merchant, configured

pytestmark = pytest.mark.slow  # real Chromium and servers on sockets

ORDER_ID = "T3JkZXI6YjE0Mg=="
# As the Dashboard's own order URLs carry it (`encodeURIComponent`).
ORDER_PATH = "/orders/T3JkZXI6YjE0Mg%3D%3D"


async def test_a_payment_found_by_its_order_number_links_to_the_order_in_the_dashboard(
    browser: Any, served: tuple[str, str], services: Services, installed: FakeSaleor, output_dir: Path
) -> None:
    _app_url, parent_url = served
    inst_id, config = await configured(services, installed)
    other = await paid_payment(services, inst_id, config.id, time.time() - 900)
    pid = await paid_payment(services, inst_id, config.id, time.time() - 600)
    async with services.db.read() as conn:
        txs = {r.id: r.saleor_transaction_id for r in await conn.execute(select(payments.c.id, payments.c.saleor_transaction_id))}
    installed.set_owner(txs[other], order=("T3JkZXI6b3RoZXI=", "1041", "someone@else.example"))
    installed.set_owner(txs[pid], order=(ORDER_ID, "1042", EMAIL))
    # The story writes the delivered charges as rows, not through the relay: their link rows are backfilled.
    await order_links.backfill(services)
    await order_links.run_once(services)  # both charges were delivered: their orders are learnt

    page = Merchant(browser, output_dir, parent_url, "en")
    try:
        page.open(width=860)  # a frame wide enough for the Order column (hidden below 720 px)
        assert page.el("#search").get_attribute("placeholder") == page.w("payments.searchHint")
        assert page.w("order.number", number="1041") in page.text_in(f'tr[data-payment="{other}"]', "1041")
        page.fill("#search", "#1042")
        page.click("#search-button")
        page.wait.until(lambda d: len(d.find_elements(page.By.CSS_SELECTOR, "#payments-table tbody tr")) == 1,
                        message="the search did not narrow the list to one payment")
        row = page.el(f'tr[data-payment="{pid}"]')
        assert page.w("order.number", number="1042") in row.find_element(page.By.CSS_SELECTOR, "td.order").text

        page.click(f'tr[data-payment="{pid}"] button.open-payment')
        link = page.visible("#order-link")
        assert link.text == page.w("order.number", number="1042")
        assert link.get_attribute("href").endswith(ORDER_PATH)
        facts = page.el("#payment-facts").text
        assert "a•••@example.com" in facts and "amadou" not in page.html().lower()
        page.shot("order-link")
        link.click()  # inside the Dashboard: an app-bridge redirect to the order
        page.d.switch_to.default_content()

        def redirects(d: Any) -> list[dict[str, Any]]:
            sent = d.execute_script("return window.received") or []
            return [{k: m["payload"].get(k) for k in ("to", "newContext")} for m in sent if m["type"] == "redirect"]

        # postMessage is delivered on a later task of the parent's loop: wait for it.
        page.wait.until(redirects, message="no redirect message reached the Dashboard")
        assert redirects(page.d) == [{"to": ORDER_PATH, "newContext": False}]
        page.d.switch_to.frame("app")
    except Exception:
        print("browser console:", json.dumps(browser.get_log("browser"), indent=1)[:5000])
        raise
