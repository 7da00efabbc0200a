"""Load from `wrk`: a file of prepared requests, sent in turn by a Lua script; figures parsed from its summary."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).with_name("lua") / "requests.lua"
THREADS = 1  # one wrk thread drives every scenario: on 2 cores the servers need the other CPU time


class WrkMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""

    def line(self) -> str:
        body = self.body.decode()
        for name, value in self.headers.items():
            if any(c in name + value for c in "\t\n\x1f"):
                raise ValueError(f"header {name} cannot go into a request file")
        if "\t" in body or "\n" in body:
            raise ValueError("a body with a tab or newline cannot go into a request file")
        head = "\x1f".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"{self.method}\t{self.path}\t{head}\t{body}\n"


def write_requests(path: Path, requests: Iterable[Request]) -> int:
    n = 0
    with path.open("w") as f:
        for request in requests:
            f.write(request.line())
            n += 1
    return n


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int
    timeouts: int
    wraps: int  # times a wrk thread started its request list over
    sent: int
    cpu_seconds: float = 0.0  # CPU time the server used meanwhile (set by the caller)

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / self.requests if self.requests else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def clean(self) -> bool:
        return self.non2xx == 0 and self.socket_errors == 0 and self.timeouts == 0


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk is not installed (Debian: apt-get install -y wrk)")
    return path


def run_wrk(url: str, request_file: Path, *, connections: int, seconds: float, log: Path | None = None) -> Result:
    """`wrk` against `url` (its host only: paths come from the file) for `seconds`."""
    args = [
        wrk_path(), "-t", str(min(THREADS, connections)), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
        "--timeout", "10s", "--latency", "-s", str(LUA), url, "--", str(request_file), str(min(THREADS, connections)),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if log is not None:
        with log.open("a") as out:
            out.write(f"$ {' '.join(args)}\n{done.stdout}{done.stderr}\n")
    match = re.search(r"^BENCH (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    f = {k: int(v) for k, v in (item.split("=") for item in match.group(1).split())}
    return Result(
        requests=f["requests"],
        seconds=f["duration_us"] / 1e6,
        p50_ms=f["p50_us"] / 1000,
        p90_ms=f["p90_us"] / 1000,
        p99_ms=f["p99_us"] / 1000,
        max_ms=f["max_us"] / 1000,
        non2xx=f["non2xx"],
        socket_errors=f["socket_errors"],
        timeouts=f["timeouts"],
        wraps=f["wraps"],
        sent=f["sent"],
    )


def merge(results: list[Result]) -> Result:
    """Slices of one measurement as one: counts and times added; p50/p90/p99 the median of the slices', max the max."""
    median = statistics.median
    return Result(
        requests=sum(r.requests for r in results),
        seconds=sum(r.seconds for r in results),
        p50_ms=median([r.p50_ms for r in results]),
        p90_ms=median([r.p90_ms for r in results]),
        p99_ms=median([r.p99_ms for r in results]),
        max_ms=max(r.max_ms for r in results),
        non2xx=sum(r.non2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
        timeouts=sum(r.timeouts for r in results),
        wraps=sum(r.wraps for r in results),
        sent=sum(r.sent for r in results),
        cpu_seconds=sum(r.cpu_seconds for r in results),
    )

