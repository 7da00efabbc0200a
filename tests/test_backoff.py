from __future__ import annotations

import random

from saleor_lengo.backoff import doubling, jittered
from saleor_lengo.callbacks.confirmation import retry_delay as callback_retry_delay
from saleor_lengo.flows.reconcile import backoff_delay
from saleor_lengo.outbox.relay import retry_delay as outbox_retry_delay


class Fixed(random.Random):
    """Draws always the same number: the jitter at a known point."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_doubling_starts_at_the_first_wait_doubles_and_stops_at_the_cap() -> None:
    assert [doubling(0.2, 2.0, n) for n in range(1, 8)] == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]
    assert doubling(5.0, 900.0, 0) == 5.0  # no attempt counted yet: the first wait
    assert doubling(5.0, 900.0, 10_000) == 900.0  # a count grown without limit does not overflow


def test_jitter_keeps_between_half_and_all_of_the_wait() -> None:
    assert jittered(10.0, Fixed(0.0)) == 5.0
    assert jittered(10.0, Fixed(0.5)) == 7.5
    assert 5.0 <= jittered(10.0) <= 10.0


def test_each_schedule_keeps_its_numbers() -> None:
    top = Fixed(1.0)  # no jitter off: the schedule itself
    # Outbox rows: 5 s, 10 s, 20 s … capped at 15 minutes.
    assert [outbox_retry_delay(n, top) for n in (1, 2, 3, 8, 9, 50)] == [5.0, 10.0, 20.0, 640.0, 900.0, 900.0]
    # Callbacks: 15 s, 30 s, 1 min … capped at an hour.
    assert [callback_retry_delay(n, top) for n in (1, 2, 3, 8, 9, 50)] == [15.0, 30.0, 60.0, 1920.0, 3600.0, 3600.0]
    # Open payments: the interval, doubled per check, capped (never below the interval itself).
    assert [backoff_delay(60.0, n) for n in (0, 1, 2, 3)] == [60.0, 60.0, 120.0, 240.0]
