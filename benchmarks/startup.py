"""5. Cold start to the first `/api/manifest` answer, and resident memory.

`saleor-lengo serve` on an installed, migrated database, started RUNS times:
the time from spawning the process to the first 200 on `/api/manifest`
(polled every 10 ms), median of the runs. Then, with the last one running,
its RSS (VmRSS) once idle. The RSS under load is the peak sampled while the
app was measured in the other scenarios of the same run.
"""

from __future__ import annotations

import time

from benchmarks import procs
from benchmarks.context import Bench, Row, median, sqlite_url
from benchmarks.seed import seed

RUNS = 7
TARGET_SECONDS = 1.5


def run(bench: Bench, runs: int = RUNS) -> None:
    d = bench.directory
    db = d / "startup-app.sqlite3"
    seed(sqlite_url(db), bench.saleor, "http://127.0.0.1:9")
    times: list[float] = []
    idle_rss = 0.0
    for i in range(runs):
        app = procs.app_server("startup-app", sqlite_url(db), d)
        with app:
            app.start(wait=False)
            times.append(app.wait_ready("/api/manifest", interval=0.01))
            if i == runs - 1:
                time.sleep(2.0)  # background loops started, first polls done
                idle_rss = app.rss_mb()
    cold = median(times)
    bench.add(Row("5 cold start", f"spawn → first /api/manifest, median of {runs} (min–max)",
                  f"{cold:.2f} s ({min(times):.2f}–{max(times):.2f})", "", "", f"≤ {TARGET_SECONDS} s", cold <= TARGET_SECONDS))
    bench.add(Row("5 memory", "app RSS, idle after start", f"{idle_rss:.0f} MB", "", "", "≤ 120 MB", idle_rss <= 120))
    if bench.app_rss_peak_mb:
        bench.add(Row("5 memory", "app RSS, peak under load (scenarios 1–3)", f"{bench.app_rss_peak_mb:.0f} MB", "", "",
                      "≤ 120 MB", bench.app_rss_peak_mb <= 120))
