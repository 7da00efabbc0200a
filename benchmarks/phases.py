"""Where a checkout's time goes inside the app: wall and CPU time of each phase.

Scenario 3 says how much the app adds to Lengo's latency; this says where,
and whether the app waits or computes there. As a launcher (it stands in for
`-m saleor_lengo.cli`, see `BENCH_APP_LAUNCHER` in benchmarks/README.md):

    PHASES_OUT=/tmp/phases.jsonl BENCH_APP_LAUNCHER=benchmarks/phases.py \
        python -m benchmarks.run --only initialize
    python -m benchmarks.phases /tmp/phases.jsonl

Each TRANSACTION_INITIALIZE_SESSION gets stamps of `time.perf_counter()`
(wall) and `time.thread_time()` (the loop thread's CPU) when it enters the
app's middleware, when the Lengo create starts and ends, when httpx itself
starts and ends the exchange, and when the answer's last byte is handed to
uvicorn. The report keeps the requests that ran alone (one at a time) and
prints, per app process (scenario 3 starts one per Lengo latency), the median
of each phase. A phase whose CPU time equals its wall time did not wait.
"""

from __future__ import annotations

import contextvars
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

from saleor_lengo.saleor.events import TRANSACTION_INITIALIZE_SESSION

FLUSH_EVERY = 50  # rows per appended line: the harness stops the app without an orderly exit
# (name, from stamp, to stamp), in the order they happen.
PHASES = [
    ("before the create: checks, payment stored as creating", "in", "c0"),
    ("create call until httpx starts (task, bounds)", "c0", "h0"),
    ("httpx exchange, Lengo's own time included", "h0", "h1"),
    ("after httpx: answer parsed, lengo_call line, audit row", "h1", "c1"),
    ("after the create: pay_id with the transition, the answer", "c1", "out"),
    ("whole request inside the app", "in", "out"),
]

Row = dict[str, float]
_row: contextvars.ContextVar[Row] = contextvars.ContextVar("phases_row")


def _stamp(row: Row, name: str) -> None:
    row[name] = time.perf_counter()
    row[name + "_cpu"] = time.thread_time()


class Recorder:
    def __init__(self, out: Path | None) -> None:
        self.out = out
        self.rows: list[Row] = []
        self._inflight = 0

    def flush(self) -> None:
        if self.out is not None and self.rows:
            with self.out.open("a") as f:
                f.write(json.dumps({"pid": os.getpid(), "rows": self.rows}) + "\n")
            self.rows = []

    def install(self) -> Callable[[], None]:
        """Wraps the middleware, the Lengo create and `outbound.within`; returns what undoes it."""
        from saleor_lengo.lengo import client as lengo_client
        from saleor_lengo.web import app as web_app

        recorder = self
        # `within` is the name the Lengo client calls, bound in its module at import: patched there.
        call, create = web_app.RequestContext.__call__, lengo_client.LengoClient.create_payment
        within = getattr(lengo_client, "within")

        async def timed_call(self: Any, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or scope.get("path") != TRANSACTION_INITIALIZE_SESSION.path:
                return await call(self, scope, receive, send)
            row: Row = {}
            _stamp(row, "in")
            _row.set(row)
            recorder._inflight += 1
            row["alone"] = float(recorder._inflight == 1)

            async def timed_send(message: Any) -> None:
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    _stamp(row, "out")

            try:
                await call(self, scope, receive, timed_send)
            finally:
                recorder._inflight -= 1
                row["alone"] = float(row["alone"] and recorder._inflight == 0)
            recorder.rows.append(row)
            if len(recorder.rows) >= FLUSH_EVERY:
                recorder.flush()

        async def timed_create(self: Any, *args: Any, **kwargs: Any) -> Any:
            row = _row.get({})
            _stamp(row, "c0")
            try:
                return await create(self, *args, **kwargs)
            finally:
                _stamp(row, "c1")

        async def timed_within(request: Coroutine[Any, Any, Any], timeout: float) -> Any:
            row = _row.get({})

            async def exchange() -> Any:
                _stamp(row, "h0")
                try:
                    return await request
                finally:
                    _stamp(row, "h1")

            return await within(exchange(), timeout)

        web_app.RequestContext.__call__ = timed_call  # type: ignore[method-assign]
        lengo_client.LengoClient.create_payment = timed_create  # type: ignore[method-assign]
        setattr(lengo_client, "within", timed_within)

        def undo() -> None:
            web_app.RequestContext.__call__ = call  # type: ignore[method-assign]
            lengo_client.LengoClient.create_payment = create  # type: ignore[method-assign]
            setattr(lengo_client, "within", within)

        return undo


def report(rows_by_process: dict[int, list[Row]], skip: float = 0.2) -> list[str]:
    """Median wall and CPU ms of each phase, per process, over the requests that ran alone (after `skip` of them)."""
    lines = []
    for pid, rows in rows_by_process.items():
        alone = [r for r in rows if r.get("alone") and all(k in r for _, a, b in PHASES for k in (a, b))]
        alone = alone[int(len(alone) * skip):]
        if not alone:
            continue
        lines.append(f"app process {pid}: {len(alone)} requests alone")
        for name, a, b in PHASES:
            wall = statistics.median(r[b] - r[a] for r in alone) * 1000
            cpu = statistics.median(r[b + "_cpu"] - r[a + "_cpu"] for r in alone) * 1000
            lines.append(f"  {name:<58} wall {wall:8.3f} ms   CPU {cpu:7.3f} ms")
    return lines


def read(lines: Iterable[str]) -> dict[int, list[Row]]:
    by_process: dict[int, list[Row]] = {}
    for line in lines:
        entry = json.loads(line)
        by_process.setdefault(entry["pid"], []).extend(entry["rows"])
    return by_process


def main() -> int:
    if sys.argv[1:2] == ["serve"]:  # started by the harness as BENCH_APP_LAUNCHER
        out = os.environ.get("PHASES_OUT")
        Recorder(Path(out) if out else None).install()
        from saleor_lengo.cli import main as cli

        return cli(sys.argv[1:])
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    print("\n".join(report(read(Path(sys.argv[1]).read_text().splitlines()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
