"""Processes that die or run twice: real `serve` processes, the fake Saleor over HTTP, the simulator.

- `serve` is SIGKILLed while a burst of Lengo callbacks is being posted to
  it, then started again: every callback it acknowledged (a 2xx reached the
  sender) is reported to Saleor, and nothing twice. The reconciler is kept
  out of it (first check after an hour): only the callbacks themselves can
  bring these payments in.
- Two `serve` processes on one PostgreSQL database behind a round-robin
  balancer, callbacks (each sent twice) and webhooks spread over both, both
  reconcilers and relays racing: each payment's event is reported once.

The simulator is the sender: it posts each callback when the shopper pays
and retries (1, 2, 4 … s) until it gets a 2xx, and records every delivery
(`Stack.acknowledged_callbacks`). What counts is what the fake Saleor keeps.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from tests.e2e.fixtures import e2e_database_url  # noqa: F401 - fixture
from tests.e2e.harness import Process, free_port, wait_until
from tests.e2e.stack import Payment, Stack
from tests.faults.balancer import Balancer
from tests.faults.processes import FaultStackFactory, acknowledged, deliveries_done, fault_stack, log_count, settle  # noqa: F401

# Fault injection on real processes.
pytestmark = pytest.mark.slow

BURST = 24


def amounts(n: int) -> list[Decimal]:
    # Each payment its own amount: an event reported for the wrong payment shows.
    return [Decimal(f"{20_000 + 1_000 * i}.0") for i in range(n)]


def pay_all(payments: list[Payment]) -> None:
    """The shoppers all press "Pay" at once; the simulator posts each callback in the background."""

    def pay(payment: Payment) -> int:
        response = httpx.post(
            payment.payment_url,
            content="choice=orange-money",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=20.0,
        )
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(pay, payments)) == {303}


def charges(stack: Stack, payment: Payment) -> list[Decimal]:
    return [e.amount for e in stack.fake.events(payment.transaction_id, "CHARGE_SUCCESS")]


def wait_acknowledged_reported(stack: Stack, payments: list[Payment], *, timeout: float) -> None:
    """Until the sender is done (acknowledged, or given up) and each acknowledged payment is in Saleor."""
    wait_until(
        lambda: deliveries_done(stack, payments) and all(charges(stack, p) for p in acknowledged(stack, payments)),
        timeout=timeout,
        interval=0.25,
        what="every callback delivered and every acknowledged one reported",
        details=lambda: f"not reported: {[p.transaction_id for p in payments if not charges(stack, p)]}\n{stack.logs()}",
    )


def test_serve_killed_during_a_burst_of_callbacks_reports_every_acknowledged_one_once_after_restart(
    fault_stack: FaultStackFactory,  # noqa: F811 - fixture
) -> None:
    stack = fault_stack(app_env={"RECONCILE_INTERVAL_SECONDS": "3600"})
    payments = [stack.initialize(amount) for amount in amounts(BURST)]
    recorded_before = log_count(stack, "callback_recorded")

    pay_all(payments)
    # Mid-burst: a third of the callbacks recorded, the others in flight or not sent yet.
    wait_until(
        lambda: log_count(stack, "callback_recorded") - recorded_before >= BURST // 3,
        timeout=20.0,
        interval=0.005,
        what="a third of the callbacks to be recorded",
        details=stack.logs,
    )
    stack.app.kill()
    acked_at_kill = acknowledged(stack, payments)
    reported_at_kill = [p for p in payments if charges(stack, p)]
    stack.restart_app()
    wait_acknowledged_reported(stack, payments, timeout=60.0)
    settle(stack)

    assert acked_at_kill, "the kill came before any callback was acknowledged"
    assert len(acked_at_kill) < BURST or len(reported_at_kill) < BURST, "the kill interrupted nothing"
    # The sender retried what it got no 2xx for; a callback it gave up on
    # (a very slow restart) is the reconciler's, later, and is not counted here.
    acked = acknowledged(stack, payments)
    assert all(p in acked for p in acked_at_kill)
    for payment in payments:
        expected = [payment.amount] if payment in acked else []
        assert charges(stack, payment) == expected, (payment, stack.fake.events(payment.transaction_id))
        assert not stack.fake.events(payment.transaction_id, "CHARGE_FAILURE")


@pytest.mark.parametrize("e2e_database_url", ["postgresql"], indirect=True)
def test_two_serves_on_one_postgresql_database_report_each_payment_once(
    fault_stack: FaultStackFactory,  # noqa: F811 - fixture
) -> None:
    balancer_port, second_port = free_port(), free_port()
    balancer_url = f"http://127.0.0.1:{balancer_port}"
    # Both processes serve one public URL (the balancer's): Lengo's callbacks land on either.
    stack = fault_stack(
        app_env={"RECONCILE_INTERVAL_SECONDS": "1"},
        simulator_args=["--duplicate-callbacks", "2"],
        quick=False,
        app_url=balancer_url,
    )
    second = Process(
        "app2", ["serve", "--port", str(second_port)], stack.app.env, second_port, stack.tmp / "app2.log", cwd=stack.tmp
    )
    balancer = Balancer(balancer_port, [stack.app.url, second.url])
    try:
        second.start("/health")
        balancer.start()
        stack.app.url = balancer.url  # Saleor's webhooks go through the balancer too
        payments = [stack.initialize(amount) for amount in amounts(20)]

        pay_all(payments)
        wait_acknowledged_reported(stack, payments, timeout=45.0)
        settle(stack)
        for payment in payments[:4]:
            assert stack.process(payment)["result"] == "CHARGE_SUCCESS"
    finally:
        print(second.log_tail())  # shown by pytest only when the test failed
        balancer.stop()
        second.stop()

    assert balancer.backends_hit("callback") == {0, 1}, balancer.hits
    assert balancer.backends_hit("webhook") == {0, 1}, balancer.hits
    assert acknowledged(stack, payments) == payments
    for payment in payments:
        assert charges(stack, payment) == [payment.amount], (payment, stack.fake.events(payment.transaction_id))
        assert not stack.fake.events(payment.transaction_id, "CHARGE_FAILURE")
        # One outbox row, sent by one relay, once.
        sent = [c for c in stack.fake.reports() if (c.get("variables") or {}).get("id") == payment.transaction_id]
        assert len(sent) == 1, [c["variables"] for c in sent]
