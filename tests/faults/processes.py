"""Fault-test stacks built on the end-to-end harness (`tests.e2e`): real processes, real sockets.

`fault_stack` starts a `tests.e2e.stack.Stack` whose app runs
`tests.faults.quick_serve` (the real `serve`, with the waits a crash leaves
behind cut to seconds), and stops everything when the test ends, whatever
happens. A test module imports it with `e2e_database_url`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from tests.e2e.harness import wait_until
from tests.e2e.stack import Payment, Stack

REPO = Path(__file__).resolve().parents[2]
QUICK_SERVE = "tests.faults.quick_serve"

FaultStackFactory = Callable[..., Stack]


def prepare(stack: Stack, *, quick: bool = True, app_url: str | None = None) -> None:
    """Before `start()`: run the app as `quick_serve`, and/or behind another public URL (a balancer)."""
    if quick:
        assert stack.app.args[1:3] == ["-m", "saleor_lengo.cli"], stack.app.args
        stack.app.args[2] = QUICK_SERVE
        # The processes run in the test's tmp directory: the repository must be importable.
        stack.app.env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), stack.app.env.get("PYTHONPATH")) if p)
    if app_url is not None:
        stack.app.env["APP_URL"] = app_url


@pytest.fixture
def fault_stack(e2e_database_url: str, tmp_path: Path) -> Iterator[FaultStackFactory]:
    stacks: list[Stack] = []

    def make(
        *,
        app_env: Mapping[str, str] | None = None,
        simulator_args: Sequence[str] = (),
        quick: bool = True,
        app_url: str | None = None,
    ) -> Stack:
        stack = Stack(tmp_path, e2e_database_url, dict(app_env or {}), tuple(simulator_args))
        stacks.append(stack)
        prepare(stack, quick=quick, app_url=app_url)
        stack.start()
        response = stack.install()
        assert response.status_code == 200, f"registration: {response.status_code} {response.text}\n{stack.logs()}"
        stack.configure()
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            print(stack.logs())  # shown by pytest only when the test failed
            stack.close()


def log_count(stack: Stack, event: str) -> int:
    """How many times the app (all its runs) logged `event` so far."""
    try:
        return stack.app.log_path.read_text(errors="replace").count(event)
    except OSError:
        return 0


def acknowledged(stack: Stack, payments: Sequence[Payment]) -> list[Payment]:
    """The payments whose callback got a 2xx from the app at least once (what the sender was told)."""
    return [p for p in payments if stack.acknowledged_callbacks(p)]


def deliveries_done(stack: Stack, payments: Sequence[Payment]) -> bool:
    return not any(stack.simulated(p)["callbacks_in_flight"] for p in payments)


def settle(stack: Stack, *, quiet_for: float = 1.5, timeout: float = 20.0) -> None:
    """Wait until the app has sent no report for `quiet_for` seconds."""
    last = [len(stack.fake.reports()), time.monotonic()]

    def quiet() -> bool:
        count = len(stack.fake.reports())
        if count != last[0]:
            last[:] = [count, time.monotonic()]
        return time.monotonic() - last[1] >= quiet_for

    wait_until(quiet, timeout=timeout, what="the relay to settle", interval=0.1)

