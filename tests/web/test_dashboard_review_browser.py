"""The Dashboard page resolves a payment held in needs_review, in a real browser (headless Chromium).

Staff filter the list on "À vérifier", open the payment, say what the Lengo
portal shows, and confirm: a canceled confirmation changes nothing, an
accepted one reports a CHARGE_SUCCESS of that amount through the outbox.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from saleor_lengo.saleor import installations
from saleor_lengo.db.schema import outbox, payment_transitions, payments
from saleor_lengo.services import Services
from tests.conftest import configure_channel
from tests.fakes.dashboard import insert_payment
from tests.fakes.saleor import FakeSaleor
from tests.web.browser import Page

pytestmark = pytest.mark.slow

HELD_REASON = "Lengo status SUCCESS (callback) with an amount that cannot be right: 0 (zero; 150000 GNF was requested)."


async def state_of(services: Services, payment_id: str) -> str:
    async with services.db.read() as conn:
        return str((await conn.execute(select(payments.c.state).where(payments.c.id == payment_id))).scalar_one())


async def test_staff_resolve_a_payment_needing_review_after_a_confirmation(
    browser: Any, served: tuple[str, str], services: Services, installed: FakeSaleor, output_dir: Path
) -> None:
    _app_url, parent_url = served
    config = await configure_channel(services, installed, channel="Q2hhbm5lbDoy")
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None
    held = await insert_payment(
        services.db, installation_id=inst.id, configuration_id=config.id, state="needs_review", amount="150000",
        confirmed_amount=None, failure_reason=HELD_REASON,
    )
    await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id, now=time.time() - 60)
    page = Page(browser, output_dir)
    try:
        await _resolve(page, parent_url, services, held)
    except Exception:
        print("browser console:", json.dumps(browser.get_log("browser"), indent=1)[:5000])
        raise


async def _resolve(page: Page, parent_url: str, services: Services, held: str) -> None:
    d = page.d
    d.get(parent_url + "/")
    d.switch_to.frame("app")
    page.text_in("#payments-count", "2 paiement")

    # The list filtered on the new state (in French): only the held payment.
    page.choose("#filter-state", text="À vérifier")
    page.el("#search-form button[type=submit]").click()
    page.text_in("#payments-count", "1 paiement")
    row = page.visible(f'tr[data-payment="{held}"]')
    assert "À vérifier" in row.text
    row.find_element(page.By.CSS_SELECTOR, "button.open-payment").click()
    page.text_in("#payment-facts", "cannot be right")
    page.visible("#review-form")
    page.text_in("#review-form", "Régler ce paiement")
    assert page.el("#refund-form").get_attribute("hidden") is not None
    page.shot("review-01-held")

    page.fill("#review-amount", "150 000")
    page.fill("#review-note", "Vu sur le portail Lengo : 150 000 GNF reçus")
    # A note is required: the error stands on its field, and nothing is sent.
    page.fill("#review-note", "")
    page.el("#review-submit").click()
    page.text_in("#error", "Ce champ est obligatoire.")
    assert page.el("#review-note").get_attribute("aria-invalid") == "true"
    assert await state_of(services, held) == "needs_review"

    page.fill("#review-note", "Vu sur le portail Lengo : 150 000 GNF reçus")
    page.el("#review-submit").click()
    dialog = page.visible("#confirm")
    assert "150\u202f000 GNF" in dialog.text and "définitif" in dialog.text
    # The safe choice has the focus: Enter alone reports nothing.
    assert d.switch_to.active_element.get_attribute("id") == "confirm-cancel"
    page.el("#confirm-cancel").click()
    assert await state_of(services, held) == "needs_review"

    page.el("#review-submit").click()
    page.visible("#confirm")
    page.el("#confirm-ok").click()
    page.text_in("#notice-ok", "Réglé : Saleor est informé du paiement.")
    page.text_in("#payment-facts", "Payé")
    assert page.el("#review-form").get_attribute("hidden") is not None
    page.shot("review-02-resolved")

    assert await state_of(services, held) == "succeeded"
    async with services.db.read() as conn:
        events = (await conn.execute(select(outbox).where(outbox.c.payment_id == held))).all()
        reason = (
            await conn.execute(
                select(payment_transitions.c.reason).where(payment_transitions.c.payment_id == held)
            )
        ).scalar_one()
    assert [(e.event_type, e.amount) for e in events] == [("CHARGE_SUCCESS", "150000")]
    assert "staff@shop.example" in reason and "Vu sur le portail Lengo" in reason
