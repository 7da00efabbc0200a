"""The merchant's page in real Chromium, in English and French: nothing lost on save, errors on their
field in the page's language, progress and confirmations, undelivered events that fit and explain
themselves, a first-run checklist, a clear message outside the Dashboard, names for every control.

The page's own dictionaries (window.LENGO_MESSAGES, read from the page) give
the words each test expects, so every test runs as it is in both languages.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from saleor_lengo.saleor import installations
from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import configurations, outbox, payments
from saleor_lengo.services import Services
from saleor_lengo.web.app import create_app
from tests.conftest import configure_channel
from tests.fakes.dashboard import insert_payment
from tests.fakes.dashboard_frame import parent_app
from tests.fakes.saleor import FakeSaleor
from tests.test_dashboard_browser import Page, ServerThread, app_services, browser

__all__ = ["app_services", "browser"]  # fixtures, used by name

pytestmark = pytest.mark.slow  # real Chromium and servers on sockets

LOCALES = ["en", "fr"]
LONG_ERROR = "permission denied (is the app still installed?): " + "HANDLE_PAYMENTS_" * 40
FULL_SETTINGS: dict[str, Any] = {
    "min_amount": "1000",
    "max_amount": "5000000",
    "default_return_url": "https://shop.example/checkout/return",
}


@pytest.fixture
async def served(app_services: Services, installed: FakeSaleor) -> AsyncIterator[tuple[str, str]]:
    app = create_app(app_services)
    with ServerThread(app) as app_server, ServerThread(parent_app(app_server.url, installed)) as parent:
        yield app_server.url, parent.url


class Merchant(Page):
    """The page at a given language, theme and width, with its own words at hand."""

    def __init__(self, driver: Any, shots: Path, parent_url: str, locale: str) -> None:
        super().__init__(driver, shots)
        self.parent_url = parent_url
        self.locale = locale
        self.words: dict[str, str] = {}

    def open(self, *, theme: str = "light", width: int = 600, wait_for_nav: bool = True) -> None:
        self.d.switch_to.default_content()
        self.d.get(f"{self.parent_url}/?locale={self.locale}&theme={theme}&width={width}")
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


@pytest.fixture(params=LOCALES)
def merchant(request: pytest.FixtureRequest, browser: Any, served: tuple[str, str], tmp_path: Path) -> Iterator[Merchant]:
    _app_url, parent_url = served
    page = Merchant(browser, tmp_path, parent_url, request.param)
    try:
        yield page
    except Exception:
        print("browser console:", json.dumps(browser.get_log("browser"), indent=1)[:5000])
        raise


async def configured(services: Services, saleor: FakeSaleor, **extra: Any) -> tuple[int, Configuration]:
    inst = await installations.find(services.db, saleor.api_url)
    assert inst is not None
    config = await configure_channel(services, saleor, name="Boutique Conakry", **extra)
    return inst.id, config


async def stored(services: Services, config_id: int) -> dict[str, Any]:
    async with services.db.read() as conn:
        row = (await conn.execute(select(configurations).where(configurations.c.id == config_id))).one()
    values = dict(row._mapping)
    values.pop("updated_at")
    return values


# --- No setting lost ------------------------------------------------------------------------


async def test_saving_an_unchanged_form_changes_no_setting(
    merchant: Merchant, services: Services, installed: FakeSaleor
) -> None:
    _inst, config = await configured(
        services, installed, currencies=("GNF", "XOF"),
        return_url_patterns=(r"https://shop\.example/.*", r"https://m\.shop\.example/.*"), **FULL_SETTINGS,
    )
    before = await stored(services, config.id)
    merchant.open()
    merchant.tab("settings")
    card = merchant.visible(f'[data-config="{config.id}"]')
    assert "5\u202f000\u202f000" in card.text or "5,000,000" in card.text
    card.find_element(merchant.By.CSS_SELECTOR, "button.write").click()

    # Every setting the account has is in the form.
    assert merchant.el("#config-min").get_attribute("value") == "1000"
    assert merchant.el("#config-max").get_attribute("value") == "5000000"
    assert merchant.el("#config-default-url").get_attribute("value") == FULL_SETTINGS["default_return_url"]
    assert merchant.el("#config-currencies").get_attribute("value") == "GNF, XOF"
    assert merchant.el("#config-patterns").get_attribute("value").splitlines() == list(config.return_url_patterns)
    merchant.el("#config-save").click()
    merchant.text_in("#notice-ok", merchant.w("config.saved", name="Boutique Conakry"))
    assert await stored(services, config.id) == before

    # Emptying one optional field clears that one only.
    merchant.el(f'[data-config="{config.id}"] button.write').click()
    merchant.fill("#config-max", "")
    merchant.el("#config-save").click()
    merchant.text_in("#notice-ok", merchant.w("config.saved", name="Boutique Conakry"))
    assert await stored(services, config.id) == {**before, "max_amount": None}


# --- Errors and feedback ------------------------------------------------------------------------


def assert_field_error(page: Merchant, field_id: str, words: str) -> None:
    page.text_in(f"#{field_id}-error", words)
    field = page.el(f"#{field_id}")
    assert field.get_attribute("aria-invalid") == "true"
    assert f"{field_id}-error" in field.get_attribute("aria-describedby").split()
    assert page.d.switch_to.active_element.get_attribute("id") == field_id
    assert page.el("#error").get_attribute("role") == "alert"


async def test_errors_show_on_their_field_in_the_page_language_and_saving_shows_progress(
    merchant: Merchant, services: Services, installed: FakeSaleor
) -> None:
    merchant.open()
    merchant.tab("settings")
    # The page's own check, then the server's refusals, each on its field.
    merchant.fill("#config-name", "")
    merchant.el("#config-save").click()
    assert_field_error(merchant, "config-name", merchant.w("error.REQUIRED"))
    assert merchant.w("error.onField", field=merchant.w("config.name"), message=merchant.w("error.REQUIRED")) in merchant.el("#error").text
    merchant.fill("#config-name", "Boutique")
    merchant.fill("#config-site", "site-1")
    merchant.fill("#config-key", "not-the-right-key-0000")
    merchant.choose("#config-env", value="custom")
    from tests.conftest import LENGO_KEY, LENGO_URL, WEBSITE_ID

    merchant.fill("#config-url", LENGO_URL)
    merchant.fill("#config-min", "abc")
    merchant.el("#config-save").click()
    assert_field_error(merchant, "config-min", merchant.w("error.AMOUNT_INVALID"))
    assert merchant.el("#config-name").get_attribute("aria-invalid") is None  # the earlier error is gone
    merchant.fill("#config-min", "")
    merchant.el("#config-save").click()
    assert_field_error(merchant, "config-key", merchant.w("error.CREDENTIALS_REFUSED"))
    if merchant.locale == "fr":
        assert "Lengo refused" not in merchant.el("#config-form").text

    # While it saves, the button says so and the form is busy.
    merchant.fill("#config-site", WEBSITE_ID)
    merchant.fill("#config-key", LENGO_KEY)
    merchant.hold_requests()
    merchant.el("#config-save").click()
    save = merchant.el("#config-save")
    assert save.text == merchant.w("config.checking")
    assert save.get_attribute("aria-busy") == "true" and not save.is_enabled()
    assert merchant.el("#config-form").get_attribute("aria-busy") == "true"
    assert merchant.el("#status").text == merchant.w("config.checking")
    merchant.release_requests()
    merchant.text_in("#notice-ok", merchant.w("config.saved", name="Boutique"))
    assert merchant.el("#notice-ok").get_attribute("role") == "status"
    assert merchant.el("#config-save").text == merchant.w("config.save")
    assert merchant.el("#config-key").get_attribute("aria-invalid") is None


async def test_recording_a_refund_asks_first_and_a_refused_amount_shows_on_its_field(
    merchant: Merchant, services: Services, installed: FakeSaleor
) -> None:
    inst_id, config = await configured(services, installed)
    paid = await insert_payment(services.db, installation_id=inst_id, configuration_id=config.id, pay_id="UmVmdW5kTWU=")
    merchant.open()
    merchant.click(f'tr[data-payment="{paid}"] button.open-payment')
    merchant.visible("#refund-form")

    merchant.fill("#refund-amount", "999999")
    merchant.el("#refund-submit").click()
    merchant.confirm_dialog()
    merchant.el("#confirm-ok").click()
    assert_field_error(merchant, "refund-amount", merchant.w("error.AMOUNT_TOO_HIGH"))

    merchant.fill("#refund-amount", "50000")
    merchant.el("#refund-submit").click()
    dialog = merchant.confirm_dialog()
    amount = "50\u202f000 GNF" if merchant.locale == "fr" else "50,000 GNF"
    assert merchant.w("refund.confirmText", amount=amount, payment="UmVmdW5kTWU=") in dialog.text
    # The safe answer has the focus, and cancelling records nothing.
    assert merchant.d.switch_to.active_element.get_attribute("id") == "confirm-cancel"
    merchant.el("#confirm-cancel").click()
    assert not merchant.el("#confirm").is_displayed()
    async with services.db.read() as conn:
        assert (await conn.execute(select(outbox.c.id).where(outbox.c.payment_id == paid))).all() == []

    merchant.el("#refund-submit").click()
    merchant.confirm_dialog()
    merchant.el("#confirm-ok").click()
    merchant.text_in("#notice-ok", merchant.w("refund.done", amount=amount))
    async with services.db.read() as conn:
        refunded = (await conn.execute(select(payments.c.refunded_amount).where(payments.c.id == paid))).scalar_one()
    assert refunded == "50000"


async def test_a_payment_needing_review_is_listed_and_resolved_after_a_confirmation(
    merchant: Merchant, services: Services, installed: FakeSaleor
) -> None:
    inst_id, config = await configured(services, installed)
    reason = "Lengo status SUCCESS (callback) with an amount that cannot be right: 0."
    held = await insert_payment(services.db, installation_id=inst_id, configuration_id=config.id, state="needs_review",
                                amount="150000", confirmed_amount=None, failure_reason=reason, pay_id="SGVsZE1l")
    closed = await insert_payment(services.db, installation_id=inst_id, configuration_id=config.id,
                                  state="needs_review", amount="9000", confirmed_amount=None, failure_reason=reason)
    await insert_payment(services.db, installation_id=inst_id, configuration_id=config.id)
    merchant.open()

    # Listed under its own state, in the page's language.
    merchant.choose("#filter-state", value="NEEDS_REVIEW")
    merchant.el("#search-form button[type=submit]").click()
    merchant.wait.until(lambda d: len(d.find_elements(merchant.By.CSS_SELECTOR, "tr[data-payment]")) == 2)
    assert merchant.w("state.NEEDS_REVIEW") in merchant.visible(f'tr[data-payment="{held}"]').text

    merchant.click(f'tr[data-payment="{held}"] button.open-payment')
    merchant.text_in("#review-form", merchant.w("review.title"))
    merchant.fill("#review-amount", "150 000")
    merchant.el("#review-submit").click()  # no note: refused on its field, nothing sent
    assert_field_error(merchant, "review-note", merchant.w("error.REQUIRED"))

    merchant.fill("#review-note", "Lengo portal: 150000 GNF received")
    merchant.el("#review-submit").click()
    dialog = merchant.confirm_dialog()
    amount = "150\u202f000 GNF" if merchant.locale == "fr" else "150,000 GNF"
    assert merchant.w("review.confirmCharged", amount=amount) in dialog.text
    assert merchant.d.switch_to.active_element.get_attribute("id") == "confirm-cancel"
    merchant.el("#confirm-cancel").click()
    async with services.db.read() as conn:
        assert (await conn.execute(select(outbox.c.id).where(outbox.c.payment_id == held))).all() == []

    merchant.el("#review-submit").click()
    merchant.confirm_dialog()
    merchant.el("#confirm-ok").click()
    merchant.text_in("#notice-ok", merchant.w("review.doneCharged"))
    async with services.db.read() as conn:
        state = (await conn.execute(select(payments.c.state).where(payments.c.id == held))).scalar_one()
        told = (await conn.execute(select(outbox.c.event_type, outbox.c.amount).where(outbox.c.payment_id == held))).all()
    assert (state, [tuple(t) for t in told]) == ("succeeded", [("CHARGE_SUCCESS", "150000")])

    # The other: nothing was charged; it is closed and Saleor is told nothing.
    merchant.open()
    merchant.click(f'tr[data-payment="{closed}"] button.open-payment')
    merchant.visible("#review-form")
    merchant.el("#review-not-charged").click()
    merchant.fill("#review-note", "Nothing on the Lengo portal")
    merchant.el("#review-submit").click()
    assert merchant.w("review.confirmNotCharged") in merchant.confirm_dialog().text
    merchant.el("#confirm-ok").click()
    merchant.text_in("#notice-ok", merchant.w("review.doneNotCharged"))
    async with services.db.read() as conn:
        state = (await conn.execute(select(payments.c.state).where(payments.c.id == closed))).scalar_one()
        told = (await conn.execute(select(outbox.c.id).where(outbox.c.payment_id == closed))).all()
    assert (state, told) == ("closed", [])


async def test_outside_the_dashboard_the_page_says_where_to_open_it(
    merchant: Merchant, served: tuple[str, str]
) -> None:
    app_url, _parent = served
    merchant.d.get(f"{app_url}/app?locale={merchant.locale}")
    merchant.read_words()
    box = merchant.visible("#boot-error")
    assert box.get_attribute("role") == "alert"
    assert merchant.w("boot.standalone.title") in box.text and merchant.w("boot.standalone.text") in box.text
    assert not any(v.is_displayed() for v in merchant.d.find_elements(merchant.By.CSS_SELECTOR, "#main > .view"))


async def test_a_handshake_that_never_comes_turns_into_a_clear_message(
    merchant: Merchant, served: tuple[str, str]
) -> None:
    _app, parent_url = served
    merchant.d.get(f"{parent_url}/silent?locale={merchant.locale}")
    merchant.d.switch_to.frame("app")
    merchant.read_words()
    assert not any(v.is_displayed() for v in merchant.d.find_elements(merchant.By.CSS_SELECTOR, "#main > .view"))
    box = merchant.visible("#boot-error")
    assert box.get_attribute("data-reason") == "timeout"
    assert merchant.w("boot.timeout.title") in box.text and merchant.w("boot.timeout.text") in box.text
    assert not merchant.el("#status").is_displayed()


# --- Undelivered events ---------------------------------------------------------------------------


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


async def event_states(services: Services) -> dict[int, str]:
    async with services.db.read() as conn:
        return dict((await conn.execute(select(outbox.c.id, outbox.c.state))).all())


@pytest.mark.parametrize("width", [600, 1280])
async def test_undelivered_events_fit_explain_themselves_and_are_sent_again(
    merchant: Merchant, services: Services, installed: FakeSaleor, width: int
) -> None:
    inst_id, config = await configured(services, installed)
    pid = await insert_payment(services.db, installation_id=inst_id, configuration_id=config.id, pay_id="RGVhZA==")
    fixable = await dead_event(services, inst_id, pid, LONG_ERROR, time.time() - 60)
    doomed = await dead_event(services, inst_id, pid, "NOT_FOUND: Couldn't resolve to a node: VHJhbnNhY3Rpb25JdGVtOjE=", time.time())
    merchant.d.set_window_size(width + 120, 1500)
    merchant.open(width=width)
    merchant.tab("dead")
    row = merchant.visible(f'tr[data-event="{fixable}"]')

    # Every row fits: no horizontal scroll, each button inside the frame.
    wrap = merchant.el("#view-dead .table-wrap")
    assert merchant.d.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth + 1", wrap)
    frame_width = merchant.d.execute_script("return document.documentElement.clientWidth")
    for button in merchant.d.find_elements(merchant.By.CSS_SELECTOR, "#dead-table button"):
        right = merchant.d.execute_script("return arguments[0].getBoundingClientRect().right", button)
        assert right <= frame_width, (button.text, right, frame_width)

    # Merchant words first; the technical text one click away, whole.
    assert merchant.w("cause.PERMISSION") in row.text
    assert LONG_ERROR not in row.text
    row.find_element(merchant.By.CSS_SELECTOR, "summary").click()
    merchant.text_in(f'tr[data-event="{fixable}"] .tech', LONG_ERROR)
    doomed_row = merchant.el(f'tr[data-event="{doomed}"]')
    assert merchant.w("cause.TRANSACTION_NOT_FOUND") in doomed_row.text
    assert merchant.w("dead.willFailAgain") in doomed_row.text

    # A retry that cannot work says so before anything is sent; cancelling sends nothing.
    doomed_row.find_element(merchant.By.CSS_SELECTOR, "button.retry").click()
    dialog = merchant.confirm_dialog()
    assert merchant.w("dead.failAgainWarning") in dialog.text
    merchant.el("#confirm-cancel").click()
    assert (await event_states(services))[doomed] == "dead"

    # Send all again: warned about the one that will fail, then both go.
    merchant.el("#dead-retry-all").click()
    dialog = merchant.confirm_dialog()
    assert merchant.w("dead.failAgainSome", n=1) in dialog.text
    merchant.el("#confirm-ok").click()
    merchant.text_in("#notice-ok", merchant.w("dead.retriedAll", n=2))
    states = await event_states(services)
    assert (states[fixable], states[doomed]) == ("pending", "pending")


async def test_an_undelivered_event_links_to_its_payment(merchant: Merchant, services: Services, installed: FakeSaleor) -> None:
    inst_id, config = await configured(services, installed)
    pid = await insert_payment(services.db, installation_id=inst_id, configuration_id=config.id, pay_id="TGlua01l")
    fixable = await dead_event(services, inst_id, pid, "permission denied (is the app still installed?): no", time.time())
    merchant.open()
    merchant.tab("dead")
    merchant.click(f'tr[data-event="{fixable}"] button.open-dead-payment')
    merchant.text_in("#payment-facts", "TGlua01l")
    assert merchant.el("#nav-payments").get_attribute("aria-selected") == "true"
    # Sent again from its row: no warning for a cause that can be fixed.
    merchant.tab("dead")
    merchant.click(f'tr[data-event="{fixable}"] button.retry')
    merchant.text_in("#notice-ok", merchant.w("dead.retried"))
    assert not merchant.el("#confirm").is_displayed()
    assert (await event_states(services))[fixable] == "pending"


# --- First run -------------------------------------------------------------------------------------


def steps(page: Merchant) -> dict[str, str]:
    # One script, so a list being drawn again is never read half old, half new.
    found: dict[str, str] = page.d.execute_script(
        "var s = {}; document.querySelectorAll('#checklist-steps > li').forEach(function (li) {"
        " s[li.getAttribute('data-step')] = li.getAttribute('data-state'); }); return s;"
    )
    return found


async def test_a_first_run_says_what_to_do_in_order_with_links(
    merchant: Merchant, services: Services, installed: FakeSaleor
) -> None:
    merchant.open()
    checklist = merchant.visible("#checklist")
    assert steps(merchant) == {"account": "todo", "channel": "later", "autocomplete": "later"}
    for key in ("first.account", "first.channel", "first.autocomplete", "first.state.todo"):
        assert merchant.w(key) in checklist.text
    checklist.find_element(merchant.By.LINK_TEXT, merchant.w("first.accountLink")).click()
    merchant.visible("#view-settings")
    merchant.wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "config-name", message="focus")
    assert merchant.el("#nav-settings").get_attribute("aria-selected") == "true"

    inst_id, config = await configured(services, installed)
    merchant.tab("payments")
    merchant.wait.until(lambda _d: steps(merchant).get("account") == "done")
    assert steps(merchant) == {"account": "done", "channel": "done", "autocomplete": "check"}
    link = merchant.el('#checklist-steps [data-step="autocomplete"] a')
    assert link.text == merchant.w("notice.link", name="Guinée")
    assert link.get_attribute("href").endswith("/channels/Q2hhbm5lbDoy")
    link.click()  # inside the Dashboard: an app-bridge redirect to the channel's settings
    merchant.d.switch_to.default_content()

    def redirects(d: Any) -> list[dict[str, Any]]:
        sent = d.execute_script("return window.received") or []
        return [{k: m["payload"].get(k) for k in ("to", "newContext")} for m in sent if m["type"] == "redirect"]

    # postMessage is delivered on a later task of the parent's loop: wait for it, never read it at once.
    merchant.wait.until(redirects, message="no redirect message reached the Dashboard")
    assert redirects(merchant.d) == [{"to": "/channels/Q2hhbm5lbDoy", "newContext": False}]
    merchant.d.switch_to.frame("app")

    # Once payments come in, the list takes the place of the checklist.
    await insert_payment(services.db, installation_id=inst_id, configuration_id=config.id)
    merchant.tab("settings")
    merchant.tab("payments")
    merchant.wait.until(lambda _d: not merchant.el("#checklist").is_displayed())
    merchant.text_in("#payments-count", merchant.w("payments.count", n=1))


# --- Accessible by name ---------------------------------------------------------------------------

UNNAMED = """
var bad = [];
document.querySelectorAll('button, input, select, textarea, a[href], summary').forEach(function (el) {
  if (!el.offsetParent && el.tagName !== 'SUMMARY') return;
  var name = (el.getAttribute('aria-label') || '').trim();
  if (!name && el.getAttribute('aria-labelledby')) name = el.getAttribute('aria-labelledby').split(' ')
      .map(function (id) { var x = document.getElementById(id); return x ? x.textContent : ''; }).join(' ').trim();
  if (!name && el.labels && el.labels.length) name = el.labels[0].textContent.trim();
  if (!name && /^(BUTTON|A|SUMMARY)$/.test(el.tagName)) name = el.textContent.trim();
  if (!name) bad.push(el.outerHTML.slice(0, 120));
});
return bad;
"""


async def test_every_control_has_a_name_views_are_tabs_and_tables_are_tables(
    merchant: Merchant, services: Services, installed: FakeSaleor
) -> None:
    inst_id, config = await configured(services, installed)
    pid = await insert_payment(services.db, installation_id=inst_id, configuration_id=config.id)
    await dead_event(services, inst_id, pid, "INCORRECT_DETAILS: no", time.time())
    merchant.open()
    from selenium.webdriver.common.keys import Keys

    assert merchant.el("#tabs").get_attribute("role") == "tablist"
    assert merchant.el("#error").get_attribute("role") == "alert"
    assert merchant.el("#notice-ok").get_attribute("role") == "status"
    assert merchant.el("#status").get_attribute("role") == "status"
    for view in ("payments", "settings", "dead"):
        merchant.tab(view)
        tab = merchant.el(f"#nav-{view}")
        panel = merchant.el(f"#{tab.get_attribute('aria-controls')}")
        assert tab.get_attribute("role") == "tab" and tab.get_attribute("aria-selected") == "true"
        assert panel.get_attribute("role") == "tabpanel" and panel.get_attribute("aria-labelledby") == tab.get_attribute("id")
        others = [t for t in merchant.d.find_elements(merchant.By.CSS_SELECTOR, "[role=tab]") if t != tab]
        assert all(t.get_attribute("aria-selected") == "false" for t in others)
        assert merchant.d.execute_script(UNNAMED) == [], view
        for table in merchant.d.find_elements(merchant.By.CSS_SELECTOR, f"#view-{view} table"):
            assert table.find_elements(merchant.By.CSS_SELECTOR, "thead th[scope=col]")
            assert merchant.d.execute_script("return getComputedStyle(arguments[0]).display", table) == "table"
    merchant.el("#nav-dead").send_keys(Keys.HOME)
    assert merchant.d.switch_to.active_element.get_attribute("id") == "nav-payments"
    merchant.visible("#view-payments")
    merchant.el("#nav-payments").send_keys(Keys.ARROW_LEFT)
    assert merchant.d.switch_to.active_element.get_attribute("id") == "nav-dead"
    merchant.visible("#view-dead")
    merchant.tab("payments")
    merchant.click(f'tr[data-payment="{pid}"] button.open-payment')
    merchant.visible("#refund-form")
    assert merchant.d.execute_script(UNNAMED) == []
