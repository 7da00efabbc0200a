"""The whole payment path on one machine: fake Saleor, `serve`, `simulator`.

`Stack` holds the three and speaks for the two outsiders a real payment
has: Saleor (signed webhooks, recorded sync answers) and the shopper (the
simulator's payment page). Every step checks what it can and says what it
got when it fails, with the processes' log tails.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from tests.e2e.harness import Process, SaleorServer, ThreadSafeFakeSaleor, free_port, run_cli, wait_until
from tests.fakes import payloads
from tests.fakes.saleor import Event

SECRET_KEY = "e2e-secret-key-0123456789-abcdefghijklmnopq"
LICENSE_KEY = "e2e-license-key-7c41d2b9"
WEBSITE_ID = "e2e-site"
CHANNEL = payloads.GNF_CHANNEL
RETURN_URL = "https://shop.example/checkout/return"
RETURN_URL_PATTERN = r"https://shop\.example/checkout/return(\?.*)?"
AMOUNT = Decimal("176500.0")  # GNF, as Saleor sends it

# Settings the app reads; the test's own environment must not leak into the processes.
APP_SETTINGS = (
    "APP_URL",
    "DATABASE_URL",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "ALLOWED_DOMAIN_PATTERN",
    "MANIFEST_APP_ID",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "RECONCILE_INTERVAL_SECONDS",
    "PAYMENT_TTL_SECONDS",
    "PAYMENT_WATCH_SECONDS",
    "METRICS_TOKEN",
    "MAX_CONNECTIONS",
    "REQUEST_HEADER_TIMEOUT_SECONDS",
    "REQUEST_BODY_TIMEOUT_SECONDS",
    "LENGO_LICENSE_KEY",
    "LENGO_SIMULATOR_LICENSE_KEY",
)


def base_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS}
    env.update(PYTHONUNBUFFERED="1", LOG_FORMAT="console", LOG_LEVEL="INFO")
    env.update(values)
    return env


@dataclass
class Payment:
    """One checkout payment as the test follows it."""

    transaction_id: str
    amount: Decimal
    initialize: dict[str, Any]

    @property
    def psp_reference(self) -> str:
        return str(self.initialize["pspReference"])

    @property
    def payment_url(self) -> str:
        return str(self.initialize["data"]["paymentUrl"])

    @property
    def pay_id(self) -> str:
        return str(self.initialize["data"]["payId"])


@dataclass
class Stack:
    tmp: Path
    database_url: str
    app_env: Mapping[str, str] = field(default_factory=dict)
    simulator_args: Sequence[str] = ()
    saleor: SaleorServer = field(init=False)
    fake: ThreadSafeFakeSaleor = field(init=False)
    app: Process = field(init=False)
    simulator: Process = field(init=False)
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        saleor_port, app_port, sim_port = free_port(), free_port(), free_port()
        self.fake = ThreadSafeFakeSaleor(api_url=f"http://127.0.0.1:{saleor_port}/graphql/")
        self.saleor = SaleorServer(self.fake, saleor_port)
        env = base_env(
            APP_URL=f"http://127.0.0.1:{app_port}",
            DATABASE_URL=self.database_url,
            SECRET_KEY=SECRET_KEY,
            **self.app_env,
        )
        self.app = Process("app", ["serve", "--port", str(app_port)], env, app_port, self.tmp / "app.log", cwd=self.tmp)
        self.simulator = Process(
            "simulator",
            ["simulator", "--port", str(sim_port), *self.simulator_args],
            # From the environment, not argv: command lines end up in logs and `ps`.
            base_env(LENGO_SIMULATOR_LICENSE_KEY=LICENSE_KEY),
            sim_port,
            self.tmp / "simulator.log",
            cwd=self.tmp,
        )
        self.http = httpx.Client(timeout=httpx.Timeout(20.0, connect=3.0), follow_redirects=False)

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        self.saleor.start()
        self.simulator.start("/")
        self.app.start("/health")

    def restart_app(self) -> None:
        self.app.start("/health")

    def close(self) -> None:
        # Each step on its own: one failing must not leave the others running.
        for stop in (self.app.stop, self.simulator.stop, self.saleor.stop, self.http.close):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - reported, and the rest still stop
                print(f"e2e teardown: {stop!r} failed: {exc!r}")

    def logs(self) -> str:
        return f"{self.app.log_tail()}\n{self.simulator.log_tail()}"

    # --- what Saleor does ----------------------------------------------------------

    def install(self) -> httpx.Response:
        """`POST /api/register`, as Saleor does when the app is installed."""
        domain = urlsplit(self.fake.api_url).netloc
        return self.http.post(
            self.app.url + "/api/register",
            json={"auth_token": self.fake.app_token},
            headers={"Saleor-Api-Url": self.fake.api_url, "Saleor-Domain": domain, "Saleor-Schema-Version": "3.23"},
        )

    def configure(self, *extra: str) -> None:
        """`saleor-lengo configure … --environment simulator`, the command an operator runs."""
        result = run_cli(
            [
                "configure",
                "--saleor-api-url", self.fake.api_url,
                "--channel", CHANNEL["slug"],
                "--website-id", WEBSITE_ID,
                "--environment", "simulator",
                "--lengo-url", self.simulator.url,
                "--license-key", "-",
                "--return-url-pattern", RETURN_URL_PATTERN,
                *extra,
            ],
            self.app.env,
            cwd=self.tmp,
            input_text=LICENSE_KEY + "\n",
        )
        assert result.returncode == 0, f"configure failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"

    def webhook(self, event: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.saleor.webhook(self.http, self.app.url, event, body)
        assert response.status_code == 200, f"{event}: HTTP {response.status_code} {response.text}\n{self.logs()}"
        answer: dict[str, Any] = response.json()
        return answer

    def record(self, tx: str, answer: dict[str, Any], amount: Decimal) -> None:
        """Saleor turns a sync answer into an event; the amount defaults to the one requested."""
        recorded = copy.deepcopy(answer)
        recorded.setdefault("amount", str(amount))
        self.fake.record_sync_answer(tx, recorded)

    def initialize(self, amount: Decimal = AMOUNT, *, return_url: str = RETURN_URL) -> Payment:
        tx = payloads.new_transaction_id()
        self.fake.open_transaction(tx)
        body = payloads.session(
            "TRANSACTION_INITIALIZE_SESSION",
            self.fake.app_id,
            tx,
            amount=amount,
            channel=CHANNEL,
            data={"returnUrl": return_url},
            idempotency_key="e2e-" + tx[-12:],
        )
        answer = self.webhook("TRANSACTION_INITIALIZE_SESSION", body)
        assert answer.get("result") == "CHARGE_ACTION_REQUIRED", f"initialize answered {answer}\n{self.logs()}"
        self.record(tx, answer, amount)
        return Payment(tx, amount, answer)

    def process(self, payment: Payment) -> dict[str, Any]:
        body = payloads.session(
            "TRANSACTION_PROCESS_SESSION",
            self.fake.app_id,
            payment.transaction_id,
            amount=payment.amount,
            channel=CHANNEL,
            psp=payment.psp_reference,
        )
        answer = self.webhook("TRANSACTION_PROCESS_SESSION", body)
        self.record(payment.transaction_id, answer, payment.amount)
        return answer

    # --- what the shopper does ------------------------------------------------------

    def open_page(self, payment: Payment) -> httpx.Response:
        return self.http.get(payment.payment_url)

    def choose(self, payment: Payment, choice: str) -> httpx.Response:
        """Press a button on the simulator's page (a form post); the redirect is not followed."""
        return self.http.post(
            payment.payment_url,
            content=f"choice={choice}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    # --- watching -----------------------------------------------------------------------

    def simulated(self, payment: Payment) -> dict[str, Any]:
        """The simulator's view of the payment: status and every callback delivery."""
        response = self.http.get(f"{self.simulator.url}/_simulator/payments/{quote(payment.pay_id, safe='')}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def acknowledged_callbacks(self, payment: Payment) -> list[dict[str, Any]]:
        return [c for c in self.simulated(payment)["callbacks"] if c["status"] is not None and 200 <= c["status"] < 300]

    def wait_for_event(self, payment: Payment, type_: str, *, timeout: float = 20.0) -> list[Event]:
        return wait_until(
            lambda: self.fake.events(payment.transaction_id, type_),
            timeout=timeout,
            what=f"{type_} on {payment.transaction_id}",
            interval=0.2,
            details=lambda: f"events: {self.fake.events(payment.transaction_id)}\n{self.logs()}",
        )


def return_query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)
