"""The Dashboard page in a real browser: headless Chromium inside a parent page that plays the Dashboard.

The app runs under uvicorn on a free 127.0.0.1 port, reaching the fake
Saleor and the fake Lengo through mounted transports; a second tiny server
serves the parent page, which frames `/app` at the Dashboard's iframe width
and answers `notifyReady` with a handshake carrying a Dashboard token. The
merchant connects a Lengo account, maps a channel, finds a paid payment,
opens its timeline, records a refund and retries a dead event, in French
and dark mode. A screenshot of each main view is saved under the test's
output directory.
"""

from __future__ import annotations

import asyncio
import re
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from saleor_lengo.app_api.types import TimelineKind, TimelineMilestone
from saleor_lengo.payouts.model import PayoutState
from saleor_lengo.saleor import installations
from saleor_lengo.db.schema import callbacks, outbox, payments
from saleor_lengo.services import Services
from tests.conftest import LENGO_KEY, LENGO_URL, WEBSITE_ID
from tests.fakes.dashboard import dashboard_token, insert_payment
from tests.fakes.dashboard_frame import DEFAULT_WIDTH as IFRAME_WIDTH
from tests.fakes.saleor import FakeSaleor
from tests.web.browser import Page

# End-to-end: a real browser against the served app.
pytestmark = pytest.mark.slow

async def test_a_merchant_configures_lengo_and_inspects_a_paid_payment_in_the_dashboard(
    browser: Any, served: tuple[str, str], services: Services, installed: FakeSaleor, output_dir: Path
) -> None:
    app_url, parent_url = served
    page = Page(browser, output_dir)
    try:
        await _journey(page, app_url, parent_url, services, installed)
    except Exception:
        logs = browser.get_log("browser")
        print("browser console:", json.dumps(logs, indent=1)[:5000])
        try:
            browser.switch_to.default_content()
            browser.save_screenshot(str(output_dir / "failure.png"))
        except Exception:  # noqa: BLE001 - the original failure matters more
            pass
        raise
    print(f"screenshots in {output_dir}")


async def _journey(page: Page, app_url: str, parent_url: str, services: Services, saleor: FakeSaleor) -> None:
    d = page.d
    # Framed where Saleor 3.23's Dashboard puts apps (under Extensions), the Dashboard at the site's root.
    d.get(parent_url + "/extensions/app/QXBwOjE")
    d.switch_to.frame("app")

    # Handshake done: the page asked the API who we are and shows the sections, in French and dark.
    page.visible("#nav")
    assert d.find_element(page.By.TAG_NAME, "html").get_attribute("data-theme") == "dark"
    assert d.find_element(page.By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert page.el("#nav-payments").text == "Paiements"
    page.text_in("#payments-count", "Aucun paiement")
    width = d.execute_script("return document.documentElement.clientWidth")
    assert width <= IFRAME_WIDTH
    assert d.execute_script("return document.documentElement.scrollWidth") <= width + 1, "no horizontal scroll at 600 px"
    page.shot("01-payments-empty")

    # Connect a Lengo account: a wrong key first shows Lengo's refusal as a readable message.
    page.el("#nav-settings").click()
    page.visible("#config-form")
    page.text_in("#notice-links", "Associez d'abord un canal")
    page.fill("#config-name", "Boutique Conakry")
    page.fill("#config-site", WEBSITE_ID)
    page.fill("#config-key", "not-the-right-key-0000")
    page.choose("#config-env", value="custom")
    page.fill("#config-url", LENGO_URL)
    page.fill("#config-currencies", "GNF")
    page.fill("#config-patterns", r"https://shop\.example/checkout/.*")
    page.el("#config-save").click()
    # On its field, in French, tied to it for screen readers.
    page.text_in("#config-key-error", "Lengo a refusé")
    assert "config-key-error" in page.el("#config-key").get_attribute("aria-describedby")
    page.fill("#config-key", LENGO_KEY)
    page.el("#config-save").click()
    page.text_in("#notice-ok", "Boutique Conakry")
    page.text_in("#configs", "••••" + LENGO_KEY[-4:])
    assert LENGO_KEY not in page.html()

    # Map the Guinean channel; the notice links to its settings in the Dashboard.
    page.visible("#map-channel-gnf")
    page.choose("#map-channel-gnf", text="Boutique Conakry")
    page.el("#apply-channel-gnf").click()
    page.text_in("#notice-ok", "Guinée encaisse désormais via Boutique Conakry")
    link = page.visible("#notice-links a")
    assert link.get_attribute("href") == parent_url + "/channels/Q2hhbm5lbDoy"
    assert "MANAGE_CHANNELS" in page.el("#autocomplete-notice").text
    page.shot("02-settings")

    inst = await installations.find(services.db, saleor.api_url)
    assert inst is not None
    async with services.db.read() as conn:
        from saleor_lengo.configurations import list_for

        (config,) = await list_for(conn, inst.id)
    assert config.channels == ("Q2hhbm5lbDoy",)

    # A paid payment (and an older unpaid one) are found by their pay_id.
    paid_pay_id = "Lk9yYW5nZU1vbmV5Cg=="
    paid = await insert_payment(
        services.db, installation_id=inst.id, configuration_id=config.id, pay_id=paid_pay_id, amount="250000",
        confirmed_amount="250000",
    )
    await insert_payment(
        services.db, installation_id=inst.id, configuration_id=config.id, state="action_required", now=time.time() - 60
    )
    async with services.db.write() as conn:
        await conn.execute(
            callbacks.insert().values(
                payment_id=paid, received_at=time.time(), pay_id=paid_pay_id, status="SUCCESS", amount="250000",
                message="Transaction Successful", client_enc=services.cipher.encrypt("624897845"),
                client_masked="••••7845", outcome="confirmed",
            )
        )
    page.el("#nav-payments").click()
    page.text_in("#payments-count", "2 paiement")
    page.fill("#search", paid_pay_id)
    page.el("#search-button").click()
    page.text_in("#payments-count", "1 paiement")
    row = page.visible(f'tr[data-payment="{paid}"]')
    assert "Payé" in row.text and "250\u202f000 GNF" in row.text
    page.text_in("#health", "Paiements en cours")
    page.shot("03-payments")

    # Its timeline, then a refund staff made by hand.
    row.find_element(page.By.CSS_SELECTOR, "button.open-payment").click()
    page.visible("#timeline li")
    page.text_in("#payment-facts", paid_pay_id)
    assert page.el("#timeline li").get_attribute("data-milestone") == "CREATED"
    # The callback is a technical step: in the trail, one click away.
    assert not page.el("#timeline-trail").is_displayed()
    page.el("#timeline-tech summary").click()
    page.text_in("#timeline-trail", "Rappel de Lengo")
    page.text_in("#timeline-trail", "••••7845")
    assert "624897845" not in page.html()
    page.text_in("#payment-facts", "Boutique Conakry")
    page.text_in("#payment-facts", "Bac à sable")
    page.visible("#refund-form")
    page.text_in("#refund-max", "250\u202f000 GNF")
    page.shot("04-payment")
    page.fill("#refund-amount", "50000")
    page.fill("#refund-note", "Remboursé en espèces")
    page.el("#refund-submit").click()
    page.visible("#confirm-ok").click()
    page.text_in("#notice-ok", "Remboursement de 50\u202f000 GNF enregistré")
    page.text_in("#timeline", "Remboursement de 50\u202f000 GNF enregistré")
    # Part of the money went back: the payment no longer reads "Payé", here nor in the list.
    page.text_in("#payment-facts", "Partiellement remboursé")
    page.el("#nav-payments").click()
    page.text_in(f'tr[data-payment="{paid}"]', "Partiellement remboursé")
    async with services.db.read() as conn:
        refunded = (await conn.execute(select(payments.c.refunded_amount).where(payments.c.id == paid))).scalar_one()
        events = (await conn.execute(select(outbox).where(outbox.c.payment_id == paid))).all()
    assert refunded == "50000"
    assert [(e.event_type, e.psp_reference, e.amount) for e in events] == [
        ("REFUND_SUCCESS", f"{paid_pay_id}:manual-refund:1", "50000")
    ]

    # A dead event is retried from the list.
    async with services.db.write() as conn:
        await conn.execute(outbox.update().where(outbox.c.id == events[0].id).values(state="dead", attempts=9, last_error="Saleor answered HTTP 503"))
    page.el("#nav-dead").click()
    page.text_in("#dead-table", "Saleor n'a pas accepté")
    page.el("#dead-table summary").click()
    page.text_in("#dead-table", "Saleor answered HTTP 503")
    page.shot("05-dead-letters")
    page.visible("button.retry").click()
    page.text_in("#notice-ok", "renvoyé")
    page.text_in("#dead-table", "Tous les événements")
    async with services.db.read() as conn:
        assert (await conn.execute(select(outbox.c.state).where(outbox.c.id == events[0].id))).scalar_one() == "pending"

    # Keyboard: the sections are tabs, the arrow keys move between them, with a visible focus style.
    from selenium.webdriver.common.keys import Keys

    page.el("#nav-payments").send_keys(Keys.ARROW_RIGHT)
    focused = d.switch_to.active_element
    assert focused.get_attribute("id") == "nav-settings"
    assert focused.get_attribute("aria-selected") == "true"
    assert d.execute_script("return getComputedStyle(arguments[0]).outlineStyle", focused) != "none"

    # The parent (Dashboard) heard notifyReady the way app-bridge sends it.
    d.switch_to.default_content()
    received = d.execute_script("return window.received")
    assert received and received[0]["type"] == "notifyReady" and received[0]["payload"]["actionId"]
    for name in ("01-payments-empty", "02-settings", "03-payments", "04-payment", "05-dead-letters"):
        assert (page.shots / f"{name}.png").stat().st_size > 1000


async def test_the_page_ignores_a_handshake_from_another_origin(
    browser: Any, served: tuple[str, str], installed: FakeSaleor
) -> None:
    _app_url, parent_url = served
    d = browser
    # This parent frames the page but stays silent; a sandboxed frame (opaque
    # origin, not the referrer's) offers a valid token: the page must not take it.
    d.get(parent_url + "/silent")
    d.execute_script(
        """
        var forger = document.createElement('iframe');
        forger.setAttribute('sandbox', 'allow-scripts');
        forger.srcdoc = '<script>setTimeout(function () { parent.frames[0].postMessage(' +
          '{type: "handshake", payload: {token: ' + JSON.stringify(arguments[0]) + ', version: 1}}, "*"); }, 300);<\\/script>';
        document.body.appendChild(forger);
        """,
        dashboard_token(installed),
    )
    await asyncio.sleep(2)
    d.switch_to.frame(d.find_element("css selector", "iframe#app"))
    assert not d.find_element("css selector", "#nav").is_displayed()
    assert "Waiting for the Saleor Dashboard" in d.find_element("css selector", "#status").text


# --- The page's words (no browser needed) ------------------------------------------------

STATIC = Path(__file__).resolve().parents[2] / "saleor_lengo" / "static" / "app"
KEY = re.compile(r'(?:^|[{,])\s*(?:"([\w.]+)"|([A-Za-z]\w*))\s*:\s*"', re.MULTILINE)


def dictionaries() -> dict[str, set[str]]:
    source = (STATIC / "i18n.js").read_text()
    en_at, fr_at = source.index("\n  en: {"), source.index("\n  fr: {")
    return {
        lang: {a or b for a, b in KEY.findall(block)}
        for lang, block in (("en", source[en_at + 8 : fr_at]), ("fr", source[fr_at + 8 :]))
    }


def test_french_and_english_have_the_same_words() -> None:
    words = dictionaries()
    assert len(words["en"]) > 150
    assert words["en"] ^ words["fr"] == set()


def test_every_visible_string_comes_from_the_dictionary() -> None:
    words = dictionaries()["en"]
    html = (STATIC / "index.html").read_text()
    source = (STATIC / "app.js").read_text()
    used = set(re.findall(r'data-i18n(?:-aria)?="([\w.]+)"', html)) | set(re.findall(r'\bt\("([\w.]*\w)"', source))
    states = {f"state.{s}" for s in ("CREATING", "ACTION_REQUEST", "SUCCEEDED", "FAILED", "CANCELED", "EXPIRED")}
    states = {s.replace("ACTION_REQUEST", "ACTION_REQUIRED") for s in states}
    # Every kind and outcome the app API can answer has its words (the page builds these keys).
    kinds = {f"tl.{k.value}" for k in TimelineKind}
    milestones = {f"ms.{m.value}" for m in TimelineMilestone}
    payout_states = {f"payout.{s.value}" for s in PayoutState}
    dynamic = states | kinds | milestones | payout_states | {f"outbox.{s}" for s in ("pending", "delivered", "dead")}
    dynamic |= {f"env.{e}" for e in ("production", "sandbox", "simulator", "custom")}
    assert used | dynamic <= words, sorted((used | dynamic) - words)
    # Every element with text in the HTML is translated.
    for tag in re.findall(r"<(?:label|button|h[1-3]|p|th|span|option|caption)\b[^>]*>[^<]+<", html):
        assert "data-i18n" in tag or 'aria-hidden="true"' in tag, tag


async def test_the_page_and_its_assets_are_served_with_a_strict_policy(client: httpx.AsyncClient) -> None:
    page = await client.get("/app?locale=fr&theme=dark")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for name, kind in (("app.js", "javascript"), ("i18n.js", "javascript"), ("app.css", "css")):
        asset = await client.get(f"/app/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"], name
        assert f'src="app/{name}"' in page.text or f'href="app/{name}"' in page.text
    assert (await client.get("/app/index.html")).status_code == 404
    assert (await client.get("/app/..%2Fsettings.py")).status_code == 404
