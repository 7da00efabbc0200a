"""The simulator's hosted payment page: where `payment_url` sends the shopper.

A person (or a test posting the form) chooses "Pay with Orange Money", "Pay
with MTN MoMo", "Decline" or "Abandon". Paying or declining sets the
payment's status, sends Lengo's JSON callback in the background, as the
`CallbackPolicy` says (late, repeated, or not at all), and redirects the
browser (303) to the payment's `return_url`. Abandoning is the shopper
going back to the shop: a redirect to `return_url` with nothing changed, so
the payment stays `INITIATED` until the merchant gives up on it.

Every page says that this is a simulator. `GET /_simulator/payments/{pay_id}`
shows, as JSON, a payment and each callback delivery: what integration
tests wait on. It is the simulator's own route, not part of Lengo's API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from saleor_lengo import jsonutil
from saleor_lengo.lengo import vocabulary as lengo
from saleor_lengo.logs import get_logger
from saleor_lengo.simulator.api import DEFAULT_ACCOUNT, LengoState, SimPayment

log = get_logger(__name__)

PAGE_PATH = "/pay/{pay_id:path}"  # ":path": a pay_id may hold "/", which arrives decoded
STATUS_PATH = "/_simulator/payments/{pay_id:path}"
# What payouts did: every cash-in and the money on each payer's wallet (the simulator's own view).
CASHINS_PATH = "/_simulator/cashins"

# Lengo retries a failed callback "for a limited period" (doc; schedule unknown):
# these waits, about a minute in all, after a non-2xx answer or a network error.
RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
CALLBACK_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@dataclass(frozen=True)
class Method:
    gateway: str
    account: str


# The shopper's choices. Payer numbers are made up, in each operator's range.
METHODS: dict[str, Method] = {
    "orange-money": Method("Orange Money", DEFAULT_ACCOUNT),
    "mtn-momo": Method("MTN MoMo", "664123456"),
}
DECLINE = "decline"
ABANDON = "abandon"


@dataclass(frozen=True)
class CallbackPolicy:
    """How callbacks go out after a shopper pays or declines."""

    enabled: bool = True
    delay: float = 0.0  # waited before each copy
    copies: int = 1  # each callback is sent this many times
    retry_delays: Sequence[float] = RETRY_DELAYS

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError("callback delay must not be negative")
        if self.copies < 1:
            raise ValueError("callbacks are sent at least once (use --no-callback for none)")


@dataclass
class Delivery:
    """One attempt to deliver one copy of a callback."""

    copy: int
    attempt: int
    at: datetime
    status: int | None  # the merchant's HTTP status; None when the request failed
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "copy": self.copy,
            "attempt": self.attempt,
            "at": self.at.isoformat(),
            "status": self.status,
            "error": self.error,
        }


@dataclass
class PaymentPage:
    """The page's routes and the callbacks they send in the background."""

    state: LengoState
    policy: CallbackPolicy = field(default_factory=CallbackPolicy)
    http: httpx.AsyncClient | None = None
    deliveries: dict[str, list[Delivery]] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def routes(self) -> list[Route]:
        return [
            Route("/", self.index, methods=["GET"]),
            Route(PAGE_PATH, self.show, methods=["GET"]),
            Route(PAGE_PATH, self.choose, methods=["POST"]),
            Route(STATUS_PATH, self.status, methods=["GET"]),
            Route(CASHINS_PATH, self.cashins, methods=["GET"]),
        ]

    # --- Background callbacks ----------------------------------------------

    def schedule_callback(self, pay_id: str) -> None:
        if not self.policy.enabled:
            log.info("simulator_callback_suppressed", pay_id=pay_id)
            return
        if self.state.payments[pay_id].callback_url is None:
            log.info("simulator_no_callback_url", pay_id=pay_id)
            return
        # A payment settles once, so at most one delivery task runs per pay_id.
        task = asyncio.create_task(self._deliver_all(pay_id))
        self._tasks[pay_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(pay_id, None))

    async def _deliver_all(self, pay_id: str) -> None:
        for copy in range(1, self.policy.copies + 1):
            await self._deliver(pay_id, copy)

    async def _deliver(self, pay_id: str, copy: int) -> None:
        waits = [self.policy.delay, *self.policy.retry_delays]
        for attempt, wait in enumerate(waits, start=1):
            status: int | None = None
            error: str | None = None
            try:
                http = self._client()
                # The body is taken when sent: it carries the status at that moment.
                [status] = await self.state.send_callback(pay_id, http, delay=wait)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            self.deliveries.setdefault(pay_id, []).append(
                Delivery(copy=copy, attempt=attempt, at=self.state.now(), status=status, error=error)
            )
            log.info("simulator_callback_sent", pay_id=pay_id, copy=copy, attempt=attempt, http_status=status, error=error)
            if status is not None and 200 <= status < 300:
                return
        log.warning("simulator_callback_given_up", pay_id=pay_id, copy=copy)

    def _client(self) -> httpx.AsyncClient:
        if self.http is None:
            self.http = httpx.AsyncClient(timeout=CALLBACK_TIMEOUT, follow_redirects=False)
        return self.http

    async def drain(self) -> None:
        """Wait for every callback in flight (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.http is not None:
            await self.http.aclose()
            self.http = None

    # --- Pages ----------------------------------------------------------------

    async def index(self, _request: Request) -> Response:
        rows = "".join(
            f"<tr><td><a href='{_page_url(p.pay_id)}'><code>{escape(p.pay_id)}</code></a></td>"
            f"<td>{escape(_amount(p))}</td><td>{escape(p.status)}</td></tr>"
            for p in reversed(list(self.state.payments.values()))
        )
        table = (
            f"<table><tr><th>pay_id</th><th>amount</th><th>status</th></tr>{rows}</table>"
            if rows
            else "<p>No payment yet. Payments created through <code>POST /api/v1/payments</code> show up here.</p>"
        )
        return _page("Lengo Pay simulator", f"<h1>Lengo Pay simulator</h1>{table}")

    async def show(self, request: Request) -> Response:
        payment = self.state.payments.get(request.path_params["pay_id"])
        if payment is None:
            return _unknown_payment()
        if payment.status in lengo.FINAL_STATUSES:
            return _page("Payment " + payment.status, _outcome(payment))
        buttons = "".join(
            f"<button name='choice' value='{key}'>Pay with {escape(m.gateway)}</button>" for key, m in METHODS.items()
        )
        body = (
            f"<h1>Pay {escape(_amount(payment))}</h1>"
            f"<p class='amount'>{escape(_amount(payment))}</p>"
            f"<p>Payment <code>{escape(payment.pay_id)}</code> for site <code>{escape(payment.website_id)}</code>.</p>"
            f"<form method='post' action='{_page_url(payment.pay_id)}'>{buttons}"
            f"<button name='choice' value='{DECLINE}' class='secondary'>Decline</button>"
            f"<button name='choice' value='{ABANDON}' class='secondary'>Abandon</button></form>"
            "<p class='hint'>Paying or declining sends the callback to the merchant and takes you back to the "
            "shop. Abandoning takes you back without changing anything: the payment stays open.</p>"
        )
        return _page(f"Pay {_amount(payment)}", body)

    async def choose(self, request: Request) -> Response:
        payment = self.state.payments.get(request.path_params["pay_id"])
        if payment is None:
            return _unknown_payment()
        fields = parse_qs((await request.body()).decode("utf-8", "replace"))
        choice = (fields.get("choice") or [""])[0]
        if choice == ABANDON:
            log.info("simulator_payment_abandoned", pay_id=payment.pay_id)
            return _back_to_shop(payment, "You left the payment page. Nothing was paid; the payment stays open.")
        if choice not in METHODS and choice != DECLINE:
            return _page("Unknown choice", f"<h1>Unknown choice {escape(choice)}</h1>", 400)
        if payment.status in lengo.FINAL_STATUSES:
            # Lengo does not let a settled payment be paid (or declined) again.
            return _page("Payment " + payment.status, _outcome(payment), 409)
        if choice == DECLINE:
            self.state.decline(payment.pay_id)
        else:
            method = METHODS[choice]
            self.state.pay(payment.pay_id, method.gateway, method.account)
        log.info("simulator_payment_settled", pay_id=payment.pay_id, status=payment.status, gateway=payment.gateway)
        self.schedule_callback(payment.pay_id)
        return _back_to_shop(payment, _outcome_text(payment))

    async def status(self, request: Request) -> Response:
        payment = self.state.payments.get(request.path_params["pay_id"])
        if payment is None:
            return Response(jsonutil.dumps({"error": "unknown pay_id"}), 404, media_type="application/json")
        body = {
            "simulator": True,
            "pay_id": payment.pay_id,
            "status": payment.status,
            "amount": payment.amount,
            "currency": payment.currency,
            "gateway": payment.gateway,
            "return_url": payment.return_url,
            "has_callback_url": payment.callback_url is not None,
            "callbacks": [d.as_json() for d in self.deliveries.get(payment.pay_id, [])],
            "callbacks_in_flight": payment.pay_id in self._tasks,
        }
        return Response(jsonutil.dumps(body), media_type="application/json")

    async def cashins(self, request: Request) -> Response:
        body = {
            "simulator": True,
            "cashins": [self.state.cashin_answer(c) for c in self.state.cashins.values()],
            "wallets": self.state.wallets,
        }
        return Response(jsonutil.dumps(body), media_type="application/json")


# --- HTML -------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:0 1rem 2rem;color:#222}
.banner{background:#b00020;color:#fff;padding:.6rem 1rem;margin:0 -1rem 1rem;font-weight:bold;text-align:center}
.amount{font-size:2.2rem;font-weight:bold;margin:.5rem 0}
form{display:flex;flex-direction:column;gap:.6rem;margin:1.5rem 0}
button{font-size:1.1rem;padding:.8rem;border-radius:.4rem;border:1px solid #444;background:#ff7900;color:#000;cursor:pointer}
button[value=mtn-momo]{background:#ffcc00}
button.secondary{background:#eee}
.hint{color:#555;font-size:.9rem}
td,th{padding:.2rem .6rem;text-align:left}
"""

BANNER = "SIMULATOR — this is not Lengo Pay. No real money moves; nothing here is a real payment."


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>[SIMULATOR] {escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><div class='banner' role='alert'>{escape(BANNER)}</div>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code)


def _page_url(pay_id: str) -> str:
    return "/pay/" + quote(pay_id, safe="")


def _amount(payment: SimPayment) -> str:
    return f"{payment.amount:,f} {payment.currency}".replace(",", "\u202f")


def _outcome_text(payment: SimPayment) -> str:
    if payment.status == lengo.SUCCESS:
        return f"Paid {_amount(payment)} with {payment.gateway}."
    if payment.status == lengo.FAILED:
        return f"The payment of {_amount(payment)} was declined."
    return f"The payment of {_amount(payment)} is {payment.status}."


def _outcome(payment: SimPayment) -> str:
    back = (
        f"<p><a href='{escape(payment.return_url, quote=True)}'>Back to the shop</a></p>" if payment.return_url else ""
    )
    return f"<h1>{escape(_outcome_text(payment))}</h1>{back}"


def _back_to_shop(payment: SimPayment, text: str) -> Response:
    if payment.return_url:
        # 303: the browser follows with a GET, as after any form post.
        return RedirectResponse(payment.return_url, status_code=303)
    return _page(text, f"<h1>{escape(text)}</h1><p>The merchant gave no return_url, so there is no shop to go back to.</p>")


def _unknown_payment() -> HTMLResponse:
    return _page("Unknown payment", "<h1>Unknown payment</h1><p>This simulator has no such payment.</p>", 404)
