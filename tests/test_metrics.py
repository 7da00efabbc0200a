"""GET /metrics: counters from the requests, gauges from the database, the token, several processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from structlog.testing import capture_logs

from saleor_lengo import metrics
from saleor_lengo.db.engine import Database
from saleor_lengo.db.schema import outbox, payments
from saleor_lengo.payments.outbox import enqueue
from saleor_lengo.payments import store
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import TEST_SECRET_KEY, configure_channel, send_webhook
from tests.e2e.harness import Process, free_port, wait_until
from tests.fakes.factories import make_payment
from tests.fakes.payloads import gateway_initialize, new_transaction_id
from tests.fakes.saleor import FakeSaleor
from tests.helpers.metrics import parse, scrape, value
from tests.helpers.sessions import initialize_session, only_pay_id

TOKEN = "metrics-token-7c1f0e9a2b"
INIT = "TRANSACTION_INITIALIZE_SESSION"


# --- Counters ----------------------------------------------------------------------


async def test_a_webhook_a_lengo_call_and_a_callback_are_counted_with_their_labels(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed)
    before = await scrape(client)

    answer = await initialize_session(client, installed, new_transaction_id())
    gateway = await send_webhook(client, installed, "PAYMENT_GATEWAY_INITIALIZE_SESSION", gateway_initialize(installed.app_id))
    raw, headers = installed.webhook(INIT, {"recipient": {"id": installed.app_id}})
    forged = await client.post(
        "/api/webhooks/saleor/transaction-initialize-session", content=raw + b" ", headers=headers
    )
    pay_id = only_pay_id(lengo)
    lengo.pay(pay_id)
    received = await lengo.send_callback(pay_id, client)
    await services.background.drain()  # the confirmation: one status call
    callback_path = httpx.URL(lengo.payments[pay_id].callback_url or "").path
    malformed = await client.post(callback_path, content=b"nonsense")
    unknown = await client.post("/api/lengo/callback/no-such-token", json={"pay_id": "x", "status": "SUCCESS"})
    after = await scrape(client)

    assert answer["result"] == "CHARGE_ACTION_REQUIRED"
    assert (gateway.status_code, forged.status_code, received, malformed.status_code, unknown.status_code) == (
        200, 401, [200], 400, 404,
    )

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    webhooks = "saleor_lengo_webhooks_total"
    assert delta(webhooks, event=INIT, result="CHARGE_ACTION_REQUIRED") == 1
    assert delta(webhooks, event=INIT, result="4xx") == 1
    assert delta(webhooks, event="PAYMENT_GATEWAY_INITIALIZE_SESSION", result="2xx") == 1
    calls = "saleor_lengo_lengo_calls_total"
    assert delta(calls, operation="create_payment", outcome="ok") == 1
    assert delta(calls, operation="payment_status", outcome="ok") == 1
    assert delta("saleor_lengo_lengo_call_seconds_count", operation="create_payment") == 1
    assert delta("saleor_lengo_lengo_call_seconds_bucket", operation="payment_status", le="+Inf") == 1
    assert delta("saleor_lengo_lengo_call_seconds_sum", operation="create_payment") >= 0
    for outcome in ("received", "confirmed", "rejected", "unknown_token"):
        assert delta("saleor_lengo_callbacks_total", outcome=outcome) == 1, outcome


def test_a_metric_that_fails_never_breaks_the_caller_and_is_logged_once() -> None:
    app_metrics = metrics.Metrics()
    broken = SimpleNamespace(status_code=200, body=b'{"result": ')

    with capture_logs() as logs:
        app_metrics.webhook_answered(INIT, broken)
        app_metrics.webhook_answered(INIT, broken)
        app_metrics.lengo_call(object())  # no operation: fails inside the hook

    assert [e["hook"] for e in logs if e["event"] == "metrics_hook_failed"] == ["webhook", "lengo_call"]


# --- Gauges from the database ----------------------------------------------------------


async def test_the_gauges_count_pending_and_dead_outbox_rows_and_open_payments_by_state(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    empty = await scrape(client)
    config = await configure_channel(services, installed)
    waiting = await make_payment(services, installed, lengo, config)
    await make_payment(services, installed, lengo, config, with_pay_id=False)
    paid = await make_payment(services, installed, lengo, config)
    now = services.clock()
    async with services.db.write() as conn:
        for made in (waiting, paid):
            payment = await store.get(conn, made.id)
            assert payment is not None
            for age in (600, 60):
                await enqueue(conn, payment, event_type="CHARGE_SUCCESS", amount=Decimal("1"), message="m", now=now - age)
        await conn.execute(update(outbox).where(outbox.c.payment_id == paid.id).values(state="delivered"))
        dead = await enqueue(conn, payment, event_type="CHARGE_FAILURE", amount=Decimal("1"), message="m", now=now - 7200)
        await conn.execute(update(outbox).where(outbox.c.id == dead).values(state="dead"))
        await conn.execute(update(payments).where(payments.c.id == paid.id).values(state="succeeded"))

    full = await scrape(client)

    assert value(empty, "saleor_lengo_database_up") == 1
    assert value(empty, "saleor_lengo_outbox_pending_events") == 0
    assert value(empty, "saleor_lengo_outbox_oldest_pending_age_seconds", installation=installed.api_url) == 0
    assert value(empty, "saleor_lengo_saleor_circuit_open", installation=installed.api_url) == 0
    assert value(empty, "saleor_lengo_outbox_dead_letters") == 0
    assert value(empty, "saleor_lengo_open_payments", state="action_required") == 0
    assert value(full, "saleor_lengo_outbox_pending_events") == 2
    # The dead letter is older, but it is counted apart: it is not waiting for the relay.
    assert 600 <= value(full, "saleor_lengo_outbox_oldest_pending_age_seconds", installation=installed.api_url) < 660
    assert value(full, "saleor_lengo_outbox_dead_letters") == 1
    assert value(full, "saleor_lengo_open_payments", state="action_required") == 1
    assert value(full, "saleor_lengo_open_payments", state="creating") == 1
    assert ("saleor_lengo_open_payments", (("state", "succeeded"),)) not in full


async def test_an_unreachable_database_still_gives_the_counters_and_says_so(
    services: Services, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    working = services.db
    services.db = Database(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.sqlite3'}")
    try:
        with capture_logs() as logs:
            samples = await scrape(client)
    finally:
        await services.db.dispose()
        services.db = working

    assert value(samples, "saleor_lengo_database_up") == 0
    assert not any(name == "saleor_lengo_outbox_pending_events" for name, _ in samples)
    assert "metrics_database_unavailable" in [e["event"] for e in logs]


# --- The token -------------------------------------------------------------------------


async def test_without_metrics_token_metrics_are_open_while_app_url_is_loopback(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 200


@pytest.mark.parametrize("app_url", ["https://pay.example.com", "http://10.0.0.7:8000", "http://[2001:db8::1]:9010"])
async def test_without_metrics_token_metrics_are_closed_when_app_url_is_not_loopback(
    services: Services, client: httpx.AsyncClient, app_url: str
) -> None:
    services.settings = replace(services.settings, app_url=app_url)

    closed = await client.get("/metrics")
    unknown = await client.get("/no-such-page")

    # Answered like a route that does not exist: a scanner learns nothing.
    assert (closed.status_code, closed.text) == (404, unknown.text)
    assert "saleor_lengo" not in closed.text
    # A token opens them again, to its bearer only.
    services.settings = replace(services.settings, metrics_token=TOKEN)
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).status_code == 200


def test_serve_warns_once_at_start_when_metrics_are_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saleor_lengo.commands import serve

    served: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: served.append(kwargs))
    # Logging stays as capture_logs sets it.
    monkeypatch.setattr("saleor_lengo.settings.configure_logging", lambda *args: None)
    args = SimpleNamespace(host="127.0.0.1", port=free_port(), workers=2)
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}", "SECRET_KEY": TEST_SECRET_KEY}
    warned = []
    for app_url, token in (("https://pay.example.com", None), ("https://pay.example.com", TOKEN), ("http://127.0.0.1:8000", None)):
        for name in ("APP_URL", "METRICS_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        for name, setting in {**base, "APP_URL": app_url, "METRICS_TOKEN": token}.items():
            if setting is not None:
                monkeypatch.setenv(name, setting)
        with capture_logs() as logs:
            assert serve.run(args) == 0  # type: ignore[arg-type]
        warned.append([e for e in logs if e["event"] == "metrics_closed"])

    assert len(served) == 3
    [[closed], with_token, loopback] = warned
    assert closed["log_level"] == "warning"
    assert "METRICS_TOKEN" in closed["detail"]
    assert with_token == loopback == []


async def test_with_metrics_token_only_its_bearer_gets_the_metrics(
    services: Services, client: httpx.AsyncClient
) -> None:
    services.settings = replace(services.settings, metrics_token=TOKEN)

    refused = [
        await client.get("/metrics", headers=headers)
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": TOKEN},
            {"Authorization": "Bearer "},
        )
    ]
    allowed = [await client.get("/metrics", headers={"Authorization": a}) for a in (f"Bearer {TOKEN}", f"bearer {TOKEN}")]

    assert [r.status_code for r in refused] == [401] * 6
    assert all(r.headers["www-authenticate"].startswith("Bearer") for r in refused)
    assert all("saleor_lengo" not in r.text for r in refused)
    assert [r.status_code for r in allowed] == [200, 200]
    assert "saleor_lengo_database_up 1.0" in allowed[0].text


# --- Several processes -------------------------------------------------------------------

WRITER = """
import sys
from types import SimpleNamespace
from saleor_lengo.metrics import Metrics
app_metrics = Metrics()
for _ in range(int(sys.argv[1])):
    app_metrics.callback_outcome("confirmed")
app_metrics.webhook_answered("TRANSACTION_PROCESS_SESSION", SimpleNamespace(status_code=401, body=b""))
app_metrics.lengo_call(SimpleNamespace(operation="payment_status", outcome="ok", duration_ms=120))
"""
READER = (
    "import sys; from saleor_lengo import gauges; from saleor_lengo.metrics import Metrics; "
    "sys.stdout.write(gauges.render(Metrics(), None)[0].decode())"
)


def run_python(code: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_in_multiprocess_mode_a_scrape_adds_up_every_process_counters(tmp_path: Path) -> None:
    directory = tmp_path / "multiproc"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}

    run_python(WRITER, "2", env=env)
    run_python(WRITER, "3", env=env)
    samples = parse(run_python(READER, env=env))

    assert value(samples, "saleor_lengo_callbacks_total", outcome="confirmed") == 5
    assert value(samples, "saleor_lengo_webhooks_total", event="TRANSACTION_PROCESS_SESSION", result="4xx") == 2
    assert value(samples, "saleor_lengo_lengo_calls_total", operation="payment_status", outcome="ok") == 2
    assert value(samples, "saleor_lengo_lengo_call_seconds_bucket", operation="payment_status", le="0.25") == 2
    assert value(samples, "saleor_lengo_lengo_call_seconds_bucket", operation="payment_status", le="0.1") == 0
    assert value(samples, "saleor_lengo_database_up") == 0  # the reader was given no figures
    # Each process kept its counters in its own file; exiting (mark_process_dead) leaves them counted.
    assert len({p.name for p in directory.glob("counter_*.db")}) == 2


def _multiproc_dirs(database_url: str) -> set[str]:
    """PROMETHEUS_MULTIPROC_DIR of the processes started with this DATABASE_URL (the serve workers)."""
    found: set[str] = set()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            variables = environ.read_bytes().split(b"\0")
        except OSError:
            continue
        if f"DATABASE_URL={database_url}".encode() in variables:
            found.update(v.split(b"=", 1)[1].decode() for v in variables if v.startswith(b"PROMETHEUS_MULTIPROC_DIR="))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the workers' directory through /proc")
def test_serve_with_two_workers_counts_every_request_whichever_worker_answers(tmp_path: Path) -> None:
    port = free_port()
    database_url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")}
    env.update(
        DATABASE_URL=database_url, APP_URL=f"http://127.0.0.1:{port}", SECRET_KEY=TEST_SECRET_KEY,
        METRICS_TOKEN=TOKEN, LOG_LEVEL="WARNING",
    )
    app = Process("serve", ["serve", "--port", str(port), "--workers", "2"], env, port, tmp_path / "serve.log", cwd=tmp_path)
    sent = 0

    def send_batch(size: int = 8) -> None:
        # Each request on its own connection, all at once: both workers accept some.
        def one() -> None:
            httpx.post(f"{app.url}/api/webhooks/saleor/transaction-process-session", content=b"{}", timeout=10)

        threads = [threading.Thread(target=one) for _ in range(size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)

    def workers_with_counters() -> int:
        dirs = _multiproc_dirs(database_url)
        assert len(dirs) == 1, dirs
        return len(list(Path(dirs.pop()).glob("counter_*.db")))

    try:
        app.start("/health")
        assert httpx.get(f"{app.url}/health", timeout=5).status_code == 200
        (directory,) = wait_until(lambda: _multiproc_dirs(database_url), timeout=20, what="the workers' metrics directory")

        def both_workers_counted() -> bool:
            nonlocal sent
            send_batch()
            sent += 8
            return workers_with_counters() >= 2

        wait_until(both_workers_counted, timeout=30, interval=0.05, what="requests answered by both workers")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{app.url}/metrics", timeout=10).status_code == 401
        # Whichever worker answers the scrape, it reports every worker's requests.
        seen = {
            value(
                parse(httpx.get(f"{app.url}/metrics", headers=auth, timeout=10).text),
                "saleor_lengo_webhooks_total", event="TRANSACTION_PROCESS_SESSION", result="4xx",
            )
            for _ in range(6)
        }
        assert seen == {sent}, app.log_tail()
    finally:
        app.stop()
    assert not Path(directory).exists(), "serve removes its metrics directory on exit"
