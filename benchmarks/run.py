"""`python -m benchmarks.run`: every scenario, the app beside its minimal handler, as one table.

Options: `--seconds` per measurement (default 10), `--warmup` (default 2),
`--only webhook,callbacks,initialize,relay,startup`, `--keep` (keep the
run's directory: databases, server logs, wrk output), `--app-env NAME=VALUE`
(a setting for the app, e.g. LOG_FORMAT=console).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import load, seed
from benchmarks.context import Bench, Row

SCENARIOS = ("webhook", "callbacks", "initialize", "relay", "startup")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    others = subprocess.run(["pgrep", "-af", "pytest"], capture_output=True, text=True, check=False).stdout
    busy = [line for line in others.splitlines() if str(os.getpid()) not in line.split()[0:1]]
    load1 = os.getloadavg()[0]
    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, load average {load1:.2f} at start, "
            f"{'other pytest processes running: ' + str(len(busy)) if busy else 'no other pytest running'}")


def cpu_times() -> list[int]:
    """The `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal …"""
    return [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]


def busy_share(before: list[int], after: list[int]) -> str:
    """How the machine's CPU time was spent meanwhile: busy (everything, the benchmark included) and stolen."""
    delta = [b - a for a, b in zip(before, after)]
    total = sum(delta) or 1
    idle = delta[3] + delta[4]
    return f"CPUs busy {100 * (total - idle) / total:.0f}% of the run, steal {100 * delta[7] / total:.1f}%"


def table(rows: list[Row]) -> str:
    head = ("scenario", "measure", "app", "minimal baseline", "ratio", "target", "met")
    body = [(r.scenario, r.measure, r.app, r.baseline, r.ratio, r.target,
             "" if r.met is None else ("yes" if r.met else "NO")) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])


def run(only: tuple[str, ...], *, seconds: float, warmup: float, directory: Path) -> list[Row]:
    load.wrk_path()  # fail early, with the install hint
    from benchmarks import callbacks, initialize, relay, startup, webhook

    modules = {"webhook": webhook, "callbacks": callbacks, "initialize": initialize, "relay": relay, "startup": startup}
    bench = Bench(directory, seconds=seconds, warmup=warmup)
    try:
        for name in only:
            started = time.perf_counter()
            print(f"-- {name} …", file=sys.stderr, flush=True)
            modules[name].run(bench)
            print(f"-- {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    finally:
        bench.close()
    if bench.app_rss_peak_mb and "startup" not in only:  # startup reports it otherwise
        bench.add(Row("5 memory", "app RSS, peak under load", f"{bench.app_rss_peak_mb:.0f} MB", "", "", "≤ 120 MB",
                      bench.app_rss_peak_mb <= 120))
    return bench.rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measurement (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up before each measurement (default 2)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs, databases)")
    parser.add_argument("--app-env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the app's processes, e.g. LOG_FORMAT=console (repeatable)")
    args = parser.parse_args(argv)
    for item in args.app_env:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--app-env wants NAME=VALUE, not {item!r}")
        seed.EXTRA_APP_ENV[name] = value
    only = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    directory = Path(tempfile.mkdtemp(prefix="saleor-lengo-bench-"))
    print(f"machine: {machine()}", flush=True)
    started, cpu = time.perf_counter(), cpu_times()
    try:
        rows = run(only, seconds=args.seconds, warmup=args.warmup, directory=directory)
    finally:
        if args.keep:
            print(f"run directory kept: {directory}", file=sys.stderr)
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"run: {time.perf_counter() - started:.0f} s, {busy_share(cpu, cpu_times())}; "
          f"at the end: {machine().split(', ')[-1]}")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
