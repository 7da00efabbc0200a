"""Recovery at scale: every payment reaches Saleor, once, within seconds of the fault's end.

    .venv/bin/python -m benchmarks.recovery                   # full size, about 5 minutes
    .venv/bin/python -m benchmarks.recovery --size ci         # the reduced size CI runs
    .venv/bin/python -m benchmarks.recovery --only outage,restart,replicas --keep

Three scenarios, each on real `saleor-lengo serve` processes, the fake Lengo
(`benchmarks.fake_lengo`, knowing every seeded payment as SUCCESS) and a fake
Saleor that answers each HTTP request in 50 ms (`RecordingSaleor`, in this
process: it deduplicates reports on (transaction, type, pspReference, amount)
as Saleor does, and notes when each event first arrived). Payments are
seeded in the app's database (`benchmarks.seed`); the script plays Lengo's
callback sender, which posts one callback per payment and retries it until it
gets a 2xx, as Lengo does.

1. outage — Saleor answers 503, then refuses connections (its port closed),
   while the callbacks of all the payments arrive; then it answers 200 again.
   t0 = the moment it answers again.
2. restart — a burst of callbacks while `serve` is killed with SIGKILL every
   3–5 s and started again at once. t0 = when the restarted process answers
   `/health` (the latest restart before the event was delivered).
3. replicas — two `serve` processes on one PostgreSQL database, callbacks
   spread over both; one is SIGKILLed mid-burst and stays dead.
   t0 = the SIGKILL. Needs PostgreSQL (`--postgres URL`, default
   `postgresql://postgres@127.0.0.1:5432/postgres`; a fresh database is created
   and dropped).

For each: delivered / expected (payments with their CHARGE_SUCCESS in Saleor),
duplicates (a payment with more than one CHARGE_SUCCESS in Saleor: what
Saleor's deduplication could not absorb), repeats (reports Saleor answered
`alreadyProcessed`: harmless), the delay per event = first delivery −
max(t0, committed) — committed being its outbox row's `created_at` — as
p50 / p99 / max, and the app's RSS after the warm-up and at the end.
Targets: all delivered, 0 duplicates, max delay ≤ 15 s, RSS at the end ≤ RSS
after warm-up + 20 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks import procs
from benchmarks.seed import SeededPayment, app_env, new_payments, seed, write_lengo_seed
from tests.e2e.harness import SaleorServer
from tests.fakes.saleor import FakeSaleor

SALEOR_LATENCY = 0.05
MAX_DELAY_TARGET = 15.0
RSS_GROWTH_TARGET_MIB = 20.0
SENDERS = 16  # callbacks in flight at once, as Lengo's sender might
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Size:
    payments: int
    warmup: int
    outage_503: float  # seconds of 503s
    outage_refused: float  # then seconds of refused connections
    burst_seconds: float  # callbacks of the restart and replica scenarios spread over this long
    deliver_timeout: float
    min_kills: int  # restart: SIGKILLs at least, even if the burst is over sooner
    # Saleor's GRAPHQL_BATCH_MAX_COUNT: 1, its default, refuses every batched request (one report per request).
    saleor_batch_max_count: int = 1


FULL = Size(payments=1000, warmup=50, outage_503=90.0, outage_refused=90.0, burst_seconds=30.0, deliver_timeout=180.0,
            min_kills=5)
CI = Size(payments=60, warmup=10, outage_503=3.0, outage_refused=3.0, burst_seconds=12.0, deliver_timeout=60.0,
          min_kills=2)


# --- The fake Saleor -------------------------------------------------------------


@dataclass
class RecordingSaleor:
    """Answers `transactionEventReport` after `latency`, deduplicating like Saleor; 503 while `failing`.

    A batched request of more than `batch_max_count` operations is refused whole, as Saleor does
    (its GRAPHQL_BATCH_MAX_COUNT, 1 by default).
    """

    latency: float = SALEOR_LATENCY
    failing: bool = False
    batch_max_count: int = 1
    first_seen: dict[tuple[str, str, str, str], float] = field(default_factory=dict)
    events_by_tx: dict[str, set[tuple[str, str, str, str]]] = field(default_factory=dict)
    reports: int = 0
    repeats: int = 0
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _record(self, variables: dict[str, Any]) -> dict[str, Any]:
        key = (str(variables.get("id")), str(variables.get("type")), str(variables.get("pspReference")),
               str(variables.get("amount")))
        with self._lock:
            self.reports += 1
            repeat = key in self.first_seen
            if repeat:
                self.repeats += 1
            else:
                self.first_seen[key] = time.time()
                self.events_by_tx.setdefault(key[0], set()).add(key)
            n = len(self.first_seen)
        return {"data": {"transactionEventReport": {
            "alreadyProcessed": repeat, "transactionEvent": {"id": f"VHJhbnNhY3Rpb25FdmVudDo{n}"}, "errors": []}}}

    def asgi(self) -> Starlette:
        async def graphql(request: Request) -> Response:
            try:
                body = json.loads(await request.body())
            except ClientDisconnect:  # the app was killed mid-request: nothing arrived
                return Response(status_code=499)
            await asyncio.sleep(self.latency)
            with self._lock:
                self.requests += 1
            if self.failing:
                return Response("Service Unavailable", status_code=503)
            if isinstance(body, list) and len(body) > self.batch_max_count:
                return Response(json.dumps({"errors": [{"message": "Number of batch queries exceeded."}]}),
                                status_code=400, media_type="application/json")
            ops = body if isinstance(body, list) else [body]
            answers = [self._record(op.get("variables") or {}) for op in ops]
            return Response(json.dumps(answers if isinstance(body, list) else answers[0]), media_type="application/json")

        return Starlette(routes=[Route("/graphql/", graphql, methods=["POST"])])

    def delivered(self, tx_ids: Sequence[str]) -> int:
        with self._lock:
            return sum(1 for tx in tx_ids if any(k[1] == "CHARGE_SUCCESS" for k in self.events_by_tx.get(tx, ())))

    def duplicates(self, tx_ids: Sequence[str]) -> int:
        with self._lock:
            return sum(1 for tx in tx_ids
                       if sum(1 for k in self.events_by_tx.get(tx, ()) if k[1] == "CHARGE_SUCCESS") > 1)


class SaleorHost:
    """The fake Saleor on a fixed port; `close()` closes the port (connections refused), `open()` again."""

    def __init__(self, fake: RecordingSaleor, port: int) -> None:
        self.fake, self.port = fake, port
        self.url = f"http://127.0.0.1:{port}/graphql/"
        self._server: SaleorServer | None = None

    def open(self) -> None:
        self._server = SaleorServer(self.fake, self.port)  # type: ignore[arg-type]  # serves any asgi()
        self._server.start()

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


# --- The app and Lengo -------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    expected: int
    delivered: int
    duplicates: int
    repeats: int
    delays: list[float]
    rss_warm_mib: float
    rss_end_mib: float
    notes: str = ""
    kills: int = 0

    def met(self) -> bool:
        return (self.delivered == self.expected and self.duplicates == 0 and bool(self.delays)
                and max(self.delays) <= MAX_DELAY_TARGET
                and self.rss_end_mib <= self.rss_warm_mib + RSS_GROWTH_TARGET_MIB)

    def lines(self) -> list[str]:
        d = sorted(self.delays)

        def pct(q: float) -> float:
            return d[min(len(d) - 1, int(q * len(d)))] if d else float("nan")

        return [
            f"[{self.scenario}] delivered {self.delivered}/{self.expected}, duplicates {self.duplicates}, "
            f"repeats (alreadyProcessed) {self.repeats}",
            f"[{self.scenario}] delay p50 {pct(0.5):.2f} s, p99 {pct(0.99):.2f} s, max {max(d) if d else float('nan'):.2f} s"
            f" (target max ≤ {MAX_DELAY_TARGET:g} s)",
            f"[{self.scenario}] RSS after warm-up {self.rss_warm_mib:.1f} MiB, at the end {self.rss_end_mib:.1f} MiB"
            f" (target ≤ +{RSS_GROWTH_TARGET_MIB:g} MiB)",
            f"[{self.scenario}] targets {'met' if self.met() else 'NOT met'}{'; ' + self.notes if self.notes else ''}",
        ]


class Run:
    """One scenario's processes, data and sender."""

    def __init__(self, directory: Path, name: str, database_url: str, size: Size) -> None:
        self.d = directory / name
        self.d.mkdir(parents=True, exist_ok=True)
        self.name, self.database_url, self.size = name, database_url, size
        self.saleor = RecordingSaleor(batch_max_count=size.saleor_batch_max_count)
        self.host = SaleorHost(self.saleor, procs.free_port())
        self.signer = FakeSaleor(api_url=self.host.url)
        self.warm = new_payments(size.warmup, start=0)
        self.paid = new_payments(size.payments, start=size.warmup)
        self.lengo_port = procs.free_port()
        write_lengo_seed(self.d / "lengo-seed.json", [*self.warm, *self.paid])
        self.lengo = procs.Server("fake-lengo", [sys.executable, "-m", "benchmarks.fake_lengo", "--port",
                                                 str(self.lengo_port), "--seed", str(self.d / "lengo-seed.json")],
                                  procs.base_env(), self.lengo_port, self.d)
        self.apps: list[procs.Server] = []
        self.acknowledged: set[str] = set()

    def start(self, apps: int = 1) -> list[procs.Server]:
        """Seed the database, start Saleor, Lengo and `apps` app processes; then warm them up."""
        lengo_url = f"http://127.0.0.1:{self.lengo_port}"
        seed(self.database_url, self.signer, lengo_url, callback_payments=[*self.warm, *self.paid])
        self.host.open()
        self.lengo.start("/api/getbalance/x")
        servers = [self.app(i) for i in range(apps)]
        for server in servers:
            server.start("/health")
        self.warm_up([server.url for server in servers])
        return servers

    def tx_ids(self, payments: Sequence[SeededPayment]) -> list[str]:
        # benchmarks.seed names the i-th seeded payment's transaction so.
        offset = {p.pay_id: i for i, p in enumerate([*self.warm, *self.paid])}
        return [f"VHJhbnNhY3Rpb25JdGVtOmJlbmNo{offset[p.pay_id]:08d}" for p in payments]

    def app(self, index: int = 0) -> procs.Server:
        port = procs.free_port()
        env = procs.base_env(**app_env(self.database_url, f"http://127.0.0.1:{port}"))
        server = procs.Server(f"app{index}", procs.app_args(port), env, port, self.d, cwd=procs.app_root())
        self.apps.append(server)
        return server

    def close(self) -> None:
        for server in self.apps:
            server.stop()
        self.lengo.stop()
        self.host.close()

    # The sender: Lengo posting callbacks, retrying each until a 2xx.

    async def send(self, payments: Sequence[SeededPayment], targets: Callable[[], list[str]], spread: float) -> None:
        gate = asyncio.Semaphore(SENDERS)
        start = time.monotonic()

        async def one(i: int, p: SeededPayment, http: httpx.AsyncClient) -> None:
            await asyncio.sleep(max(0.0, start + spread * i / max(1, len(payments)) - time.monotonic()))
            body = json.dumps({"pay_id": p.pay_id, "status": "SUCCESS", "amount": 150000,
                               "message": "Transaction Successful", "Client": "624897845"})
            delay, turn = 0.2, i
            while True:
                async with gate:
                    urls = targets()
                    url = urls[turn % len(urls)]
                    turn += 1
                    try:
                        r = await http.post(f"{url}/api/lengo/callback/{p.token}", content=body,
                                            headers={"Content-Type": "application/json"})
                        if 200 <= r.status_code < 300:
                            self.acknowledged.add(p.pay_id)
                            return
                    except httpx.HTTPError:
                        pass
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=2.0)) as http:
            await asyncio.gather(*(one(i, p, http) for i, p in enumerate(payments)))

    def wait_delivered(self, payments: Sequence[SeededPayment], timeout: float) -> bool:
        tx = self.tx_ids(payments)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.saleor.delivered(tx) == len(tx):
                return True
            time.sleep(0.1)
        return False

    def committed(self) -> dict[str, float]:
        """transaction id → its CHARGE_SUCCESS outbox row's created_at."""
        query = "SELECT saleor_transaction_id, min(created_at) FROM outbox WHERE event_type = 'CHARGE_SUCCESS' GROUP BY 1"
        if self.database_url.startswith("sqlite"):
            path = self.database_url.split("sqlite:///", 1)[1]
            with sqlite3.connect(path) as db:
                return {tx: float(t) for tx, t in db.execute(query)}
        return asyncio.run(_pg_rows(self.database_url, query))

    def result(self, t0_of: Callable[[str, float, float], float], rss_warm: float, rss_end: float,
               notes: str = "") -> Result:
        tx = self.tx_ids(self.paid)
        committed = self.committed()
        delays = []
        with self.saleor._lock:
            first = {k[0]: t for k, t in self.saleor.first_seen.items() if k[1] == "CHARGE_SUCCESS"}
        for t in tx:
            if t in first and t in committed:
                delays.append(first[t] - max(t0_of(t, committed[t], first[t]), committed[t]))
        return Result(self.name, len(tx), self.saleor.delivered(tx), self.saleor.duplicates(tx), self.saleor.repeats,
                      delays, rss_warm, rss_end, notes)

    def warm_up(self, app_urls: list[str]) -> None:
        asyncio.run(self.send(self.warm, lambda: app_urls, 0.0))
        if not self.wait_delivered(self.warm, self.size.deliver_timeout):
            raise RuntimeError(f"{self.name}: the warm-up was not delivered\n{self.apps[0].log_tail()}")


async def _pg_rows(url: str, query: str) -> dict[str, float]:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return {r[0]: float(r[1]) for r in await conn.fetch(query)}
    finally:
        await conn.close()


async def _pg_admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


# --- Scenarios -------------------------------------------------------------------------


def outage(directory: Path, size: Size) -> Result:
    run = Run(directory, "outage", f"sqlite:///{directory / 'outage.sqlite3'}", size)
    try:
        [app] = run.start()
        rss_warm = app.rss_mb()

        # Saleor fails: 503s, then its port closed; meanwhile every payment's callback arrives.
        run.saleor.failing = True
        sender = threading.Thread(target=lambda: asyncio.run(
            run.send(run.paid, lambda: [app.url], 0.6 * (size.outage_503 + size.outage_refused))))
        sender.start()
        time.sleep(size.outage_503)
        run.host.close()
        time.sleep(size.outage_refused)
        sender.join()
        run.saleor.failing = False
        run.host.open()
        t0 = time.time()  # Saleor answers 200 again from here
        ok = run.wait_delivered(run.paid, size.deliver_timeout)
        time.sleep(1.0)  # late repeats, if any, land before counting
        return run.result(lambda _tx, _c, _d: t0, rss_warm, app.rss_mb(),
                          "" if ok else "timed out waiting for deliveries")
    finally:
        run.close()


def restart(directory: Path, size: Size) -> Result:
    run = Run(directory, "restart", f"sqlite:///{directory / 'restart.sqlite3'}", size)
    try:
        [app] = run.start()
        rss_warm = app.rss_mb()
        ready_times: list[float] = []
        kills = 0

        sender = threading.Thread(target=lambda: asyncio.run(run.send(run.paid, lambda: [app.url], size.burst_seconds)))
        sender.start()
        while sender.is_alive() or kills < size.min_kills:
            time.sleep(random.uniform(3.0, 5.0))
            if not sender.is_alive() and kills >= size.min_kills:
                break
            _kill(app)
            kills += 1
            app.start("/health", wait=False)
            app.wait_ready("/health", interval=0.02)
            ready_times.append(time.time())
        sender.join()
        ok = run.wait_delivered(run.paid, size.deliver_timeout)
        time.sleep(1.0)

        def t0(_tx: str, committed: float, delivered: float) -> float:
            # The restart whose process delivered it: the latest one answering /health before the delivery.
            return max([r for r in ready_times if r <= delivered], default=committed)

        result = run.result(t0, rss_warm, app.rss_mb(),
                            f"{kills} SIGKILLs" + ("" if ok else "; timed out waiting for deliveries"))
        result.kills = kills
        return result
    finally:
        run.close()


def replicas(directory: Path, size: Size, database_url: str) -> Result:
    """`database_url`: an empty PostgreSQL database."""
    run = Run(directory, "replicas", database_url, size)
    try:
        first, second = run.start(apps=2)
        live = [first.url, second.url]
        rss_warm = first.rss_mb()

        sender = threading.Thread(target=lambda: asyncio.run(run.send(run.paid, lambda: list(live), size.burst_seconds)))
        sender.start()
        # Mid-burst: a third acknowledged.
        while len(run.acknowledged) < len(run.warm) + len(run.paid) // 3 and sender.is_alive():
            time.sleep(0.01)
        _kill(second)
        killed_at = time.time()
        live.remove(second.url)
        sender.join()
        ok = run.wait_delivered(run.paid, size.deliver_timeout)
        time.sleep(1.0)
        return run.result(lambda _tx, _c, _d: killed_at, rss_warm, first.rss_mb(),
                          "" if ok else "timed out waiting for deliveries")
    finally:
        run.close()


def _kill(server: procs.Server) -> None:
    assert server.proc is not None
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    server.proc = None


SCENARIOS = ("outage", "restart", "replicas")


def run_scenarios(directory: Path, size: Size, only: Sequence[str] = SCENARIOS,
                  postgres: str = DEFAULT_POSTGRES) -> list[Result]:
    results = []
    for scenario in only:
        if scenario == "outage":
            results.append(outage(directory, size))
        elif scenario == "restart":
            results.append(restart(directory, size))
        elif scenario == "replicas":
            name = f"bench_recovery_{uuid.uuid4().hex[:8]}"
            asyncio.run(_pg_admin(postgres, f'CREATE DATABASE "{name}"'))
            try:
                results.append(replicas(directory, size, f"{postgres.rsplit('/', 1)[0]}/{name}"))
            finally:
                asyncio.run(_pg_admin(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            raise ValueError(f"unknown scenario {scenario!r}")
        for line in results[-1].lines():
            print(line, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=["full", "ci"], default="full")
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", DEFAULT_POSTGRES))
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (databases, logs)")
    parser.add_argument("--saleor-batch-max-count", type=int, default=1, metavar="N",
                        help="the fake Saleor's GRAPHQL_BATCH_MAX_COUNT (default 1, Saleor's own: no batching)")
    args = parser.parse_args()
    size = dataclasses.replace(FULL if args.size == "full" else CI, saleor_batch_max_count=args.saleor_batch_max_count)
    directory = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    print(f"machine: nproc {os.cpu_count()}; run directory {directory}", flush=True)
    try:
        results = run_scenarios(directory, size, args.only.split(","), args.postgres)
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(directory, ignore_errors=True)
    sys.exit(0 if all(r.delivered == r.expected and r.duplicates == 0 for r in results) else 1)


if __name__ == "__main__":
    main()
