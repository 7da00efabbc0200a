"""The recovery benchmark at a reduced size, on every change: everything delivered, nothing twice.

`python -m benchmarks.recovery` (benchmarks/README.md) runs the full size and
prints the delays; here each scenario runs with 60 payments and only what
does not depend on the machine's speed is asserted: every payment reached
Saleor and none twice. The delays are printed (shown with `-s`), not judged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import recovery
from tests.e2e.fixtures import e2e_database_url  # noqa: F401 - fixture

pytestmark = pytest.mark.slow


def check(result: recovery.Result) -> None:
    print("\n".join(result.lines()))
    assert result.expected == recovery.CI.payments
    assert (result.delivered, result.duplicates) == (result.expected, 0), result.lines()
    assert len(result.delays) == result.expected


def test_payments_paid_during_a_saleor_outage_all_reach_saleor_once(tmp_path: Path) -> None:
    check(recovery.outage(tmp_path, recovery.CI))


def test_callbacks_through_repeated_kill_9_and_restart_all_reach_saleor_once(tmp_path: Path) -> None:
    result = recovery.restart(tmp_path, recovery.CI)
    assert result.kills >= recovery.CI.min_kills
    check(result)


@pytest.mark.parametrize("e2e_database_url", ["postgresql"], indirect=True)
def test_two_replicas_one_killed_mid_burst_all_payments_reach_saleor_once(
    tmp_path: Path, e2e_database_url: str  # noqa: F811 - fixture
) -> None:
    check(recovery.replicas(tmp_path, recovery.CI, e2e_database_url))
