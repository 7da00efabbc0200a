"""The benchmark harness still runs: the smallest webhook scenario, one second per side.

Benchmarks are not run by the suite (`python -m benchmarks.run`, see
benchmarks/README.md); this only keeps their code from rotting. No figure is
judged here: the test asserts that the scenario produced figures.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from benchmarks import context, load, webhook

# Benchmark smoke test (wrk, real processes).
pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (Debian: apt-get install -y wrk); .ci/run installs it")
def test_the_webhook_benchmark_produces_figures_for_the_app_and_its_baseline(tmp_path: Path) -> None:
    bench = context.Bench(tmp_path, seconds=1, warmup=0)
    try:
        webhook.run(bench)
    finally:
        bench.close()
    throughput = next(r for r in bench.rows if r.measure.startswith("throughput"))
    for figure in (throughput.app, throughput.baseline):
        assert re.fullmatch(r"[\d,]+ req/s", figure), figure
        assert int(figure.split()[0].replace(",", "")) > 0, figure
    assert re.fullmatch(r"\d+\.\d+×", throughput.ratio), throughput.ratio
    assert bench.app_rss_peak_mb > 0
    # App and baseline in alternating slices (Bench.paired): one wrk run per slice and side.
    assert (tmp_path / "wrk.log").read_text().count("BENCH requests=") == 2 * webhook.SLICES


def test_requests_with_a_tab_or_newline_cannot_go_into_a_request_file() -> None:
    with pytest.raises(ValueError, match="tab or newline"):
        load.Request("POST", "/x", {}, b'{"a":\n1}').line()
