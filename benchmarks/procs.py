"""Server processes for the benchmarks: started on free loopback ports, stopped by the script.

Each server is a subprocess in its own session (so stopping it never
touches the benchmark runner), logging to a file in the run's directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(**values: str) -> dict[str, str]:
    """The runner's environment without any app setting it may hold, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LENGO_", "PROMETHEUS_"))}
    for name in ("APP_URL", "DATABASE_URL", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "ALLOWED_DOMAIN_PATTERN",
                 "MANIFEST_APP_ID", "LOG_LEVEL", "LOG_FORMAT", "METRICS_TOKEN", "RECONCILE_INTERVAL_SECONDS",
                 "PAYMENT_TTL_SECONDS", "PAYMENT_WATCH_SECONDS", "OUTBOUND_ALLOWED_NETWORKS", "UNINSTALL_GRACE_SECONDS"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(values)
    return env


def uvicorn_args(target: str, port: int, *, factory: bool = False) -> list[str]:
    """A baseline under the same uvicorn settings `saleor-lengo serve` uses (one worker, no access log)."""
    args = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--no-access-log", "--log-level", "warning"]
    return args + (["--factory"] if factory else [])


def app_server(name: str, database_url: str, log_dir: Path) -> Server:
    """`saleor-lengo serve` on a free port, with the benchmark settings (`seed.app_env`)."""
    from benchmarks.seed import app_env

    port = free_port()
    env = base_env(**app_env(database_url, f"http://127.0.0.1:{port}"))
    return Server(name, app_args(port), env, port, log_dir, cwd=app_root())


def app_args(port: int) -> list[str]:
    """The app exactly as deployed: `saleor-lengo serve`, one worker."""
    # BENCH_APP_LAUNCHER: a script standing in for `-m saleor_lengo.cli` (to try a change before making it).
    launcher = os.environ.get("BENCH_APP_LAUNCHER")
    return [sys.executable, *([launcher] if launcher else ["-m", "saleor_lengo.cli"]), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1"]


def app_root() -> Path:
    """Where the app's code is taken from: this checkout, or BENCH_APP_ROOT (see `seed.app_env`)."""
    return Path(os.environ.get("BENCH_APP_ROOT") or ROOT)


class Server:
    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], port: int, log_dir: Path,
                 *, cwd: Path = ROOT) -> None:
        self.name = name
        # `python -m` puts the working directory first on sys.path: it decides which code runs.
        self.cwd = cwd
        self.args = list(args)
        self.env = dict(env)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self, ready_path: str = "/", *, wait: bool = True) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child holds it; closed below
        try:
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(self.args, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        if wait:
            self.wait_ready(ready_path)

    def wait_ready(self, path: str, *, interval: float = 0.05, timeout: float = START_TIMEOUT) -> float:
        """Seconds from `start` to the first answer below 500 on `path`."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as http:
            while True:
                if self.proc is None or self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
                try:
                    if http.get(self.url + path).status_code < 500:
                        return time.perf_counter() - self.started_at
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not answer {path} within {timeout:g} s:\n{self.log_tail()}")
                time.sleep(interval)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_mb(self) -> float:
        """Resident memory of the server process (VmRSS), in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(STOP_TIMEOUT)
        self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"({self.name}: no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
