"""What every scenario shares: the run's directory and durations, the Saleor signer, the result rows."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import load
from benchmarks.procs import Server, base_env, free_port
from tests.fakes.saleor import FakeSaleor


@dataclass
class Row:
    scenario: str
    measure: str
    app: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None  # None: no target for this line


@dataclass
class Bench:
    directory: Path
    seconds: float = 10.0  # each measurement
    warmup: float = 2.0  # before each measurement, same load, not counted
    rows: list[Row] = field(default_factory=list)
    app_rss_peak_mb: float = 0.0
    saleor: FakeSaleor = field(init=False)
    saleor_server: Server | None = None
    _profiles: int = 0

    def __post_init__(self) -> None:
        self.saleor_port = free_port()
        # The signer: RSA key and JWS exactly as Saleor makes them (tests.fakes.saleor).
        self.saleor = FakeSaleor(api_url=f"http://127.0.0.1:{self.saleor_port}/graphql/")
        self.jwks_path = self.directory / "jwks.json"
        self.jwks_path.write_text(json.dumps(self.saleor.jwks()))
        self.wrk_log = self.directory / "wrk.log"

    def start_saleor(self) -> Server:
        """The minimal fake Saleor (benchmarks.fake_saleor), shared by every scenario that reports events."""
        if self.saleor_server is None:
            import sys

            self.saleor_server = Server(
                "fake-saleor",
                [sys.executable, "-m", "benchmarks.fake_saleor", "--port", str(self.saleor_port), "--jwks", str(self.jwks_path)],
                base_env(), self.saleor_port, self.directory,
            )
            self.saleor_server.start("/stats")
        return self.saleor_server

    def close(self) -> None:
        if self.saleor_server is not None:
            self.saleor_server.stop()

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def wrk(self, server: Server, requests: Path, connections: int, seconds: float | None = None) -> load.Result:
        """wrk against `server`, with the CPU time the server used meanwhile."""
        cpu = server.cpu_seconds()
        result = load.run_wrk(server.url, requests, connections=connections, seconds=seconds or self.seconds, log=self.wrk_log)
        return dataclasses.replace(result, cpu_seconds=server.cpu_seconds() - cpu)

    def slice_seconds(self, slices: int) -> int:
        """wrk takes whole seconds: each slice lasts at least its share of `seconds`."""
        return max(1, math.ceil(self.seconds / slices))

    def paired(self, app: Server, base: Server, files: list[Path], connections: int) -> tuple[load.Result, load.Result]:
        """The app and its baseline in alternating slices of one measurement: base, app, app, base, base, app…

        This VM's speed drifts by 10–20% from one minute to the next; measured
        one after the other, a drift lands on one side only. In alternating
        slices it weighs on both alike. Slice i sends `files[i]` (its own
        requests, where each must be new) to both sides; each side's slices are
        merged (`load.merge`).
        """
        slice_seconds = self.slice_seconds(len(files))
        apps, bases = [], []
        for i, requests in enumerate(files):
            order = ((base, bases), (app, apps)) if i % 2 == 0 else ((app, apps), (base, bases))
            for server, results in order:
                results.append(self.wrk(server, requests, connections, slice_seconds))
        return load.merge(apps), load.merge(bases)

    def warm(self, server: Server, requests: Path, connections: int) -> None:
        if self.warmup > 0:
            self.wrk(server, requests, connections, self.warmup)

    @contextmanager
    def rss_peak(self, server: Server) -> Iterator[list[float]]:
        """Samples the server's RSS every 0.2 s; the list holds the peak (MB) once the block ends."""
        peak = [server.rss_mb()]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                try:
                    peak[0] = max(peak[0], server.rss_mb())
                except (OSError, RuntimeError, AssertionError):
                    return

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        spy = self._profile(server)
        try:
            yield peak
        finally:
            stop.set()
            thread.join()
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
                spy.wait(30)
            self.app_rss_peak_mb = max(self.app_rss_peak_mb, peak[0])

    def _profile(self, server: Server) -> subprocess.Popen[bytes] | None:
        """BENCH_PROFILE=DIR: py-spy samples the app while it is measured (collapsed stacks in DIR)."""
        directory = os.environ.get("BENCH_PROFILE")
        if not directory:
            return None
        self._profiles += 1
        out = Path(directory) / f"{self._profiles:02d}-{server.name}.txt"
        idle = ["--idle"] if os.environ.get("BENCH_PROFILE_IDLE") else []  # wall time, waits included
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        return subprocess.Popen([spy, "record", "-p", str(server.pid), "-r", "250", "-f", "raw", "--nonblocking", *idle,
                                 "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def count(path: Path, query: str) -> int:
    """One number from a database a server is writing (WAL: this reader never blocks it)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=15)
    try:
        return int(db.execute(query).fetchone()[0])
    finally:
        db.close()


def wait_for(probe: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> tuple[bool, float]:
    """(whether `probe()` became true, seconds waited)."""
    start = time.perf_counter()
    while True:
        if probe():
            return True, time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            return False, time.perf_counter() - start
        time.sleep(interval)


def fmt_rps(r: load.Result) -> str:
    return f"{r.rps:,.0f} req/s"


def fmt_cpu(r: load.Result) -> str:
    return f"{r.cpu_ms_per_request:.2f} ms"


def fmt_lat(r: load.Result) -> str:
    return f"{r.p50_ms:.1f} / {r.p99_ms:.1f} ms"


def ratio(app: float, baseline: float) -> float:
    return app / baseline if baseline else 0.0


def median(values: list[float]) -> float:
    return statistics.median(values)


def check_clean(name: str, r: load.Result) -> str:
    """A note when wrk saw errors: figures from failing requests are not figures."""
    problems = []
    if r.non2xx:
        problems.append(f"{r.non2xx} non-2xx")
    if r.socket_errors:
        problems.append(f"{r.socket_errors} socket errors")
    if r.timeouts:
        problems.append(f"{r.timeouts} timeouts")
    return f" ({name}: {', '.join(problems)})" if problems else ""
