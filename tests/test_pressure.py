"""How busy the process is with requests (`saleor_lengo/pressure.py`), on a clock the test moves."""

from __future__ import annotations

import asyncio

from saleor_lengo.pressure import BUSY_PER_SECOND, WINDOW_SECONDS, RequestPressure

PER_WINDOW = int(BUSY_PER_SECOND * WINDOW_SECONDS)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_below_the_rate_are_not_a_burst_and_above_it_are() -> None:
    clock = Clock()
    p = RequestPressure(clock)
    for _ in range(PER_WINDOW - 1):
        p.started()
    assert not p.busy()
    p.started()
    assert p.busy()


def test_a_steady_rate_above_the_threshold_stays_busy_across_windows() -> None:
    clock = Clock()
    p = RequestPressure(clock)
    step = WINDOW_SECONDS / (PER_WINDOW * 1.2)  # 20% above the threshold, evenly spread
    for _ in range(PER_WINDOW * 5):
        clock.now += step
        p.started()
        if clock.now > 1000.0 + 2 * WINDOW_SECONDS:  # once a whole window is behind us
            assert p.busy()


def test_a_steady_rate_below_the_threshold_is_never_busy() -> None:
    clock = Clock()
    p = RequestPressure(clock)
    step = WINDOW_SECONDS / (PER_WINDOW * 0.8)
    for _ in range(PER_WINDOW * 5):
        clock.now += step
        p.started()
        assert not p.busy()


def test_a_burst_fades_once_requests_stop() -> None:
    clock = Clock()
    p = RequestPressure(clock)
    for _ in range(PER_WINDOW * 4):
        p.started()
    assert p.busy()
    clock.now += WINDOW_SECONDS * 1.5  # half of the burst's window still counts: twice the threshold
    assert p.busy()
    clock.now += WINDOW_SECONDS * 0.4  # a tenth of it: under the threshold
    assert not p.busy()
    clock.now += WINDOW_SECONDS
    assert not p.busy()


async def test_until_quiet_returns_when_the_burst_ends() -> None:
    clock = Clock()
    p = RequestPressure(clock)
    for _ in range(PER_WINDOW):
        p.started()
    waiter = asyncio.ensure_future(p.until_quiet(max_wait=3600))
    await asyncio.sleep(0.12)
    assert not waiter.done()  # held while busy
    clock.now += 2 * WINDOW_SECONDS
    await asyncio.wait_for(waiter, timeout=5)


async def test_until_quiet_gives_up_holding_after_max_wait_even_in_a_burst() -> None:
    clock = Clock()
    p = RequestPressure(clock)
    waiter = asyncio.ensure_future(p.until_quiet(max_wait=1.0))
    for _ in range(500):  # a burst that never ends: a full window of requests every step
        for _ in range(PER_WINDOW):
            p.started()
        await asyncio.sleep(0.01)
        if waiter.done():
            break
        clock.now += 0.02
    assert waiter.done() and 1.0 <= clock.now - 1000.0 <= 1.5
