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
import re
import textwrap
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from tests.fakes.saleor_graphql import execute, validation_errors, variables_inside_json_literals
from tests.reference import needs_reference

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "storefront"
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


@needs_reference
@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_storefront_document_is_valid_against_saleors_schema(path: Path) -> None:
    assert validation_errors(path.read_text()) == []


def test_the_example_has_the_four_storefront_calls_of_the_app() -> None:
    names = {p.stem for p in DOCUMENTS}

    assert {"payment-gateway-initialize", "transaction-initialize", "transaction-process", "checkout-complete"} <= names


def test_transaction_initialize_sends_data_as_one_json_variable_to_the_manifest_gateway() -> None:
    text = (EXAMPLE / "transaction-initialize.graphql").read_text()

    assert "paymentGateway: {id: $gatewayId, data: $data}" in text
    assert storefront.DEFAULT_GATEWAY_ID == "saleor.app.payment.lengo"


@needs_reference
@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_no_storefront_document_puts_a_variable_inside_a_json_literal(path: Path) -> None:
    # Saleor would read it as null: `data: {returnUrl: $returnUrl}` reaches the app as {"returnUrl": null}.
    assert variables_inside_json_literals(path.read_text()) == []


class Seen:
    def __init__(self) -> None:
        self.data: list[Any] = []

    def transactionInitialize(self, _info: Any, **args: Any) -> dict[str, Any]:  # noqa: N802 - Saleor's name
        self.data.append(args["paymentGateway"].get("data"))
        return {"errors": []}


@needs_reference
def test_the_fake_saleor_reads_a_variable_inside_a_json_literal_as_null_as_saleor_does() -> None:
    url = "https://shop.example/checkout/return"
    literal = 'mutation($u: String) { transactionInitialize(id: "Q2hlY2tvdXQ6MQ==", paymentGateway: {id: "g", data: {returnUrl: $u, n: 1}}) { errors { code } } }'
    variable = 'mutation($d: JSON) { transactionInitialize(id: "Q2hlY2tvdXQ6MQ==", paymentGateway: {id: "g", data: $d}) { errors { code } } }'
    constant = 'mutation { transactionInitialize(id: "Q2hlY2tvdXQ6MQ==", paymentGateway: {id: "g", data: "text"}) { errors { code } } }'
    seen = Seen()

    for document, variables in ((literal, {"u": url}), (variable, {"d": {"returnUrl": url}}), (constant, {})):
        assert validation_errors(document) == []
        assert "errors" not in execute(document, variables, seen, {})

    # graphene's GenericScalar: constants kept, variables dropped; Saleor's JSON: objects and lists only.
    assert seen.data == [{"returnUrl": None, "n": 1}, {"returnUrl": url}, None]
    assert variables_inside_json_literals(literal) == ["u"]
    assert variables_inside_json_literals(variable) == []


class FakeStorefrontApi:
    """Saleor's storefront API with the Lengo app installed, as far as the example needs it.

    Each document is validated and executed as Saleor does (tests/fakes/saleor_graphql.py):
    the resolvers below get the arguments Saleor would see — a variable inside
    a `JSON` literal arrives as null — and `gateway_data` keeps the `data`
    Saleor would hand the app in TRANSACTION_INITIALIZE_SESSION.
    """

    def __init__(
        self, process_results: list[str], *, available: bool = True, shipping: bool = True,
        complete_errors: list[str] | None = None,
    ) -> None:
        self.process_results = list(process_results)
        # checkoutComplete's error code for each call, in turn, before it makes the order.
        self.complete_errors = list(complete_errors or [])
        self.available = available
        self.shipping = shipping
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.gateway_data: list[Any] = []

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
        variables = body.get("variables") or {}
        self.calls.append((operation.name.value, variables))
        return httpx.Response(200, json=execute(body["query"], variables, self, {}))

    # -- root fields, as Saleor resolves them -------------------------------------------
    def products(self, _info: Any, **_args: Any) -> dict[str, Any]:
        return {"edges": [
            {"node": {"name": "Sold out", "isAvailableForPurchase": True, "variants": [{"id": "V0", "name": "", "quantityAvailable": 0}]}},
            {"node": {"name": "Juice", "isAvailableForPurchase": True, "variants": [{"id": "V1", "name": "1 l", "quantityAvailable": 7}]}},
        ]}

    def checkoutCreate(self, _info: Any, **_args: Any) -> dict[str, Any]:  # noqa: N802 - Saleor's names
        methods = [{"id": "U2hpcHBpbmdNZXRob2Q6MQ==", "name": "DHL"}] if self.shipping else []
        return {"errors": [], "checkout": {
            "id": CHECKOUT, "isShippingRequired": True, "shippingMethods": methods,
            "totalPrice": {"gross": {"amount": 150000.0, "currency": "GNF"}}}}

    def checkoutDeliveryMethodUpdate(self, _info: Any, **_args: Any) -> dict[str, Any]:  # noqa: N802
        return {"errors": [], "checkout": {
            "id": CHECKOUT, "totalPrice": {"gross": {"amount": 176500.0, "currency": "GNF"}}}}

    def paymentGatewayInitialize(self, _info: Any, **args: Any) -> dict[str, Any]:  # noqa: N802
        [gateway] = args["paymentGateways"]
        data = ({"available": True, "environment": "simulator", "currencies": ["GNF"], "error": None} if self.available
                else {"available": False, "error": {"code": "NOT_CONFIGURED", "message": "Lengo Pay is not set up."}})
        return {"errors": [], "gatewayConfigs": [{"id": gateway["id"], "data": data, "errors": []}]}

    def transactionInitialize(self, _info: Any, **args: Any) -> dict[str, Any]:  # noqa: N802
        data = args["paymentGateway"].get("data")
        self.gateway_data.append(data)
        return_url = data.get("returnUrl") if isinstance(data, dict) else None
        if not isinstance(return_url, str):
            # What the app answers for {"returnUrl": null} (no pattern matches it).
            return {"errors": [], "transaction": {"id": TX},
                    "transactionEvent": {"type": "CHARGE_FAILURE", "message": "Return URL not allowed.", "pspReference": ""},
                    "data": {"error": {"code": "RETURN_URL_NOT_ALLOWED", "message": "Return URL not allowed."}}}
        return {
            "errors": [], "transaction": {"id": TX},
            "transactionEvent": {"type": "CHARGE_ACTION_REQUIRED", "message": "", "pspReference": "abc=="},
            "data": {"paymentUrl": PAYMENT_URL, "payId": "abc=="}}

    def transactionProcess(self, _info: Any, **args: Any) -> dict[str, Any]:  # noqa: N802
        assert args["id"] == TX
        result = self.process_results.pop(0)
        return {
            "errors": [], "transaction": {"id": TX, "chargedAmount": {"amount": 0.0, "currency": "GNF"}},
            "transactionEvent": {"type": result, "message": ""}, "data": None}

    def checkoutComplete(self, _info: Any, **args: Any) -> dict[str, Any]:  # noqa: N802
        assert args["id"] == CHECKOUT
        if self.complete_errors:
            code = self.complete_errors.pop(0)
            return {"errors": [{"field": None, "code": code, "message": "Saleor's refusal"}], "order": None}
        return {"errors": [], "order": {
            "id": "T3JkZXI6MQ==", "number": "42", "status": "UNFULFILLED", "chargeStatus": "FULL",
            "total": {"gross": {"amount": 176500.0, "currency": "GNF"}}}}

    @property
    def return_urls(self) -> list[str]:
        return [d["returnUrl"] for d in self.gateway_data if isinstance(d, dict) and isinstance(d.get("returnUrl"), str)]

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
    [data] = api.gateway_data  # what Saleor hands the app: the return URL itself, not null
    assert data["returnUrl"].startswith("http://127.0.0.1:") and data["returnUrl"].endswith("/return")
    assert calls["TransactionInitialize"]["idempotencyKey"]
    assert shopper.opened == [PAYMENT_URL] and shopper.return_status == 200
    assert PAYMENT_URL in out
    assert "order #42" in out and "176500 GNF" in out


def test_checkout_complete_is_asked_again_while_saleor_does_not_count_the_charge_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = FakeStorefrontApi(["CHARGE_SUCCESS"], complete_errors=["CHECKOUT_NOT_FULLY_PAID"] * 2)
    monkeypatch.setattr(storefront.time, "sleep", lambda _s: None)

    code, out = run(api, Shopper(api), monkeypatch, "--channel", "channel-gnf")

    assert code == 0, out
    assert api.operations().count("CheckoutComplete") == 3
    assert out.count("CHECKOUT_NOT_FULLY_PAID yet, asking again in 2 s") == 2 and "order #42" in out


@pytest.mark.parametrize(
    ("errors", "asked"), [(["NOT_FOUND"], 1), (["CHECKOUT_NOT_FULLY_PAID"] * 5, 5)], ids=["other", "never-counted"]
)
def test_a_paid_checkout_saleor_will_not_complete_exits_5_and_says_the_payment_succeeded(
    monkeypatch: pytest.MonkeyPatch, errors: list[str], asked: int
) -> None:
    api = FakeStorefrontApi(["CHARGE_SUCCESS"], complete_errors=errors)
    monkeypatch.setattr(storefront.time, "sleep", lambda _s: None)

    code, out = run(api, Shopper(api), monkeypatch, "--channel", "channel-gnf")

    assert code == 5, out
    assert api.operations().count("CheckoutComplete") == asked
    assert f"checkoutComplete refused (checkoutComplete: {errors[-1]}" in out
    assert "the payment itself succeeded" in out and "order #" not in out


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


def readme_graphql_blocks() -> list[str]:
    text = (EXAMPLE.parents[1] / "README.md").read_text()
    return re.findall(r"```graphql\n(.*?)```", text, flags=re.S)


def test_the_readme_shows_transaction_initialize_with_data_as_one_variable_inside_payment_gateway() -> None:
    [block] = [b for b in readme_graphql_blocks() if "transactionInitialize" in b]
    blocks = [textwrap.dedent(b) for b in readme_graphql_blocks()]

    assert "paymentGateway: {id: \"saleor.app.payment.lengo\", data: $data}" in block
    assert all(validation_errors(b) == [] for b in blocks)  # at least valid syntax, without the reference data


@needs_reference
def test_the_readmes_graphql_is_valid_for_saleor_and_sends_no_variable_inside_a_json_literal() -> None:
    blocks = [textwrap.dedent(b) for b in readme_graphql_blocks()]

    assert blocks
    for block in blocks:
        assert validation_errors(block) == []
        assert variables_inside_json_literals(block) == []


class Clock:
    """The script's clock and sleep, in the test's hands: a 2-minute wait takes no time."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


class ExpiringStorefrontApi(FakeStorefrontApi):
    """The app with the README's PAYMENT_TTL_SECONDS: still paying until the payment expires, then CHARGE_FAILURE."""

    def __init__(self, clock: Clock, expires_after: float) -> None:
        super().__init__([])
        self.clock, self.expires_after = clock, expires_after

    def transactionProcess(self, _info: Any, **args: Any) -> dict[str, Any]:  # noqa: N802
        self.process_results = ["CHARGE_FAILURE" if self.clock.now >= self.expires_after else "CHARGE_ACTION_REQUIRED"]
        return super().transactionProcess(_info, **args)


def readme_ttl() -> tuple[float, float]:
    text = (EXAMPLE.parents[1] / "README.md").read_text()
    found = re.search(r"PAYMENT_TTL_SECONDS=(\d+) RECONCILE_INTERVAL_SECONDS=(\d+)", text)
    assert found is not None, "the README's Try it section shows the TTL to abandon with"
    return float(found[1]), float(found[2])


def test_an_abandoned_payment_is_asked_about_until_it_expires_with_the_readmes_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    ttl, interval = readme_ttl()
    clock = Clock()
    monkeypatch.setattr(storefront.time, "sleep", clock.sleep)
    monkeypatch.setattr(storefront, "monotonic", clock.monotonic)
    # Expired by the reconciler at most one poll after the TTL (its checks never sleep past the expiry).
    api = ExpiringStorefrontApi(clock, expires_after=ttl + interval)

    code, out = run(api, Shopper(api), monkeypatch, "--checkout-id", CHECKOUT)

    assert code == 3
    assert "transactionProcess: CHARGE_FAILURE" in out and "no order" in out
    assert "CheckoutComplete" not in api.operations()


def test_a_payment_still_open_when_the_script_stops_asking_is_said_to_be_open(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(storefront.time, "sleep", clock.sleep)
    monkeypatch.setattr(storefront, "monotonic", clock.monotonic)
    api = ExpiringStorefrontApi(clock, expires_after=86400)  # the default TTL: a day

    code, out = run(api, Shopper(api), monkeypatch, "--checkout-id", CHECKOUT, "--process-timeout", "30")

    assert code == 4
    assert clock.now <= 30
    assert "still open" in out.lower() and "CHARGE_FAILURE" not in out
