"""3. TRANSACTION_INITIALIZE_SESSION against the fake Lengo answering at once, then after 100 ms.

For each Lengo latency, a fresh app (its own database) and a fresh fake
Lengo (`benchmarks.fake_lengo --slow`):
- Lengo's own latency: its create endpoint, one request at a time;
- the app and the baseline one request at a time: what each adds to Lengo's
  latency is its p50 (p99) minus Lengo's own;
- the app and the baseline at 50 concurrent requests.

Every request is a different Saleor transaction (a repeat would be answered
from the stored payment without calling Lengo): the bodies are signed ahead,
and each measurement of the app sends its own slice of them. The baseline
(`baselines.initialize_app`: verify, Lengo's create, one insert) gets the
same requests.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import httpx

from benchmarks import baselines, load, procs
from benchmarks.context import Bench, Row, check_clean, fmt_cpu, fmt_lat, fmt_rps, ratio, sqlite_url
from benchmarks.seed import CHANNEL, LICENSE_KEY, RETURN_URL, WEBSITE_ID, seed
from tests.fakes import payloads

PATH = "/api/webhooks/saleor/transaction-initialize-session"
LATENCIES = (0.0, 0.1)
CONCURRENT = 50
SLICES = 4  # each measurement alternates app and baseline in this many slices (Bench.paired)
# Requests per second, at most, that a slice must cover (the app must never run out).
CEILING_ONE = 700
CEILING_MANY = 1500


def _signed(bench: Bench, n: int) -> list[load.Request]:
    out = []
    for _ in range(n):
        tx = payloads.new_transaction_id()
        body = payloads.session("TRANSACTION_INITIALIZE_SESSION", bench.saleor.app_id, tx, amount=Decimal("176500.0"),
                                channel=CHANNEL, data={"returnUrl": RETURN_URL}, idempotency_key="bench-" + tx[-16:])
        raw, headers = bench.saleor.webhook("TRANSACTION_INITIALIZE_SESSION", body)
        out.append(load.Request("POST", PATH, headers, raw))
    return out


def _slices(bench: Bench, latency: float) -> dict[str, int]:
    """How many distinct requests each warm-up and each slice of a measurement may need, at most."""
    one = min(CEILING_ONE, 1 / latency if latency else CEILING_ONE)
    many = min(CEILING_MANY, CONCURRENT / latency if latency else CEILING_MANY)
    per_slice = bench.slice_seconds(SLICES) + 1
    return {"one-warm": int(one * (bench.warmup + 1)), **{f"one-{i}": int(one * per_slice) for i in range(SLICES)},
            "many-warm": int(many * (bench.warmup + 1)), **{f"many-{i}": int(many * per_slice) for i in range(SLICES)}}


def _file(path: Path, requests: list[load.Request]) -> Path:
    load.write_requests(path, requests)
    return path


def run(bench: Bench) -> None:
    d = bench.directory
    sizes = {lat: _slices(bench, lat) for lat in LATENCIES}
    pool = _signed(bench, 1 + max(sum(s.values()) for s in sizes.values()))
    sanity, pool = pool[0], pool[1:]
    for latency in LATENCIES:
        _one_latency(bench, d, latency, sanity, pool, sizes[latency])


def _one_latency(bench: Bench, d: Path, latency: float, sanity: load.Request, pool: list[load.Request],
                 size: dict[str, int]) -> None:
    ms = f"{latency * 1000:g} ms"
    tag = f"init-{latency * 1000:g}ms"
    files, start = {}, 0
    for part, n in size.items():  # disjoint slices: the app never sees a transaction twice
        files[part] = _file(d / f"{tag}-{part}.requests", pool[start:start + n])
        start += n
    lengo_port, base_port = procs.free_port(), procs.free_port()
    lengo = procs.Server(f"{tag}-lengo", [sys.executable, "-m", "benchmarks.fake_lengo", "--port", str(lengo_port),
                                          "--slow", str(latency)], procs.base_env(), lengo_port, d)
    app_db, base_db = d / f"{tag}-app.sqlite3", d / f"{tag}-baseline.sqlite3"
    seed(sqlite_url(app_db), bench.saleor, lengo.url)
    baselines.create_initialize_db(base_db)
    app = procs.app_server(f"{tag}-app", sqlite_url(app_db), d)
    create = load.Request("POST", "/api/v1/payments",
                          {"Authorization": f"Basic {LICENSE_KEY}", "Content-Type": "application/json", "Accept": "application/json"},
                          (f'{{"websiteid": "{WEBSITE_ID}", "amount": 176500, "currency": "GNF", '
                           f'"return_url": "{RETURN_URL}?transactionId=VHJh", '
                           f'"callback_url": "{app.url}/api/lengo/callback/tokentokentokentokentokentoken"}}').encode())
    create_file = _file(d / f"{tag}-lengo.requests", [create])
    base = procs.Server(f"{tag}-baseline", procs.uvicorn_args("benchmarks.baselines:initialize_app", base_port, factory=True),
                        procs.base_env(BENCH_JWKS=str(bench.jwks_path), BENCH_DB=str(base_db), BENCH_LENGO_URL=lengo.url,
                                       BENCH_LICENSE_KEY=LICENSE_KEY, BENCH_WEBSITE_ID=WEBSITE_ID,
                                       BENCH_OWN_URL=f"http://127.0.0.1:{base_port}"), base_port, d)
    with lengo, app, base:
        lengo.start("/api/getbalance/x")
        app.start("/health")
        base.start("/")
        for server in (app, base):
            answer = httpx.post(server.url + PATH, content=sanity.body, headers=dict(sanity.headers), timeout=10)
            if answer.status_code != 200 or answer.json().get("result") != "CHARGE_ACTION_REQUIRED":
                raise RuntimeError(f"{server.name} answered {answer.status_code} {answer.text}\n{server.log_tail()}")
        bench.warm(lengo, create_file, 1)
        own = bench.wrk(lengo, create_file, 1)
        bench.warm(base, files["one-warm"], 1)
        bench.warm(app, files["one-warm"], 1)
        with bench.rss_peak(app):
            a1, b1 = bench.paired(app, base, [files[f"one-{i}"] for i in range(SLICES)], 1)
        bench.warm(base, files["many-warm"], CONCURRENT)
        bench.warm(app, files["many-warm"], CONCURRENT)
        with bench.rss_peak(app):
            am, bm = bench.paired(app, base, [files[f"many-{i}"] for i in range(SLICES)], CONCURRENT)
    scen = f"3 initialize, Lengo {ms}"
    bench.add(Row(scen, "Lengo's own latency p50 / p99 (1 at a time)", fmt_lat(own)))
    added = a1.p50_ms - own.p50_ms
    notes = check_clean("app", a1) + check_clean("baseline", b1) + (" (app ran out of transactions)" if a1.wraps else "")
    bench.add(Row(scen, "added to Lengo's latency p50 / p99, 1 at a time" + notes,
                  f"{added:.1f} / {a1.p99_ms - own.p99_ms:.1f} ms", f"{b1.p50_ms - own.p50_ms:.1f} / {b1.p99_ms - own.p99_ms:.1f} ms",
                  "", "p50 ≤ 3 ms", added <= 3))
    r = ratio(am.rps, bm.rps)
    notes = check_clean("app", am) + check_clean("baseline", bm) + (" (app ran out of transactions)" if am.wraps else "")
    bench.add(Row(scen, f"throughput, {CONCURRENT} concurrent" + notes, fmt_rps(am), fmt_rps(bm), f"{r:.2f}×", "≥ 0.5×", r >= 0.5))
    bench.add(Row(scen, f"p50 / p99 latency, {CONCURRENT} concurrent", fmt_lat(am), fmt_lat(bm)))
    bench.add(Row(scen, f"server CPU time per request, {CONCURRENT} concurrent", fmt_cpu(am), fmt_cpu(bm),
                  f"{ratio(am.cpu_ms_per_request, bm.cpu_ms_per_request):.1f}× the CPU"))
