"""4. Relay drain: outbox events delivered to a fake Saleor, per second.

The app's database is seeded with N succeeded payments, each with one
pending CHARGE_SUCCESS event; then `benchmarks.relay_drain` (a separate
process, settings from the environment as `saleor-lengo relay --once` reads
them) times `outbox.relay.run_once` — claim in batches, read the
installation, decrypt its token, send `transactionEventReport`, record the
verdict — until the outbox is empty. The fake Saleor is the minimal one
(`benchmarks.fake_saleor`), answering success at once; the script checks it
received exactly N reports. Measured twice: with Saleor allowing batches
(`GRAPHQL_BATCH_MAX_COUNT` raised: up to 10 reports per request) and as a
stock Saleor (its default 1: one report per request, at most 4 in flight).
"""

from __future__ import annotations

import json
import subprocess
import sys

import httpx

from benchmarks import procs
from benchmarks.context import Bench, Row, count, sqlite_url
from benchmarks.seed import app_env, seed

EVENTS_PER_SECOND_OF_RUN = 300  # N = this × --seconds (3,000 for the default 10 s)


VARIANTS = (("4 relay drain", 1000, ""), ("4b relay drain, stock Saleor", 1, ", Saleor refusing batches"))


def run(bench: Bench) -> None:
    for name, batch_max_count, words in VARIANTS:
        _run(bench, name, batch_max_count, words)


def _run(bench: Bench, name: str, batch_max_count: int, words: str) -> None:
    d = bench.directory
    saleor = bench.start_saleor()
    httpx.post(saleor.url + "/settings", json={"batch_max_count": batch_max_count}).raise_for_status()
    n = max(100, int(EVENTS_PER_SECOND_OF_RUN * bench.seconds))
    db = d / f"relay-app-{batch_max_count}.sqlite3"
    seed(sqlite_url(db), bench.saleor, "http://127.0.0.1:9", outbox_events=n)
    before = json.loads(httpx.get(saleor.url + "/stats").read())
    env = procs.base_env(**app_env(sqlite_url(db), "http://127.0.0.1:8000"))
    with (d / "relay.log").open("ab") as log:
        done = subprocess.run([sys.executable, "-m", "benchmarks.relay_drain"], env=env, cwd=procs.app_root(),
                              stdout=subprocess.PIPE, stderr=log, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"relay_drain failed: {(d / 'relay.log').read_text()[-3000:]}")
    result = json.loads(done.stdout)
    after = json.loads(httpx.get(saleor.url + "/stats").read())
    received = after["reports"] - before["reports"]
    requests = after["requests"] - before["requests"]
    pending = count(db, "SELECT count(*) FROM outbox WHERE state != 'delivered'")
    rate = result["delivered"] / result["seconds"]
    note = "" if received == n and pending == 0 else f" (Saleor received {received}, {pending} not delivered)"
    bench.add(Row(name, f"events delivered to Saleor, {n:,} queued, in {requests:,} HTTP requests{words}" + note,
                  f"{rate:,.0f} events/s", "", "", "≥ 500/s", rate >= 500 and not note))
