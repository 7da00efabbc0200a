"""Lengo Pay's merchant API, in memory, with switches to misbehave.

State lives in a `LengoState` that tests hold on to: they inspect its
payments and `calls`, move payments along (`pay`, `decline`), send the
callbacks Lengo would send, and flip the misbehaviour switches at run time.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from saleor_lengo import jsonutil
from saleor_lengo.lengo import vocabulary as lengo
from saleor_lengo.money import MoneyError, parse_amount

# Far longer than any client timeout: a hung call is one the client gives up on.
HANG_SECONDS = 3600.0
DEFAULT_GATEWAY = "Orange Money"
DEFAULT_ACCOUNT = "624897845"  # the doc's example payer number


def random_pay_id() -> str:
    # Like Lengo's: 24 base64 characters with "==" padding, sometimes "+" or "/".
    return base64.b64encode(os.urandom(16)).decode()


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class SimPayment:
    pay_id: str
    website_id: str
    amount: Decimal
    currency: str
    return_url: str | None
    callback_url: str | None
    status: str
    gateway: str | None
    account: str | None
    created_at: datetime
    # The status answer's `amount` as raw JSON text, as a broken or hostile
    # gateway could send it ("0", "-48000", "1e999999999", '"abc"'); None: the
    # created amount; "" leaves the field out.
    status_amount_json: str | None = None


@dataclass
class SimCashin:
    """A payout from a merchant's balance to a payer's wallet."""

    pay_id: str
    website_id: str
    amount: Decimal
    currency: str
    type_account: str
    account: str
    callback_url: str | None
    status: str
    created_at: datetime
    # Status reads still to come before the status settles (`LengoState.cashin_statuses`).
    script: list[str] = field(default_factory=list)


@dataclass
class LengoState:
    """Everything the simulator knows, and every switch that makes it misbehave."""

    # None: any non-empty key is accepted; otherwise only this one.
    license_key: str | None = None
    # Fraction of API calls answered 500, drawn from `rng`.
    fail_rate: float = 0.0
    # The next N API calls answer 500 (before doing anything).
    fail_next: int = 0
    # Seconds added to every API call (through `sleep`).
    slow: float = 0.0
    # The next N API calls sleep `hang_seconds` (real time) before answering.
    hang_next: int = 0
    hang_seconds: float = HANG_SECONDS
    # Create stores the payment, then answers 500: the ambiguous outcome.
    create_then_fail: bool = False
    # Smallest GNF amount accepted (API.md: 100 refused, 1,000 accepted).
    min_amount: Decimal = Decimal(lengo.MIN_GNF_AMOUNT)
    # Base of `payment_url`; None: this app's own `/pay`.
    page_base: str | None = None
    rng: random.Random = field(default_factory=random.Random)
    new_pay_id: Callable[[], str] = random_pay_id
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    now: Callable[[], datetime] = _utcnow
    payments: dict[str, SimPayment] = field(default_factory=dict)
    # Money on merchants' balances beyond their paid payments (website id → GNF).
    funds: dict[str, Decimal] = field(default_factory=dict)
    cashins: dict[str, SimCashin] = field(default_factory=dict)
    # What each status read of a new cash-in reports, in turn; the last one stays
    # (["FAILED", "SUCCESS"]: failure first, then success).
    cashin_statuses: list[str] = field(default_factory=lambda: [lengo.SUCCESS])
    # The next N cash-in requests are carried out, then answered 500 / left hanging: accepted, answer lost.
    cashin_then_fail: int = 0
    cashin_then_hang: int = 0
    # Money that reached payers' wallets (account → GNF): what a payout is for.
    wallets: dict[str, Decimal] = field(default_factory=dict)
    # (method, path as sent, still percent-encoded) of every request received.
    calls: list[tuple[str, str]] = field(default_factory=list)

    # --- Moving payments along, as a shopper on the payment page would ----------

    def set_status(
        self, pay_id: str, status: str, gateway: str | None = DEFAULT_GATEWAY, account: str | None = DEFAULT_ACCOUNT
    ) -> SimPayment:
        payment = self.payments[pay_id]
        payment.status = status
        payment.gateway = gateway
        payment.account = account
        return payment

    def pay(self, pay_id: str, gateway: str = DEFAULT_GATEWAY, account: str = DEFAULT_ACCOUNT) -> SimPayment:
        return self.set_status(pay_id, lengo.SUCCESS, gateway, account)

    def decline(self, pay_id: str, gateway: str = DEFAULT_GATEWAY, account: str = DEFAULT_ACCOUNT) -> SimPayment:
        return self.set_status(pay_id, lengo.FAILED, gateway, account)

    def balance(self, website_id: str) -> Decimal:
        """Paid payments and funds, less every cash-in not failed (a pending one is held already)."""
        paid = sum(
            (
                p.amount
                for p in self.payments.values()
                if p.website_id == website_id and p.status == lengo.SUCCESS and p.currency == "GNF"
            ),
            Decimal(0),
        )
        out = sum(
            (c.amount for c in self.cashins.values() if c.website_id == website_id and c.status != lengo.FAILED),
            Decimal(0),
        )
        return paid + self.funds.get(website_id, Decimal(0)) - out

    def settle_cashin(self, pay_id: str, status: str) -> SimCashin:
        """Move a cash-in to `status` now (SUCCESS puts the money on the payer's wallet, once)."""
        cashin = self.cashins[pay_id]
        cashin.script = []
        self._set_cashin(cashin, status)
        return cashin

    def _set_cashin(self, cashin: SimCashin, status: str) -> None:
        if status == lengo.SUCCESS and cashin.status != lengo.SUCCESS:
            self.wallets[cashin.account] = self.wallets.get(cashin.account, Decimal(0)) + cashin.amount
        elif status != lengo.SUCCESS and cashin.status == lengo.SUCCESS:
            self.wallets[cashin.account] -= cashin.amount
        cashin.status = status

    def read_cashin(self, pay_id: str) -> SimCashin:
        """A status read: the cash-in moves one step along its script."""
        cashin = self.cashins[pay_id]
        if cashin.script:
            self._set_cashin(cashin, cashin.script.pop(0))
        return cashin

    def cashin_answer(self, cashin: SimCashin) -> dict[str, Any]:
        return {
            "status": cashin.status,
            "pay_id": cashin.pay_id,
            "amount": cashin.amount,
            # A JSON number, as in the doc's example.
            "account": int(cashin.account),
            "date": cashin.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "gateway": "Orange Money" if cashin.type_account == lengo.ORANGE_MONEY_ACCOUNT else "MTN MoMo",
        }

    # --- Callbacks ----------------------------------------------------------

    def callback_body(self, pay_id: str) -> dict[str, Any]:
        payment = self.payments[pay_id]
        succeeded = payment.status == lengo.SUCCESS
        return {
            "pay_id": payment.pay_id,
            "status": payment.status,
            "amount": payment.amount,
            "message": lengo.CALLBACK_MESSAGE_SUCCESS if succeeded else lengo.CALLBACK_MESSAGE_FAILED,
            lengo.CALLBACK_CLIENT_FIELD: payment.account,
        }

    async def send_callback(
        self,
        pay_id: str,
        http: httpx.AsyncClient,
        *,
        copies: int = 1,
        delay: float = 0.0,
        form: bool = False,
        override: dict[str, Any] | None = None,
    ) -> list[int]:
        """POST Lengo's callback to the payment's callback_url; the HTTP status of each copy.

        `delay` is waited before each copy (a late or repeated delivery),
        `form` sends it form-encoded instead of JSON, `override` replaces
        fields (a forged or inconsistent callback). Redirects are not
        followed: the merchant sees what a broken trailing-slash setup gives.
        """
        url = self.payments[pay_id].callback_url
        if url is None:
            raise ValueError(f"payment {pay_id} has no callback_url")
        body = self.callback_body(pay_id)
        body.update(override or {})
        statuses: list[int] = []
        for _ in range(copies):
            if delay:
                await self.sleep(delay)
            if form:
                response = await http.post(url, data=_form_fields(body), follow_redirects=False)
            else:
                response = await http.post(
                    url,
                    content=jsonutil.dumps(body),
                    headers={"Content-Type": "application/json"},
                    follow_redirects=False,
                )
            statuses.append(response.status_code)
        return statuses


    async def send_cashin_callback(self, pay_id: str, http: httpx.AsyncClient) -> int:
        """POST the cash-in callback Lengo's doc describes (`account`, not `Client`); its HTTP status."""
        cashin = self.cashins[pay_id]
        if cashin.callback_url is None:
            raise ValueError(f"cash-in {pay_id} has no callback_url")
        body = {"pay_id": cashin.pay_id, "status": cashin.status, "amount": cashin.amount,
                "message": "Transaction Successful" if cashin.status == lengo.SUCCESS else "Transaction Failed",
                "account": cashin.account}
        response = await http.post(
            cashin.callback_url, content=jsonutil.dumps(body), headers={"Content-Type": "application/json"},
            follow_redirects=False,
        )
        return response.status_code


def _form_fields(body: dict[str, Any]) -> dict[str, str]:
    return {k: "" if v is None else format(v, "f") if isinstance(v, Decimal) else str(v) for k, v in body.items()}


# --- Answers ----------------------------------------------------------------


def _json(content: Any, status_code: int = 200) -> Response:
    # jsonutil writes whole Decimals as integers: GNF amounts go out as `1500`.
    return Response(jsonutil.dumps(content), status_code=status_code, media_type="application/json")


def _refused(message: str, status_code: int = 400) -> Response:
    return _json({"status": lengo.ANSWER_ERROR, "message": message}, status_code)


def _unauthorized() -> Response:
    return _json({"error": lengo.UNAUTHORIZED_ERROR}, 401)


def _server_error() -> Response:
    # Lengo's 500 bodies vary (API.md); a framework-style JSON one will do.
    return _json({"message": "Server Error"}, 500)


_NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html><head><title>Not Found</title></head>"
    "<body><h1>404</h1><p>Not Found</p></body></html>"
)


async def _not_found(request: Request, exc: Exception) -> Response:
    # Lengo answers unknown routes (and wrong methods) with an HTML page, not JSON.
    _record(request)
    return HTMLResponse(_NOT_FOUND_PAGE, status_code=404)


# --- Request handling -------------------------------------------------------


def _record(request: Request) -> None:
    state: LengoState = request.app.state.lengo
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    state.calls.append((request.method, path))


async def _misbehave(request: Request) -> Response | None:
    """Record the call and apply the switches; a Response means: answer that instead."""
    state: LengoState = request.app.state.lengo
    _record(request)
    if state.slow > 0:
        await state.sleep(state.slow)
    if state.hang_next > 0:
        state.hang_next -= 1
        # Real time on purpose: it must outlast a real client timeout.
        await asyncio.sleep(state.hang_seconds)
    if state.fail_next > 0:
        state.fail_next -= 1
        return _server_error()
    if state.fail_rate > 0 and state.rng.random() < state.fail_rate:
        return _server_error()
    if not _authorized(state, request):
        return _unauthorized()
    return None


def _authorized(state: LengoState, request: Request) -> bool:
    # Exactly "Basic <key>", the key as issued: base64("user:password") is refused.
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return False
    key = header[len("Basic ") :]
    if state.license_key is None:
        return bool(key.strip())
    return key == state.license_key


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = jsonutil.loads(await request.body())
    except jsonutil.JsonError:
        return None
    return body if isinstance(body, dict) else None


def _present(body: dict[str, Any], *names: str) -> bool:
    return all(body.get(name) not in (None, "") for name in names)


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _acceptable_amount(state: LengoState, raw: Any, currency: str) -> Decimal | None:
    """The amount as a Decimal, or None when Lengo would answer "Unsupported amount"."""
    try:
        # A number or a numeric string (seen); above zero; more decimals than
        # the currency has is refused too (our guess at Lengo's answer).
        amount = parse_amount(raw, currency)
    except MoneyError:
        return None
    if currency == "GNF" and amount < state.min_amount:
        return None
    return amount


async def create_payment(request: Request) -> Response:
    state: LengoState = request.app.state.lengo
    if (early := await _misbehave(request)) is not None:
        return early
    body = await _json_body(request)
    if body is None or not _present(body, "websiteid", "amount", "currency"):
        return _refused(lengo.MESSAGE_MISSING_FIELDS)
    currency = str(body["currency"]).upper()
    amount = _acceptable_amount(state, body["amount"], currency)
    if amount is None:
        return _refused(lengo.MESSAGE_UNSUPPORTED_AMOUNT)
    pay_id = state.new_pay_id()
    state.payments[pay_id] = SimPayment(
        pay_id=pay_id,
        website_id=str(body["websiteid"]),
        amount=amount,
        currency=currency,
        return_url=_optional_str(body.get("return_url")),
        callback_url=_optional_str(body.get("callback_url")),
        status=lengo.INITIATED,
        gateway=None,
        account=None,
        created_at=state.now(),
    )
    if state.create_then_fail:
        return _server_error()
    page_base = state.page_base or str(request.base_url).rstrip("/") + "/pay"
    return _json(
        {
            "status": lengo.ANSWER_SUCCESS,
            "pay_id": pay_id,
            # The pay_id may hold "+", "/" and "=": encoded as a path segment.
            "payment_url": f"{page_base.rstrip('/')}/{quote(pay_id, safe='')}",
        }
    )


async def payment_status(request: Request) -> Response:
    state: LengoState = request.app.state.lengo
    if (early := await _misbehave(request)) is not None:
        return early
    body = await _json_body(request)
    if body is None or not _present(body, "pay_id", "websiteid"):
        return _refused(lengo.MESSAGE_MISSING_FIELDS)
    payment = state.payments.get(str(body["pay_id"]))
    if payment is None or payment.website_id != str(body["websiteid"]):
        # Our guess: what Lengo answers for a pay_id it does not know is unknown.
        return _refused(lengo.MESSAGE_NOT_FOUND, 404)
    answer: dict[str, Any] = {
        "status": payment.status,
        "pay_id": payment.pay_id,
        "date": payment.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "amount": payment.amount,
        "gateway": payment.gateway,
        "account": payment.account,
    }
    if payment.status_amount_json is None:
        return _json(answer)
    del answer["amount"]
    text = jsonutil.dumps(answer)
    if payment.status_amount_json:
        text = text[:-1] + ',"amount":' + payment.status_amount_json + "}"
    return Response(text, media_type="application/json")


async def balance(request: Request) -> Response:
    state: LengoState = request.app.state.lengo
    if (early := await _misbehave(request)) is not None:
        return early
    website_id = request.path_params["websiteid"]
    return _json({"status": lengo.ANSWER_SUCCESS, "balance": state.balance(website_id), "currency": "GNF"})


async def cashin_request(request: Request) -> Response:
    state: LengoState = request.app.state.lengo
    if (early := await _misbehave(request)) is not None:
        return early
    body = await _json_body(request)
    names = ("amount", "currency", "websiteid", "type_account", "account")
    if body is None or not _present(body, *names):
        return _refused(lengo.MESSAGE_MISSING_FIELDS)
    currency = str(body["currency"]).upper()
    # The doc sends the amount as a string; a number is taken too.
    amount = _acceptable_amount(state, body["amount"], currency)
    account = lengo.payer_number(body["account"]) if isinstance(body["account"], str) else None
    if amount is None or currency != lengo.CASHIN_CURRENCY:
        return _refused(lengo.MESSAGE_UNSUPPORTED_AMOUNT)
    if account is None or body["type_account"] not in (lengo.ORANGE_MONEY_ACCOUNT, lengo.MTN_MOMO_ACCOUNT):
        return _refused(lengo.MESSAGE_MISSING_FIELDS)
    website_id = str(body["websiteid"])
    if amount > state.balance(website_id):
        return _refused(lengo.MESSAGE_INSUFFICIENT_BALANCE)
    pay_id = state.new_pay_id()
    script = list(state.cashin_statuses)
    state.cashins[pay_id] = SimCashin(
        pay_id=pay_id,
        website_id=website_id,
        amount=amount,
        currency=currency,
        type_account=str(body["type_account"]),
        account=account,
        callback_url=_optional_str(body.get("callback_url")),
        status=lengo.PENDING,
        created_at=state.now(),
        script=script,
    )
    if state.cashin_then_fail > 0:
        state.cashin_then_fail -= 1
        return _server_error()
    if state.cashin_then_hang > 0:
        state.cashin_then_hang -= 1
        await asyncio.sleep(state.hang_seconds)
    return _json({"status": lengo.ANSWER_SUCCESS, "pay_id": pay_id, "message": "Request received successfully"})


async def cashin_status(request: Request) -> Response:
    state: LengoState = request.app.state.lengo
    if (early := await _misbehave(request)) is not None:
        return early
    body = await _json_body(request)
    if body is None or not _present(body, "pay_id", "websiteid"):
        return _refused(lengo.MESSAGE_MISSING_FIELDS)
    cashin = state.cashins.get(str(body["pay_id"]))
    if cashin is None or cashin.website_id != str(body["websiteid"]):
        return _refused(lengo.MESSAGE_NOT_FOUND, 404)  # doc: 404 for an unknown pay_id
    return _json(state.cashin_answer(state.read_cashin(cashin.pay_id)))


async def cashin_history(request: Request) -> Response:
    state: LengoState = request.app.state.lengo
    if (early := await _misbehave(request)) is not None:
        return early
    body = await _json_body(request)
    if body is None or not _present(body, "websiteid"):
        return _refused(lengo.MESSAGE_MISSING_FIELDS)
    website_id = str(body["websiteid"])
    return _json([state.cashin_answer(c) for c in state.cashins.values() if c.website_id == website_id])


def create_app(state: LengoState) -> Starlette:
    app = Starlette(
        routes=[
            Route(lengo.CREATE_PAYMENT_PATH, create_payment, methods=["POST"]),
            Route(lengo.PAYMENT_STATUS_PATH, payment_status, methods=["POST"]),
            Route(lengo.CASHIN_REQUEST_PATH, cashin_request, methods=["POST"]),
            Route(lengo.CASHIN_STATUS_PATH, cashin_status, methods=["POST"]),
            Route(lengo.CASHIN_HISTORY_PATH, cashin_history, methods=["POST"]),
            # ":path" because a site id may hold an encoded "/", which arrives decoded.
            Route(lengo.BALANCE_PATH.replace("{websiteid}", "{websiteid:path}"), balance, methods=["GET"]),
        ],
        exception_handlers={404: _not_found, 405: _not_found},
    )
    app.state.lengo = state
    return app
