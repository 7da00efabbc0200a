"""examples/storefront: every document is valid for Saleor, and the script runs the storefront flow.

The flow runs against a fake storefront API (httpx.MockTransport) that
validates each document it receives against Saleor's schema and answers as
Saleor would with the app behind it; the shopper's return goes through the
script's real local HTTP server.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from tests.fakes.saleor import validation_errors

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "storefront"
DOCUMENTS = sorted(EXAMPLE.glob("*.graphql"))
API_URL = "http://saleor.test/graphql/"
GATEWAY = "saleor.app.payment.lengo"
CHECKOUT = "Q2hlY2tvdXQ6MQ=="
TX = "VHJhbnNhY3Rpb25JdGVtOjE="
PAYMENT_URL = "http://127.0.0.1:8001/pay/abc%3D%3D"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("storefront_example", EXAMPLE / "storefront.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


storefront = load_script()


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_storefront_document_is_valid_against_saleors_schema(path: Path) -> None:
    assert validation_errors(path.read_text()) == []


def test_the_example_has_the_four_storefront_calls_of_the_app() -> None:
    names = {p.stem for p in DOCUMENTS}

    assert {"payment-gateway-initialize", "transaction-initialize", "transaction-process", "checkout-complete"} <= names


def test_transaction_initialize_sends_the_return_url_in_data_to_the_manifest_gateway() -> None:
    text = (EXAMPLE / "transaction-initialize.graphql").read_text()

    assert "paymentGateway: {id: $gatewayId, data: {returnUrl: $returnUrl}}" in text
    assert storefront.DEFAULT_GATEWAY_ID == "saleor.app.payment.lengo"


class FakeStorefrontApi:
    """Saleor's storefront API with the Lengo app installed, as far as the example needs it."""

    def __init__(self, process_results: list[str], *, available: bool = True, shipping: bool = True) -> None:
        self.process_results = list(process_results)
        self.available = available
        self.shipping = shipping
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.return_urls: list[str] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == API_URL
        assert "authorization" not in request.headers  # storefront calls are anonymous
        body = json.loads(request.content)
        errors = validation_errors(body["query"])
        if errors:
            return httpx.Response(400, json={"errors": [{"message": m} for m in errors]})
        [operation] = [d for d in parse(body["query"]).definitions if isinstance(d, OperationDefinitionNode)]
        assert operation.name is not None
        name, variables = operation.name.value, body.get("variables") or {}
        self.calls.append((name, variables))
        return httpx.Response(200, json={"data": getattr(self, name)(variables)})

    def FirstVariant(self, v: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - operation names
        return {"products": {"edges": [
            {"node": {"name": "Sold out", "isAvailableForPurchase": True, "variants": [{"id": "V0", "name": "", "quantityAvailable": 0}]}},
            {"node": {"name": "Juice", "isAvailableForPurchase": True, "variants": [{"id": "V1", "name": "1 l", "quantityAvailable": 7}]}},
        ]}}

    def CheckoutCreate(self, v: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        methods = [{"id": "U2hpcHBpbmdNZXRob2Q6MQ==", "name": "DHL"}] if self.shipping else []
        return {"checkoutCreate": {"errors": [], "checkout": {
            "id": CHECKOUT, "isShippingRequired": True, "shippingMethods": methods,
            "totalPrice": {"gross": {"amount": 150000.0, "currency": "GNF"}}}}}

    def CheckoutDeliveryMethodUpdate(self, v: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"checkoutDeliveryMethodUpdate": {"errors": [], "checkout": {
            "id": CHECKOUT, "totalPrice": {"gross": {"amount": 176500.0, "currency": "GNF"}}}}}

    def PaymentGatewayInitialize(self, v: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        data = ({"available": True, "environment": "simulator", "currencies": ["GNF"], "error": None} if self.available
                else {"available": False, "error": {"code": "NOT_CONFIGURED", "message": "Lengo Pay is not set up."}})
        return {"paymentGatewayInitialize": {"errors": [], "gatewayConfigs": [{"id": v["gatewayId"], "data": data, "errors": []}]}}

    def TransactionInitialize(self, v: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self.return_urls.append(v["returnUrl"])
        return {"transactionInitialize": {
            "errors": [], "transaction": {"id": TX},
            "transactionEvent": {"type": "CHARGE_ACTION_REQUIRED", "message": "", "pspReference": "abc=="},
            "data": {"paymentUrl": PAYMENT_URL, "payId": "abc=="}}}

    def TransactionProcess(self, v: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        assert v["transactionId"] == TX
        result = self.process_results.pop(0)
        return {"transactionProcess": {
            "errors": [], "transaction": {"id": TX, "chargedAmount": {"amount": 0.0, "currency": "GNF"}},
            "transactionEvent": {"type": result, "message": ""}, "data": None}}

    def CheckoutComplete(self, v: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        assert v["checkoutId"] == CHECKOUT
        return {"checkoutComplete": {"errors": [], "order": {
            "id": "T3JkZXI6MQ==", "number": "42", "status": "UNFULFILLED", "chargeStatus": "FULL",
            "total": {"gross": {"amount": 176500.0, "currency": "GNF"}}}}}

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]


class Shopper:
    """Opens the payment page, pays, and comes back the way Lengo sends them: returnUrl + transactionId."""

    def __init__(self, api: FakeStorefrontApi) -> None:
        self.api = api
        self.opened: list[str] = []
        self.return_status: int | None = None

    def __call__(self, url: str) -> None:
        self.opened.append(url)
        back = httpx.get(self.api.return_urls[-1], params={"transactionId": TX}, timeout=5.0)
        self.return_status = back.status_code


def run(api: FakeStorefrontApi, shopper: Shopper, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str]:
    monkeypatch.setattr(storefront.webbrowser, "open", shopper)
    out = io.StringIO()
    with httpx.Client(transport=api.transport()) as http:
        code = storefront.main(
            ["--saleor-api-url", API_URL, "--return-port", "0", "--timeout", "10", *argv], http=http, out=out
        )
    return code, out.getvalue()


def test_the_script_pays_a_new_checkout_and_completes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeStorefrontApi(["CHARGE_SUCCESS"])
    shopper = Shopper(api)

    code, out = run(api, shopper, monkeypatch, "--channel", "channel-gnf", "--country", "GN")

    assert code == 0, out
    assert api.operations() == [
        "FirstVariant", "CheckoutCreate", "CheckoutDeliveryMethodUpdate", "PaymentGatewayInitialize",
        "TransactionInitialize", "TransactionProcess", "CheckoutComplete",
    ]
    calls = dict(api.calls)
    assert calls["CheckoutCreate"]["lines"] == [{"variantId": "V1", "quantity": 1}]
    assert calls["CheckoutCreate"]["address"]["country"] == "GN"
    assert calls["PaymentGatewayInitialize"] == {"checkoutId": CHECKOUT, "gatewayId": GATEWAY}
    assert calls["TransactionInitialize"]["gatewayId"] == GATEWAY
    assert calls["TransactionInitialize"]["returnUrl"].startswith("http://127.0.0.1:")
    assert calls["TransactionInitialize"]["returnUrl"].endswith("/return")
    assert calls["TransactionInitialize"]["idempotencyKey"]
    assert shopper.opened == [PAYMENT_URL] and shopper.return_status == 200
    assert PAYMENT_URL in out
    assert "order #42" in out and "176500 GNF" in out


def test_the_script_asks_again_while_the_shopper_is_still_paying(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeStorefrontApi(["CHARGE_ACTION_REQUIRED", "CHARGE_ACTION_REQUIRED", "CHARGE_SUCCESS"])
    shopper = Shopper(api)
    waits: list[float] = []
    monkeypatch.setattr(storefront.time, "sleep", waits.append)

    code, _ = run(api, shopper, monkeypatch, "--checkout-id", CHECKOUT)

    assert code == 0
    assert api.operations().count("TransactionProcess") == 3
    assert waits == [3.0, 3.0]
    assert api.operations()[0] == "PaymentGatewayInitialize"  # an existing checkout is not recreated


def test_a_declined_payment_makes_no_order(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeStorefrontApi(["CHARGE_FAILURE"])

    code, out = run(api, Shopper(api), monkeypatch, "--checkout-id", CHECKOUT)

    assert code == 3
    assert "CheckoutComplete" not in api.operations()
    assert "no order" in out


def test_an_unavailable_gateway_stops_before_any_payment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api = FakeStorefrontApi([], available=False)

    code, _ = run(api, Shopper(api), monkeypatch, "--checkout-id", CHECKOUT)

    assert code == 1
    assert api.operations() == ["PaymentGatewayInitialize"]
    assert "NOT_CONFIGURED" in capsys.readouterr().err


def test_a_checkout_without_a_shipping_method_is_explained(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api = FakeStorefrontApi([], shipping=False)

    code, _ = run(api, Shopper(api), monkeypatch, "--variant-id", "V9")

    assert code == 1
    assert "no shipping method" in capsys.readouterr().err
    assert api.operations() == ["CheckoutCreate"]


def test_the_return_server_catches_the_transaction_id_and_ignores_other_paths() -> None:
    with storefront.ReturnServer("127.0.0.1", 0) as returns:
        stray = httpx.get(returns.url.replace("/return", "/favicon.ico"), timeout=5.0)
        empty = httpx.get(returns.url, timeout=5.0)
        back = httpx.get(returns.url, params={"transactionId": TX, "other": "x"}, timeout=5.0)

        assert (stray.status_code, empty.status_code, back.status_code) == (404, 404, 200)
        assert returns.wait(1.0) == TX


def test_the_return_server_gives_up_after_its_timeout() -> None:
    with storefront.ReturnServer("127.0.0.1", 0) as returns, pytest.raises(storefront.StorefrontError, match="did not come back"):
        returns.wait(0.05)
