"""Exponential backoff: the one way retries here space themselves out.

Each caller keeps its own numbers (a Lengo status call retries within
seconds, an outbox row within minutes, a callback within an hour); the shape
is the same for all.
"""

from __future__ import annotations

import random

# 2**32 times any first wait is past every cap; bounding the exponent keeps a
# retry count that grew without limit from overflowing a float.
_MAX_DOUBLINGS = 32


def doubling(first: float, cap: float, attempt: int) -> float:
    """The wait after failed attempt number `attempt` (from 1): first, 2×, 4×, … never more than `cap`."""
    return min(cap, first * 2.0 ** min(max(attempt - 1, 0), _MAX_DOUBLINGS))


def jittered(delay: float, rng: random.Random | None = None) -> float:
    """Between half of `delay` and all of it: retries that failed together do not come back together."""
    draw = rng.random() if rng is not None else random.random()
    return delay * (0.5 + draw / 2)
