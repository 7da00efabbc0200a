"""A screenshot of every screen of the merchant's page, light and dark, English and French.

Run as a test it checks each screen is the one expected and fits its frame
without horizontal scrolling; `python -m tests.screenshots OUTDIR` runs it
with SCREENSHOTS_DIR=OUTDIR to keep the PNGs for people to look at.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from saleor_lengo.services import Services
from tests.fakes.dashboard import insert_payment
from tests.fakes.saleor import FakeSaleor
from tests.helpers.story import declined_payment, paid_payment
from tests.web.merchant import LONG_ERROR, Merchant, configured, dead_event

pytestmark = pytest.mark.slow  # real Chromium and servers on sockets

SCREENS = (
    "01-outside-dashboard", "02-handshake-timeout", "03-first-run", "04-settings-errors", "05-settings-edit",
    "06-payments", "07-payment", "08-refund-confirm", "09-undelivered", "10-undelivered-retry-warning",
    "11-needs-review", "12-review-confirm", "13-partly-refunded", "14-refunded", "15-declined", "16-technical-details",
)


@pytest.fixture
def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fits(page: Merchant) -> None:
    width = page.d.execute_script("return document.documentElement.clientWidth")
    if page.d.execute_script("return document.documentElement.scrollWidth") <= width + 1:
        return
    # Name what sticks out, so a failure says which element to fix.
    wide = page.d.execute_script(
        "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > arguments[0] + 1)"
        ".slice(-3).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.getBoundingClientRect().right + ' '"
        " + (e.textContent || '').slice(0, 80))",
        width,
    )
    raise AssertionError(f"horizontal scroll: {wide}")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_every_screen_shows_in_each_language_and_theme_and_fits_the_frame(
    browser: Any, served: tuple[str, str], services: Services, installed: FakeSaleor, shots_dir: Path, locale: str, theme: str
) -> None:
    app_url, parent_url = served
    page = Merchant(browser, shots_dir, parent_url, locale)
    taken: list[str] = []

    def shot(name: str, *, framed: bool = True) -> None:
        assert name in SCREENS
        file = f"{locale}-{theme}-{name}"
        if framed:
            fits(page)
            page.shot(file)
        else:
            page.d.save_screenshot(str(shots_dir / f"{file}.png"))
        taken.append(name)

    # Outside the Dashboard, then a Dashboard that never answers.
    browser.get(f"{app_url}/app?locale={locale}&theme={theme}")
    page.read_words()
    page.text_in("#boot-error", page.w("boot.standalone.title"))
    shot("01-outside-dashboard", framed=False)
    browser.get(f"{parent_url}/silent?locale={locale}&theme={theme}")
    browser.switch_to.frame("app")
    page.text_in("#boot-error", page.w("boot.timeout.title"))
    shot("02-handshake-timeout")

    # A first run, and a form sent with mistakes.
    page.open(theme=theme)
    page.text_in("#checklist", page.w("first.title"))
    shot("03-first-run")
    page.tab("settings")
    page.fill("#config-name", "")
    page.fill("#config-min", "abc")
    page.el("#config-save").click()
    page.visible("#config-name-error")
    shot("04-settings-errors")

    # A connected account being changed: every setting in the form.
    inst_id, config = await configured(
        services, installed, min_amount="1000", max_amount="5000000", default_return_url="https://shop.example/checkout/return"
    )
    page.tab("payments")
    page.tab("settings")
    page.click(f'[data-config="{config.id}"] button.write')
    shot("05-settings-edit")

    # Payments, one of them, and the confirmation before recording a refund.
    # Every status a merchant reads in the list: paid, waiting, partly refunded, refunded, declined.
    now = time.time()
    paid = await paid_payment(services, inst_id, config.id, now - 300, pay_id="U2NyZWVuc2hvdA==")
    await insert_payment(services.db, installation_id=inst_id, configuration_id=config.id, state="action_required",
                         now=now - 120)
    partly = await paid_payment(services, inst_id, config.id, now - 7200, amount="250000", refunds=("50000",))
    refunded = await paid_payment(services, inst_id, config.id, now - 9000, amount="90000", check_first=True,
                                  refunds=("40000", "50000"))
    declined = await declined_payment(services, inst_id, config.id, now - 10800)
    page.tab("payments")
    page.visible(f'tr[data-payment="{paid}"]')
    shot("06-payments")
    page.click(f'tr[data-payment="{paid}"] button.open-payment')
    page.visible("#refund-form")
    page.visible("#timeline li")
    shot("07-payment")
    page.fill("#refund-amount", "50000")
    page.el("#refund-submit").click()
    page.confirm_dialog()
    shot("08-refund-confirm")
    page.el("#confirm-cancel").click()

    # Undelivered events: one with its technical text open, one that will fail again.
    first = await dead_event(services, inst_id, paid, LONG_ERROR, time.time() - 60)
    doomed = await dead_event(services, inst_id, paid, "NOT_FOUND: Couldn't resolve to a node", time.time())
    page.tab("dead")
    page.click(f'tr[data-event="{first}"] summary')
    shot("09-undelivered")
    page.click(f'tr[data-event="{doomed}"] button.retry')
    page.confirm_dialog()
    shot("10-undelivered-retry-warning")
    page.el("#confirm-cancel").click()

    # A payment held for review (paid, with an amount that cannot be right), and the confirmation
    # before staff set what was charged.
    held = await insert_payment(
        services.db, installation_id=inst_id, configuration_id=config.id, state="needs_review", amount="150000",
        confirmed_amount=None, lengo_status="SUCCESS", gateway="Orange Money",
        failure_reason="Lengo status SUCCESS (callback) with an amount that cannot be right: 0.",
    )
    page.tab("payments")
    page.click(f'tr[data-payment="{held}"] button.open-payment')
    page.text_in("#review-form", page.w("review.title"))
    shot("11-needs-review")
    page.fill("#review-amount", "150000")
    page.fill("#review-note", "Lengo portal: 150000 GNF received")
    page.el("#review-submit").click()
    page.confirm_dialog()
    shot("12-review-confirm")
    page.el("#confirm-cancel").click()

    # A partly refunded, a refunded and a declined payment; then the technical trail, opened.
    for screen, pid in (("13-partly-refunded", partly), ("14-refunded", refunded), ("15-declined", declined)):
        page.tab("payments")
        page.click(f'tr[data-payment="{pid}"] button.open-payment')
        page.visible('#timeline li[data-milestone="CREATED"]')
        shot(screen)
    # Declined: no payment method anywhere, not even in the trail (Lengo named one for the attempt).
    assert "Orange Money" not in page.el("#view-payment").get_attribute("textContent")
    page.click("#timeline-tech summary")
    page.visible("#timeline-trail li")
    page.d.execute_script("document.getElementById('timeline-tech').scrollIntoView()")
    shot("16-technical-details")

    assert taken == list(SCREENS)
    assert all((shots_dir / f"{locale}-{theme}-{name}.png").stat().st_size > 1000 for name in SCREENS)
