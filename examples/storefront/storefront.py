#!/usr/bin/env python3
"""Pay a Saleor checkout with Lengo Pay, the way a storefront does.

    python examples/storefront/storefront.py --saleor-api-url http://localhost:8000/graphql/ --channel default-channel

Creates a checkout (or takes `--checkout-id`), then runs the four storefront
calls of the Lengo Pay app, each in its own `.graphql` file beside this script:

1. `paymentGatewayInitialize` — is Lengo Pay available for this checkout?
2. `transactionInitialize` with `data` = `{"returnUrl": …}`, one `JSON` variable
   (Saleor ignores variables written inside a JSON literal) — answers `data.paymentUrl`;
   the shopper pays there (this script opens it in a browser, or prints it).
3. back on `returnUrl?transactionId=…` (a tiny local HTTP server catches it),
   `transactionProcess` — `CHARGE_SUCCESS`, `CHARGE_FAILURE`, or
   `CHARGE_ACTION_REQUIRED` while the shopper is still paying or has
   abandoned the page: asked again every few seconds until the app says
   paid or failed (an abandoned payment fails once it expires, after the
   app's PAYMENT_TTL_SECONDS) or `--process-timeout` runs out;
4. `checkoutComplete` — the order.

Only httpx is needed. Storefront calls need no token.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

import httpx

HERE = Path(__file__).resolve().parent
monotonic = time.monotonic  # the clock the polling deadline is read from
DEFAULT_GATEWAY_ID = "saleor.app.payment.lengo"  # the app's manifest id (MANIFEST_APP_ID)
RETURN_PATH = "/return"
STILL_OPEN = "CHARGE_ACTION_REQUIRED"
NOT_FULLY_PAID = "CHECKOUT_NOT_FULLY_PAID"

# Sample addresses Saleor's address validation accepts.
ADDRESSES: dict[str, dict[str, str]] = {
    "GN": {
        "firstName": "Mariama",
        "lastName": "Diallo",
        "streetAddress1": "Avenue de la République",
        "city": "Conakry",
        "country": "GN",
        "phone": "+224624897845",
    },
    "US": {
        "firstName": "Mariama",
        "lastName": "Diallo",
        "streetAddress1": "1600 Amphitheatre Pkwy",
        "city": "Mountain View",
        "countryArea": "CA",
        "postalCode": "94043",
        "country": "US",
        "phone": "+16502530000",
    },
}


class StorefrontError(Exception):
    """Saleor refused a call; the message says which and why."""


def money(amount: Any, currency: str) -> str:
    value = Decimal(str(amount))
    return f"{value.quantize(Decimal(1)) if value == value.to_integral_value() else value:f} {currency}"


def document(name: str) -> str:
    return (HERE / f"{name}.graphql").read_text()


def _first_errors(payload: dict[str, Any]) -> list[dict[str, Any]]:
    errors = payload.get("errors") or []
    return [e for e in errors if isinstance(e, dict)]


@dataclass
class Storefront:
    """Saleor's storefront API, one method per document."""

    api_url: str
    http: httpx.Client

    def execute(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(self.api_url, json={"query": document(name), "variables": variables})
        try:
            # Amounts are JSON floats: read them as Decimal, never through float.
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise StorefrontError(f"{name}: HTTP {response.status_code}, not JSON: {response.text[:200]}") from None
        if body.get("errors"):
            messages = "; ".join(str(e.get("message")) for e in body["errors"])
            raise StorefrontError(f"{name}: {messages}")
        data: dict[str, Any] = body["data"]
        return data

    def mutate(self, name: str, field: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A mutation's payload; its `errors` list raised as StorefrontError."""
        payload: dict[str, Any] = self.execute(name, variables)[field]
        errors = _first_errors(payload)
        if errors:
            described = "; ".join(f"{e.get('code')}: {e.get('message')} ({e.get('field')})" for e in errors)
            raise StorefrontError(f"{field}: {described}")
        return payload

    def first_variant(self, channel: str) -> str:
        products = self.execute("first-variant", {"channel": channel})["products"]
        for edge in (products or {}).get("edges", []):
            node = edge["node"]
            if not node.get("isAvailableForPurchase"):
                continue
            for variant in node.get("variants") or []:
                if variant.get("quantityAvailable") is None or variant["quantityAvailable"] > 0:
                    return str(variant["id"])
        raise StorefrontError(f"no product in channel {channel!r} can be bought; pass --variant-id")

    def create_checkout(self, channel: str, variant_id: str, email: str, address: dict[str, str]) -> dict[str, Any]:
        checkout: dict[str, Any] = self.mutate(
            "checkout-create",
            "checkoutCreate",
            {"channel": channel, "email": email, "lines": [{"variantId": variant_id, "quantity": 1}], "address": address},
        )["checkout"]
        if checkout["isShippingRequired"]:
            methods = checkout.get("shippingMethods") or []
            if not methods:
                raise StorefrontError(
                    "the checkout needs shipping but no shipping method serves this address: "
                    "check the channel's shipping zones, or use --country"
                )
            updated = self.mutate(
                "checkout-delivery-method-update",
                "checkoutDeliveryMethodUpdate",
                {"id": checkout["id"], "deliveryMethodId": methods[0]["id"]},
            )["checkout"]
            checkout["totalPrice"] = updated["totalPrice"]
        return checkout

    def gateway_initialize(self, checkout_id: str, gateway_id: str) -> dict[str, Any]:
        payload = self.mutate(
            "payment-gateway-initialize",
            "paymentGatewayInitialize",
            {"checkoutId": checkout_id, "gatewayId": gateway_id},
        )
        configs = [c for c in payload.get("gatewayConfigs") or [] if c["id"] == gateway_id]
        if not configs:
            raise StorefrontError(f"gateway {gateway_id!r} is not installed for this channel (is the app installed?)")
        if configs[0].get("errors"):
            raise StorefrontError(f"gateway {gateway_id!r}: {configs[0]['errors']}")
        data: dict[str, Any] = configs[0].get("data") or {}
        return data

    def initialize(self, checkout_id: str, gateway_id: str, return_url: str) -> dict[str, Any]:
        return self.mutate(
            "transaction-initialize",
            "transactionInitialize",
            {
                "checkoutId": checkout_id,
                "gatewayId": gateway_id,
                # Whole, as one variable: inside a JSON literal Saleor would read $returnUrl as null.
                "data": {"returnUrl": return_url},
                # One key per attempt: pressing "pay" twice must not make two payments.
                "idempotencyKey": str(uuid.uuid4()),
            },
        )

    def process(self, transaction_id: str) -> dict[str, Any]:
        return self.mutate("transaction-process", "transactionProcess", {"transactionId": transaction_id})

    def complete(self, checkout_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self.mutate("checkout-complete", "checkoutComplete", {"checkoutId": checkout_id})["order"]
        return order


# --- The return URL ---------------------------------------------------------------------


class ReturnServer:
    """A one-page local HTTP server on the return URL; it remembers the transactionId it was given."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.transaction_id: str | None = None
        self._arrived = threading.Event()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                tx = (parse_qs(parts.query).get("transactionId") or [""])[0]
                if parts.path != RETURN_PATH or not tx:
                    self.send_error(404, "Not the return URL (or no transactionId in it)")
                    return
                catcher.transaction_id = tx
                catcher._arrived.set()
                page = (
                    "<!DOCTYPE html><meta charset='utf-8'><title>Back at the shop</title>"
                    "<h1>Back at the shop</h1><p>Checking your payment — see the terminal.</p>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.url = f"http://{host}:{self._server.server_address[1]}{RETURN_PATH}"

    def __enter__(self) -> ReturnServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> str:
        if not self._arrived.wait(timeout) or self.transaction_id is None:
            raise StorefrontError(f"the shopper did not come back to {self.url} within {timeout:g} s")
        return self.transaction_id


# --- The flow -------------------------------------------------------------------------------


@dataclass
class Outcome:
    result: str  # the last transactionProcess event type
    transaction_id: str
    order: dict[str, Any] | None


def pay(
    storefront: Storefront,
    checkout_id: str,
    *,
    gateway_id: str,
    returns: ReturnServer,
    open_url: Callable[[str], object],
    out: TextIO,
    return_timeout: float = 600.0,
    process_timeout: float = 600.0,
    process_interval: float = 3.0,
    complete_attempts: int = 5,
    complete_interval: float = 2.0,
    sleep: Callable[[float], None] | None = None,
) -> Outcome:
    sleep = sleep or time.sleep
    config = storefront.gateway_initialize(checkout_id, gateway_id)
    print(f"1. paymentGatewayInitialize: {config}", file=out)
    if not config.get("available", True):
        error = config.get("error") or {}
        raise StorefrontError(f"Lengo Pay is not available: {error.get('code')}: {error.get('message')}")

    started = storefront.initialize(checkout_id, gateway_id, returns.url)
    event = started.get("transactionEvent") or {}
    data = started.get("data") or {}
    print(f"2. transactionInitialize: {event.get('type')} {event.get('message') or ''}".rstrip(), file=out)
    if event.get("type") != "CHARGE_ACTION_REQUIRED" or not data.get("paymentUrl"):
        error = data.get("error") or {}
        raise StorefrontError(f"the payment did not start: {error.get('code')}: {error.get('message') or event}")
    print(f"   Pay here: {data['paymentUrl']}", file=out)
    print(f"   Waiting for the shopper on {returns.url} …", file=out, flush=True)
    open_url(data["paymentUrl"])

    transaction_id = returns.wait(return_timeout)
    print(f"3. back with transactionId={transaction_id}", file=out)
    deadline = monotonic() + process_timeout
    while True:
        processed = storefront.process(transaction_id)
        result = str((processed.get("transactionEvent") or {}).get("type"))
        print(f"   transactionProcess: {result}", file=out, flush=True)
        if result != "CHARGE_ACTION_REQUIRED" or monotonic() + process_interval > deadline:
            break
        sleep(process_interval)  # still paying on Lengo's page, or abandoned it and not expired yet
    if result == STILL_OPEN:
        print(
            f"   Still open after {process_timeout:g} s: not paid yet, no order. The app reports it failed once it "
            "expires (PAYMENT_TTL_SECONDS); a late payment is still reported.",
            file=out,
        )
        return Outcome(result, transaction_id, None)
    if result != "CHARGE_SUCCESS":
        print("   Not paid: no order.", file=out)
        return Outcome(result, transaction_id, None)

    for attempt in range(1, complete_attempts + 1):
        try:
            order = storefront.complete(checkout_id)
            break
        except StorefrontError as exc:
            # Saleor counts a charge the app reports after the fact (a late callback) a moment later:
            # "not fully paid" is asked again; anything else (e.g. Saleor already made the order,
            # "automatically complete fully paid checkouts") will not change.
            if NOT_FULLY_PAID not in str(exc) or attempt == complete_attempts:
                print(f"4. checkoutComplete refused ({exc}); the payment itself succeeded: find its order in "
                      "the Dashboard, or complete the checkout again.", file=out)
                return Outcome(result, transaction_id, None)
            print(f"4. checkoutComplete: {NOT_FULLY_PAID} yet, asking again in {complete_interval:g} s", file=out)
            sleep(complete_interval)
    total = order["total"]["gross"]
    print(
        f"4. checkoutComplete: order #{order['number']} {order['status']}, {order['chargeStatus']}, "
        + money(total["amount"], total["currency"]),
        file=out,
    )
    return Outcome(result, transaction_id, order)


# --- Command line ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Pay a Saleor checkout with the Lengo Pay app, as a storefront does.")
    p.add_argument("--saleor-api-url", default="http://localhost:8000/graphql/", help="Saleor's GraphQL URL")
    p.add_argument("--gateway-id", default=DEFAULT_GATEWAY_ID, help=f"the app's manifest id (default {DEFAULT_GATEWAY_ID})")
    p.add_argument("--checkout-id", help="pay this existing checkout instead of creating one")
    p.add_argument("--channel", default="default-channel", help="channel slug for the new checkout")
    p.add_argument("--variant-id", help="product variant to buy (default: the first one for sale in the channel)")
    p.add_argument("--email", default="shopper@example.com")
    p.add_argument("--country", choices=sorted(ADDRESSES), default="US", help="sample address to ship to")
    p.add_argument("--return-host", default="127.0.0.1", help="where this script listens for the shopper's return")
    p.add_argument("--return-port", type=int, default=3001)
    p.add_argument("--no-browser", action="store_true", help="print the payment URL instead of opening a browser")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the shopper to come back")
    p.add_argument(
        "--process-timeout", type=float, default=600.0,
        help="seconds to keep asking while the payment is open (default 600: longer than a 120 s PAYMENT_TTL_SECONDS)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None, *, http: httpx.Client | None = None, out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    client = http or httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0))
    storefront = Storefront(args.saleor_api_url, client)
    try:
        checkout_id = args.checkout_id
        if checkout_id is None:
            variant = args.variant_id or storefront.first_variant(args.channel)
            checkout = storefront.create_checkout(args.channel, variant, args.email, ADDRESSES[args.country])
            checkout_id = checkout["id"]
            total = checkout["totalPrice"]["gross"]
            print(f"0. checkoutCreate: {checkout_id}, {money(total['amount'], total['currency'])}", file=out)
        open_url: Callable[[str], object] = (lambda _url: None) if args.no_browser else webbrowser.open
        with ReturnServer(args.return_host, args.return_port) as returns:
            outcome = pay(
                storefront, checkout_id, gateway_id=args.gateway_id, returns=returns, open_url=open_url, out=out,
                return_timeout=args.timeout, process_timeout=args.process_timeout,
            )
    except (StorefrontError, httpx.HTTPError) as exc:
        print(f"storefront: {exc}", file=sys.stderr)
        return 1
    finally:
        if http is None:
            client.close()
    if outcome.result == "CHARGE_SUCCESS":
        return 0 if outcome.order is not None else 5
    return 4 if outcome.result == STILL_OPEN else 3


if __name__ == "__main__":
    sys.exit(main())
