"""1. Verified webhook round trip: PAYMENT_GATEWAY_INITIALIZE_SESSION, signed as Saleor signs it, 32 connections.

The app: `saleor-lengo serve` (find the installation, verify the JWS against
its stored JWKS, check the recipient, read the channel's configuration,
answer). The baseline: `baselines.webhook_app` (verify the JWS, answer).
The same signed request every time: this webhook stores nothing, so a
repeat costs the app exactly what a new one would.
"""

from __future__ import annotations

import httpx

from benchmarks import baselines, load, procs
from benchmarks.context import Bench, Row, check_clean, fmt_cpu, fmt_lat, fmt_rps, ratio, sqlite_url
from benchmarks.seed import seed
from tests.fakes import payloads

CONNECTIONS = 32
SLICES = 4  # the measurement alternates app and baseline in this many slices (Bench.paired)
PATH = "/api/webhooks/saleor/payment-gateway-initialize-session"


def run(bench: Bench) -> None:
    d = bench.directory
    db = d / "webhook-app.sqlite3"
    seed(sqlite_url(db), bench.saleor, "http://127.0.0.1:9")  # Lengo is never called here
    raw, headers = bench.saleor.webhook("PAYMENT_GATEWAY_INITIALIZE_SESSION", payloads.gateway_initialize(bench.saleor.app_id))
    requests = d / "webhook.requests"
    load.write_requests(requests, [load.Request("POST", PATH, headers, raw)])

    base_port = procs.free_port()
    app = procs.app_server("webhook-app", sqlite_url(db), d)
    base = procs.Server("webhook-baseline", procs.uvicorn_args("benchmarks.baselines:webhook_app", base_port, factory=True),
                        procs.base_env(BENCH_JWKS=str(bench.jwks_path)), base_port, d)
    with app, base:
        app.start("/health")
        base.start(PATH)
        for server in (app, base):
            answer = httpx.post(server.url + PATH, content=raw, headers=headers, timeout=10)
            if answer.status_code != 200 or answer.json()["data"]["available"] is not True:
                raise RuntimeError(f"{server.name} answered {answer.status_code} {answer.text}")
        bench.warm(base, requests, CONNECTIONS)
        bench.warm(app, requests, CONNECTIONS)
        with bench.rss_peak(app):
            a, b = bench.paired(app, base, [requests] * SLICES, CONNECTIONS)
    r = ratio(a.rps, b.rps)
    notes = check_clean("app", a) + check_clean("baseline", b)
    bench.add(Row("1 webhook round trip", f"throughput, {CONNECTIONS} conn." + notes, fmt_rps(a), fmt_rps(b),
                  f"{r:.2f}×", "≥ 0.6×", r >= 0.6))
    bench.add(Row("1 webhook round trip", "p50 / p99 latency", fmt_lat(a), fmt_lat(b), "", "p99 ≤ 40 ms", a.p99_ms <= 40))
    bench.add(Row("1 webhook round trip", "server CPU time per request", fmt_cpu(a), fmt_cpu(b),
                  f"{ratio(a.cpu_ms_per_request, b.cpu_ms_per_request):.1f}× the CPU"))


__all__ = ["baselines", "run"]
