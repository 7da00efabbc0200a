"""What must hold after any fault, read from the app's own tables.

`assert_nothing_half_written`: every state change Saleor must learn has
its outbox row and every outbox row its state change (they are written in
one transaction, so a fault can only lose both or neither), and a payment's
state is the last transition it recorded.

`recover` plays the time a fault leaves behind — claims, leases and
backoffs running out — by moving the clock on and running each background
loop once; `assert_nothing_stuck` then checks that nothing is left that no
loop would ever pick up.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from saleor_lengo.callbacks import confirmation as callback_confirmation
from saleor_lengo.callbacks import receive
from saleor_lengo.db import leases
from saleor_lengo.db.schema import callbacks, outbox, payment_transitions, payments
from saleor_lengo.outbox import relay
from saleor_lengo.flows import reconcile
from saleor_lengo.payments.model import State
from saleor_lengo.services import Services

# Longer than every claim, lease and first backoff a fault can leave behind.
RECOVERY_SECONDS = max(leases.LEASE_SECONDS, leases.HOLDER_TTL_SECONDS, reconcile.CREATING_STALE_SECONDS) + 60.0


class Clock:
    """A clock the test moves: `services.clock = Clock(...)`."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def _rows(services: Services, table: Any) -> list[Any]:
    async with services.db.read() as conn:
        return list((await conn.execute(select(table).order_by(*table.primary_key.columns))).all())


async def assert_nothing_half_written(services: Services) -> None:
    pays = {p.id: p for p in await _rows(services, payments)}
    moves: dict[str, list[Any]] = defaultdict(list)
    for t in await _rows(services, payment_transitions):
        moves[t.payment_id].append(t)
    events: dict[str, Counter[str]] = defaultdict(Counter)
    for row in await _rows(services, outbox):
        events[row.payment_id][row.event_type] += 1
        assert row.state != relay.PENDING or row.next_attempt_at is not None, f"outbox row {row.id} is never due"

    for pid, p in pays.items():
        history = moves[pid]
        if history:
            assert history[-1].to_state == p.state, f"payment {pid} is {p.state}, its last transition says {history[-1]}"
        succeeded = sum(1 for t in history if t.to_state == State.SUCCEEDED.value)
        failed = sum(
            1
            for t in history
            if t.from_state == State.ACTION_REQUIRED.value and t.to_state in (State.FAILED.value, State.EXPIRED.value)
        )
        assert events[pid]["CHARGE_SUCCESS"] == succeeded, f"payment {pid}: {succeeded} successes, outbox {events[pid]}"
        assert events[pid]["CHARGE_FAILURE"] == failed, f"payment {pid}: {failed} failures, outbox {events[pid]}"
        assert succeeded <= 1, f"payment {pid} succeeded {succeeded} times"
        if p.state == State.SUCCEEDED.value:
            assert p.pay_id and p.confirmed_amount, f"succeeded payment {pid} without pay_id or amount"


async def recover(services: Services, clock: Clock, rounds: int = 2) -> None:
    """Let every claim, lease and backoff run out, then run each background loop once."""
    for _ in range(rounds):
        clock.advance(RECOVERY_SECONDS)
        await callback_confirmation.run_due_once(services)
        await services.background.drain()
        await reconcile.run_once(services)
        await services.background.drain()
        await relay.run_once(services)


async def assert_nothing_stuck(services: Services, *, paid: Callable[[str], bool] = lambda _pay_id: False) -> None:
    """After `recover`: no half-done create, no open callback of a paid payment, nothing left to send."""
    pays = {p.id: p for p in await _rows(services, payments)}
    for p in pays.values():
        assert p.state != State.CREATING.value, f"payment {p.id} still creating after recovery"
        if p.pay_id and paid(p.pay_id):
            assert p.state == State.SUCCEEDED.value, f"payment {p.id} is paid on Lengo but {p.state} here"
    for row in await _rows(services, callbacks):
        if row.outcome in (receive.RECORDED, receive.WAITING_PAY_ID):
            payment = pays[row.payment_id]
            assert payment.pay_id is None or not paid(payment.pay_id), f"callback {row.id} still {row.outcome}"
            assert row.next_attempt_at is not None, f"callback {row.id} is {row.outcome} and never due"
    pending = [r.id for r in await _rows(services, outbox) if r.state != relay.DELIVERED]
    assert not pending, f"outbox rows not delivered: {pending}"
