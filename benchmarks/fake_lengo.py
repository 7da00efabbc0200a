"""The fake Lengo of the benchmarks: the simulator's own API (`saleor_lengo.simulator.api`) on loopback.

`python -m benchmarks.fake_lengo --port P [--slow SECONDS] [--seed FILE]`.
`--slow` delays every answer, as `saleor-lengo simulator --slow` does;
`--seed` preloads pay_ids (with a status) so the status endpoint knows the
payments seeded in the app's database. API only: no payment page, no callbacks.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import uvicorn

from saleor_lengo.simulator.api import LengoState, SimPayment, create_app


def build_state(slow: float, seed: Path | None) -> LengoState:
    state = LengoState(slow=slow)
    if seed is not None:
        data = json.loads(seed.read_text())
        now = datetime.now(UTC)
        for pay_id in data["pay_ids"]:
            state.payments[pay_id] = SimPayment(
                pay_id=pay_id, website_id=data["website_id"], amount=Decimal(data["amount"]), currency="GNF",
                return_url=None, callback_url=None, status=data["status"], gateway="Orange Money",
                account="624897845", created_at=now,
            )
    return state


class _Bounded(list):  # type: ignore[type-arg]
    """`LengoState.calls` grows by one entry per request: keep only a count in a long run."""

    def append(self, _item: object) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--seed", type=Path)
    args = parser.parse_args()
    state = build_state(args.slow, args.seed)
    state.calls = _Bounded()
    uvicorn.run(create_app(state), host="127.0.0.1", port=args.port, workers=1, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
