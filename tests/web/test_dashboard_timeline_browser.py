"""A payment's timeline and refund status as a merchant reads them, in a real browser (headless Chromium).

In French: the outcomes read in French words, in true order, and the
technical trail (calls, Lengo statuses, callbacks) stays closed until it is
opened. A payment with part of its money refunded by hand says so, in the
list and on its page, and its timeline shows the refund.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from sqlalchemy import select

from saleor_lengo.db.schema import payments
from saleor_lengo.services import Services
from tests.fakes.saleor import FakeSaleor
from tests.helpers.story import MASKED, PHONE, paid_payment, payout_for
from tests.web.merchant import Merchant, configured

pytestmark = pytest.mark.slow  # real Chromium and servers on sockets


def _console_on_failure(browser: Any) -> None:
    print("browser console:", json.dumps(browser.get_log("browser"), indent=1)[:5000])


async def test_the_timeline_reads_in_french_outcomes_first_and_the_technical_trail_opens_on_demand(
    browser: Any, served: tuple[str, str], services: Services, installed: FakeSaleor, output_dir: Path
) -> None:
    _app_url, parent_url = served
    inst_id, config = await configured(services, installed)
    # The shopper's return confirmed the payment; Lengo's callback came within the same second, after it.
    pid = await paid_payment(services, inst_id, config.id, time.time() - 600, check_first=True)
    page = Merchant(browser, output_dir, parent_url, "fr")
    try:
        page.open(theme="dark")
        page.click(f'tr[data-payment="{pid}"] button.open-payment')
        page.visible("#timeline li")
        outcomes = page.el("#timeline").text
        milestones = [li.get_attribute("data-milestone") for li in page.d.find_elements(page.By.CSS_SELECTOR, "#timeline li")]
        assert milestones == ["CREATED", "WAITING", "PAID", "REPORTED"]
        for words in ("Paiement de 176\u202f500 GNF lancé", "Payé : 176\u202f500 GNF par Orange Money",
                      "Transmis à Saleor : Paiement reçu"):
            assert words in outcomes, outcomes
        # No engineer's words among the outcomes: no state codes, no "Result: ok", no English.
        for words in ("action_required", "succeeded", "Result", "ok", "CHARGE_SUCCESS", "Payment", "Paid"):
            assert words not in outcomes, words

        trail = page.el("#timeline-trail")
        assert not trail.is_displayed()
        page.el("#timeline-tech summary").click()
        text = page.text_in("#timeline-trail", "Appel à Lengo : créer le paiement")
        kinds = [li.get_attribute("data-kind") for li in page.d.find_elements(page.By.CSS_SELECTOR, "#timeline-trail li")]
        # True order: the check that confirmed the payment, its event, then the late callback.
        assert kinds.index("STATUS_CHECK") < kinds.index("EVENT") < kinds.index("CALLBACK")
        for words in ("a répondu", "Statut : En attente du client → Payé", "payé (SUCCESS)", "au retour du client",
                      "une copie tardive : le paiement était déjà confirmé", MASKED):
            assert words in text, words
        assert "Erreur" not in text and PHONE not in page.html()
        page.shot("timeline-fr-dark")
    except Exception:
        _console_on_failure(browser)
        raise


async def test_a_partly_refunded_payment_reads_as_such_in_the_list_and_on_its_page(
    browser: Any, served: tuple[str, str], services: Services, installed: FakeSaleor, output_dir: Path
) -> None:
    _app_url, parent_url = served
    inst_id, config = await configured(services, installed)
    partly = await paid_payment(services, inst_id, config.id, time.time() - 7200, amount="250000", refunds=("50000",))
    fully = await paid_payment(services, inst_id, config.id, time.time() - 9000, amount="90000", refunds=("90000",))
    page = Merchant(browser, output_dir, parent_url, "en")
    try:
        page.open()
        assert "Partly refunded" in page.text_in(f'tr[data-payment="{partly}"]', "Partly refunded")
        assert "Paid" not in page.el(f'tr[data-payment="{partly}"]').text
        page.text_in(f'tr[data-payment="{fully}"]', "Refunded")
        page.click(f'tr[data-payment="{partly}"] button.open-payment')
        facts = page.text_in("#payment-facts", "Partly refunded")
        assert "50,000 GNF" in facts
        page.text_in("#timeline", "Refund of 50,000 GNF recorded")
        refund = page.el('#timeline li[data-milestone="REFUNDED"]')
        assert "delivered to Saleor" in refund.text
        # What is left can still be refunded; not more.
        page.text_in("#refund-max", "200,000 GNF")
        page.shot("partly-refunded")
    except Exception:
        _console_on_failure(browser)
        raise


async def test_a_refund_payout_that_needs_review_stands_out_and_holds_its_share(
    browser: Any, served: tuple[str, str], services: Services, installed: FakeSaleor, output_dir: Path
) -> None:
    _app_url, parent_url = served
    inst_id, config = await configured(services, installed)
    t0 = time.time() - 7200
    pid = await paid_payment(services, inst_id, config.id, t0, amount="250000")
    await payout_for(services, pid, inst_id, config.id, t0 + 600, amount="100000.0", state="needs_review",
                     reason="Lengo timed out after the cash-in was sent; its history shows no match yet.")
    page = Merchant(browser, output_dir, parent_url, "fr")
    try:
        page.open()
        page.click(f'tr[data-payment="{pid}"] button.open-payment')
        item = page.visible('#timeline li[data-milestone="PAYOUT_NEEDS_REVIEW"]')
        assert "À vérifier : le remboursement de 100\u202f000 GNF a-t-il atteint le " + MASKED in item.text, item.text
        assert "tl-bad" in (item.get_attribute("class") or "")
        # The payout may have paid: only the rest can be refunded by hand.
        page.text_in("#refund-max", "150\u202f000 GNF")
        page.el("#timeline-tech summary").click()
        trail = page.text_in("#timeline-trail", "Remboursement vers le portefeuille du payeur")
        assert "À vérifier" in trail and "history shows no match" in trail
        assert PHONE not in page.html()
        page.shot("payout-needs-review-fr")
    except Exception:
        _console_on_failure(browser)
        raise


async def test_the_link_saleor_shows_on_a_transaction_event_opens_that_payment(
    browser: Any, served: tuple[str, str], services: Services, installed: FakeSaleor, output_dir: Path
) -> None:
    _app_url, parent_url = served
    inst_id, config = await configured(services, installed)
    # Ids as the app makes them (uuid4 hex): the page opens nothing else.
    pid = await paid_payment(services, inst_id, config.id, time.time() - 600, id=uuid.uuid4().hex)
    await paid_payment(services, inst_id, config.id, time.time() - 900, id=uuid.uuid4().hex)
    page = Merchant(browser, output_dir, parent_url, "en")
    try:
        # What the Dashboard frames for <dashboard>/extensions/app/<app id>?payment=<id> (saleor/dashboard.py).
        page.open(payment=pid, wait_for_nav=False)
        page.visible("#timeline li")
        assert page.el("#view-payment").is_displayed()
        async with services.db.read() as conn:
            pay_id = (await conn.execute(select(payments.c.pay_id).where(payments.c.id == pid))).scalar_one()
        assert page.el("#payment-title").text.endswith(pay_id)
        # A query that is not a payment id opens the list, as always.
        page.open(payment="..%2Fgraphql")
        page.visible("#view-payments")
    except Exception:
        _console_on_failure(browser)
        raise
