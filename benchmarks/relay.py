"""4. Relay drain: outbox events delivered to a fake Saleor, per second.

The app's database is seeded with N succeeded payments, each with one
pending CHARGE_SUCCESS event; then `benchmarks.relay_drain` (a separate
process, settings from the environment as `saleor-lengo relay --once` reads
them) times `outbox.relay.run_once` — claim in batches, read the
installation, decrypt its token, send `transactionEventReport`, record the
verdict — until the outbox is empty. The fake Saleor is the minimal one
(`benchmarks.fake_saleor`), answering success at once; the script checks it
received exactly N reports.
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


def run(bench: Bench) -> None:
    d = bench.directory
    saleor = bench.start_saleor()
    n = max(100, int(EVENTS_PER_SECOND_OF_RUN * bench.seconds))
    db = d / "relay-app.sqlite3"
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
    bench.add(Row("4 relay drain", f"events delivered to Saleor, {n:,} queued, in {requests:,} HTTP requests" + note, f"{rate:,.0f} events/s", "", "",
                  "≥ 500/s", rate >= 500 and not note))
