"""2. Callback ingestion: Lengo's callback, recorded, answered, then confirmed with Lengo's status endpoint.

The app: `saleor-lengo serve` on SQLite, its configuration pointing at the
fake Lengo (`benchmarks.fake_lengo`, the simulator's API, on loopback), which
knows every seeded pay_id as SUCCESS. After answering, the app confirms each
callback (status call, state transition and outbox row), and its relay
reports the payment to the minimal fake Saleor: all in the same process,
during the same run, as in production.
The baseline: `baselines.callback_app` (look the token up, insert, answer;
then the same status call and an update).

Every request is a different payment (its own token and pay_id, seeded in
both databases): a repeat for an already-paid payment would let the app skip
the status call (it knows nothing can change a succeeded payment), which
would flatter it. Warm-up and measurement use disjoint payments. Throughput
counts answers (wrk), and confirmations: after wrk stops, the script waits
for every recorded callback to be confirmed and reports the sustained rate,
confirmed callbacks / (load seconds + drain seconds).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks import baselines, load, procs
from benchmarks.context import Bench, Row, check_clean, count, fmt_lat, fmt_rps, ratio, sqlite_url, wait_for
from benchmarks.seed import LICENSE_KEY, WEBSITE_ID, SeededPayment, new_payments, seed, write_lengo_seed

CONNECTIONS = 32
# Payments seeded per second of load, per server: above what either can take on this machine
# (the baseline reached 5,389/s on 28 November 2026, past the 3,500 seeded until then).
RATE_CEILING = 6500
DRAIN_TIMEOUT = 240.0

APP_CONFIRMED = "SELECT count(*) FROM callbacks WHERE outcome = 'confirmed'"
APP_RECORDED = "SELECT count(*) FROM callbacks"
BASE_CONFIRMED = "SELECT count(*) FROM callbacks WHERE confirmed_at IS NOT NULL"
BASE_RECORDED = "SELECT count(*) FROM callbacks"
# The app also reports what it confirmed to Saleor: its warm-up is over when that is done too.
APP_REPORTING = "SELECT count(*) FROM outbox WHERE state = 'pending'"


def _body(p: SeededPayment) -> bytes:
    return json.dumps({"pay_id": p.pay_id, "status": "SUCCESS", "amount": 150000,
                       "message": "Transaction Successful", "Client": "624897845"}).encode()


def _requests(payments: list[SeededPayment]) -> list[load.Request]:
    return [load.Request("POST", f"/api/lengo/callback/{p.token}", {"Content-Type": "application/json"}, _body(p))
            for p in payments]


@dataclass(frozen=True)
class _Measured:
    answered: load.Result
    confirmed: int  # callbacks of the measurement confirmed by the end of the drain
    drain_seconds: float
    drained: bool
    cpu_ms_per_confirmed: float  # the server's CPU time from the start of the load to the end of the drain


def _measure(bench: Bench, server: procs.Server, db: Path, recorded_q: str, confirmed_q: str, warm: Path,
             measure: Path, *, reporting_q: str | None = None) -> _Measured:
    bench.warm(server, warm, CONNECTIONS)
    # Both sides start the measurement idle: every warm-up callback confirmed and, for the app, reported
    # to Saleor (otherwise its relay would still be reporting the warm-up during the measurement).
    ok, _ = wait_for(lambda: count(db, confirmed_q) >= count(db, recorded_q)
                     and (reporting_q is None or count(db, reporting_q) == 0), timeout=DRAIN_TIMEOUT)
    before, cpu = count(db, confirmed_q), server.cpu_seconds()
    result = bench.wrk(server, measure, CONNECTIONS)
    drained, drain_s = wait_for(lambda: count(db, confirmed_q) >= count(db, recorded_q), timeout=DRAIN_TIMEOUT, interval=0.05)
    confirmed = count(db, confirmed_q) - before
    cpu_ms = 1000 * (server.cpu_seconds() - cpu) / confirmed if confirmed else 0.0
    return _Measured(result, confirmed, drain_s, drained and ok, cpu_ms)


def run(bench: Bench) -> None:
    d = bench.directory
    saleor = bench.start_saleor()
    per_run = int(RATE_CEILING * (bench.seconds + bench.warmup + 1))
    sanity, warm_p, measure_p = new_payments(1), new_payments(int(RATE_CEILING * (bench.warmup + 1)), start=1), None
    measure_p = new_payments(per_run, start=1 + len(warm_p))
    everyone = sanity + warm_p + measure_p

    lengo_port = procs.free_port()
    lengo_seed = d / "callbacks-lengo.json"
    write_lengo_seed(lengo_seed, everyone)
    lengo = procs.Server("callbacks-lengo", [sys.executable, "-m", "benchmarks.fake_lengo", "--port", str(lengo_port),
                                             "--seed", str(lengo_seed)], procs.base_env(), lengo_port, d)
    app_db, base_db = d / "callbacks-app.sqlite3", d / "callbacks-baseline.sqlite3"
    seed(sqlite_url(app_db), bench.saleor, lengo.url, callback_payments=everyone)
    baselines.create_callback_db(base_db, [(p.token, p.pay_id) for p in everyone])
    warm_file, measure_file = d / "callbacks-warm.requests", d / "callbacks-measure.requests"
    load.write_requests(warm_file, _requests(warm_p))
    load.write_requests(measure_file, _requests(measure_p))

    base_port = procs.free_port()
    app = procs.app_server("callbacks-app", sqlite_url(app_db), d)
    base = procs.Server("callbacks-baseline", procs.uvicorn_args("benchmarks.baselines:callback_app", base_port, factory=True),
                        procs.base_env(BENCH_DB=str(base_db), BENCH_LENGO_URL=lengo.url, BENCH_LICENSE_KEY=LICENSE_KEY,
                                       BENCH_WEBSITE_ID=WEBSITE_ID), base_port, d)
    with lengo, app, base:
        lengo.start("/api/getbalance/x")
        app.start("/health")
        base.start("/api/lengo/callback/unknown")
        (req,) = _requests(sanity)
        for server, db, q in ((app, app_db, APP_CONFIRMED), (base, base_db, BASE_CONFIRMED)):
            answer = httpx.post(server.url + req.path, content=req.body, headers=dict(req.headers), timeout=10)
            if answer.status_code != 200:
                raise RuntimeError(f"{server.name} answered {answer.status_code} {answer.text}")
            if not wait_for(lambda: count(db, q) == 1, timeout=15)[0]:
                raise RuntimeError(f"{server.name} did not confirm the first callback:\n{server.log_tail()}")
        bm = _measure(bench, base, base_db, BASE_RECORDED, BASE_CONFIRMED, warm_file, measure_file)
        with bench.rss_peak(app):
            am = _measure(bench, app, app_db, APP_RECORDED, APP_CONFIRMED, warm_file, measure_file,
                          reporting_q=APP_REPORTING)
        delivered = json.loads(httpx.get(saleor.url + "/stats").read())["reports"]

    a, b = am.answered, bm.answered
    notes = check_clean("app", a) + check_clean("baseline", b)
    if a.wraps or b.wraps:
        notes += " (payments ran out: some callbacks were repeats)"
    r = ratio(a.rps, b.rps)
    bench.add(Row("2 callback ingestion", f"callbacks answered, {CONNECTIONS} conn." + notes, fmt_rps(a), fmt_rps(b),
                  f"{r:.2f}×", "≥ 0.5×", r >= 0.5))
    bench.add(Row("2 callback ingestion", "p50 / p99 latency", fmt_lat(a), fmt_lat(b)))
    a_sustained = am.confirmed / (a.seconds + am.drain_seconds)
    b_sustained = bm.confirmed / (b.seconds + bm.drain_seconds)
    bench.add(Row(
        "2 callback ingestion",
        "confirmed with Lengo, per s of load + drain (drain)" + ("" if am.drained and bm.drained else " (drain timed out)"),
        f"{a_sustained:,.0f}/s ({am.drain_seconds:.1f} s)", f"{b_sustained:,.0f}/s ({bm.drain_seconds:.1f} s)",
        f"{ratio(a_sustained, b_sustained):.2f}×",
    ))
    bench.add(Row("2 callback ingestion", "server CPU time per confirmed callback", f"{am.cpu_ms_per_confirmed:.2f} ms",
                  f"{bm.cpu_ms_per_confirmed:.2f} ms", f"{ratio(am.cpu_ms_per_confirmed, bm.cpu_ms_per_confirmed):.1f}× the CPU"))
    bench.add(Row("2 callback ingestion", "events the app's relay reported to Saleor meanwhile", f"{delivered:,}", "—"))
