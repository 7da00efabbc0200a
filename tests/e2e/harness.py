"""Real processes and sockets for the end-to-end tests.

- `SaleorServer`: the fake Saleor (`tests.fakes.saleor.FakeSaleor`) served by
  uvicorn in a thread of the test process, so tests read what it recorded
  directly and flip `down`.
- `Process`: `saleor-lengo serve` or `saleor-lengo simulator` as a
  subprocess in its own session, with its output in a log file, killed
  (SIGKILL if need be) when the test ends.
- `wait_until`: every wait is bounded and says what it waited for.

Everything here is synchronous: the test process only sends HTTP requests
and watches; the asynchronous work happens in the processes under test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from tests.fakes.saleor import Event, FakeSaleor

T = TypeVar("T")

# Generous: a shared 2-core CI machine starts Python, imports and migrates slowly.
START_TIMEOUT = 45.0
STOP_TIMEOUT = 10.0


class WaitTimeout(AssertionError):
    pass


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    details: Callable[[], str] | None = None,
) -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            extra = f"\n{details()}" if details else ""
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for {what}{extra}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- The fake Saleor over HTTP -------------------------------------------------------


@dataclass
class ThreadSafeFakeSaleor(FakeSaleor):
    """FakeSaleor whose events are changed by two threads: the server's and the test's.

    The server thread records `transactionEventReport`s while the test thread
    records sync answers (as Saleor does); deduplication is a check then an
    append, so both go through one lock.
    """

    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def _add_event(self, tx: str, type_: str, psp: str, amount: Decimal, message: str, source: str) -> tuple[Event, bool]:
        with self._lock:
            return super()._add_event(tx, type_, psp, amount, message, source)

    def open_transaction(self, tx: str) -> None:
        with self._lock:
            super().open_transaction(tx)

    def events(self, tx: str, type_: str | None = None) -> list[Event]:
        with self._lock:
            return super().events(tx, type_)

    def reports(self) -> list[dict[str, Any]]:
        """The transactionEventReport calls received (delivered or not)."""
        return [c for c in list(self.graphql_calls) if "transactionEventReport" in (c.get("query") or "")]


class SaleorServer:
    """uvicorn serving `fake.asgi()` on 127.0.0.1 in a daemon thread."""

    def __init__(self, fake: FakeSaleor, port: int) -> None:
        self.fake = fake
        self.port = port
        config = uvicorn.Config(
            fake.asgi(),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            ws="none",
            http="h11",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"fake-saleor:{port}", daemon=True)

    def start(self) -> None:
        self._thread.start()
        wait_until(
            lambda: self._server.started or not self._thread.is_alive(),
            timeout=START_TIMEOUT,
            what="the fake Saleor to listen",
        )
        if not self._server.started:
            raise RuntimeError(f"the fake Saleor did not start on port {self.port}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT)

    def webhook(self, http: httpx.Client, app_url: str, event: str, body: dict[str, Any]) -> httpx.Response:
        """Send a signed sync webhook to the app, as Saleor does (no redirects followed)."""
        raw, headers = self.fake.webhook(event, body)
        path = "/api/webhooks/saleor/" + event.lower().replace("_", "-")
        # Saleor's sync webhook timeout: 2 s connect + 18 s read.
        return http.post(
            app_url + path,
            content=raw,
            headers=headers,
            timeout=httpx.Timeout(18.0, connect=2.0),
            follow_redirects=False,
        )


# --- Processes under test ----------------------------------------------------------


class Process:
    """One `saleor-lengo …` subprocess, listening on `port`, logging to `log_path`."""

    def __init__(
        self, name: str, args: Sequence[str], env: Mapping[str, str], port: int, log_path: Path, *, cwd: Path
    ) -> None:
        self.name = name
        self.cwd = cwd
        self.args = [sys.executable, "-m", "saleor_lengo.cli", *args]
        self.env = dict(env)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self, ready_path: str) -> None:
        assert self._proc is None, f"{self.name} already running"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
        self._log.write(f"\n=== start: {' '.join(self.args[1:])}\n".encode())
        self._log.flush()
        self._proc = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own process group: killing it never touches the test runner.
            start_new_session=True,
        )
        self.wait_ready(ready_path)

    def wait_ready(self, path: str) -> None:
        def ready() -> bool:
            if not self.running:
                raise RuntimeError(f"{self.name} exited with {self.returncode}:\n{self.log_tail()}")
            try:
                return httpx.get(self.url + path, timeout=2.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=START_TIMEOUT, interval=0.2, what=f"{self.name} on {self.url}{path}", details=self.log_tail)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed, tasks in flight are lost."""
        self._signal(signal.SIGKILL)
        self._reap(STOP_TIMEOUT)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self._proc is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self._proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
        self._reap(STOP_TIMEOUT)

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        try:
            os.killpg(self._proc.pid, sig)  # the session started for it: pid == pgid
        except ProcessLookupError:
            pass

    def _reap(self, timeout: float) -> None:
        if self._proc is not None:
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self._proc.wait(timeout)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"({self.name}: no log)"
        return f"--- {self.name} log ({self.log_path}) ---\n" + "\n".join(text.splitlines()[-lines:])


def run_cli(
    args: Sequence[str], env: Mapping[str, str], *, cwd: Path, input_text: str | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run a one-shot `saleor-lengo …` command (e.g. `configure`) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "saleor_lengo.cli", *args],
        env=dict(env),
        cwd=cwd,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
