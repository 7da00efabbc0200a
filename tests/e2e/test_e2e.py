"""A payment across real processes and sockets: fake Saleor ⇄ `saleor-lengo serve` ⇄ `saleor-lengo simulator`.

Each test installs the app as Saleor does, maps the GNF channel to the
simulator with `saleor-lengo configure`, initializes a payment with a
signed webhook, and plays the shopper on the simulator's page. What counts
is what the fake Saleor keeps: exactly one event of the outcome, with the
exact amount, whatever the callbacks and the processes do.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.e2e.fixtures import StackFactory, e2e_database_url, make_stack  # noqa: F401 - fixtures
from tests.e2e.harness import wait_until
from tests.e2e.stack import AMOUNT, CHANNEL, RETURN_URL, Payment, Stack, return_query
from tests.fakes import payloads
from tests.faults.processes import FaultStackFactory, fault_stack  # noqa: F401 - fixture

# End-to-end: real processes and sockets.
pytestmark = pytest.mark.slow


def ready_stack(make_stack: StackFactory, **options: object) -> Stack:
    stack = make_stack(**options)
    response = stack.install()
    assert response.status_code == 200, f"registration: {response.status_code} {response.text}\n{stack.logs()}"
    stack.configure()
    return stack


def assert_back_at_the_shop(stack: Stack, payment: Payment, response_status: int, location: str | None) -> None:
    assert response_status == 303, stack.logs()
    assert location is not None and location.startswith(RETURN_URL), location
    assert return_query(location).get("transactionId") == [payment.transaction_id], location


def assert_exactly_one(stack: Stack, payment: Payment, type_: str) -> None:
    events = stack.fake.events(payment.transaction_id, type_)
    assert len(events) == 1, events
    assert events[0].amount == payment.amount, events


# --- Registration and initialize (need only the app and the simulator) -------------


def test_the_app_installs_over_http_and_initialize_sends_the_shopper_to_the_simulator(make_stack: StackFactory) -> None:
    stack = ready_stack(make_stack)

    payment = stack.initialize()

    assert payment.payment_url.startswith(stack.simulator.url + "/pay/")
    page = stack.open_page(payment)
    assert page.status_code == 200
    assert "SIMULATOR" in page.text
    for button in ("Pay with Orange Money", "Pay with MTN MoMo", "Decline", "Abandon"):
        assert button in page.text
    assert stack.simulated(payment)["status"] == "INITIATED"
    assert stack.simulated(payment)["amount"] == int(AMOUNT)


# --- The whole payment ---------------------------------------------------------------


def test_a_paid_payment_reaches_saleor_once_with_its_exact_amount(make_stack: StackFactory) -> None:
    stack = ready_stack(make_stack)
    payment = stack.initialize()

    back = stack.choose(payment, "orange-money")

    assert_back_at_the_shop(stack, payment, back.status_code, back.headers.get("location"))
    stack.wait_for_event(payment, "CHARGE_SUCCESS")
    assert_exactly_one(stack, payment, "CHARGE_SUCCESS")
    answer = stack.process(payment)
    assert answer["result"] == "CHARGE_SUCCESS", answer
    assert_exactly_one(stack, payment, "CHARGE_SUCCESS")
    assert not stack.fake.events(payment.transaction_id, "CHARGE_FAILURE")


def test_a_declined_payment_reaches_saleor_as_a_charge_failure(make_stack: StackFactory) -> None:
    stack = ready_stack(make_stack)
    payment = stack.initialize()

    back = stack.choose(payment, "decline")

    assert_back_at_the_shop(stack, payment, back.status_code, back.headers.get("location"))
    stack.wait_for_event(payment, "CHARGE_FAILURE")
    assert_exactly_one(stack, payment, "CHARGE_FAILURE")
    answer = stack.process(payment)
    assert answer["result"] == "CHARGE_FAILURE", answer
    assert_exactly_one(stack, payment, "CHARGE_FAILURE")
    assert not stack.fake.events(payment.transaction_id, "CHARGE_SUCCESS")


def test_an_abandoned_payment_expires_as_a_charge_failure(make_stack: StackFactory) -> None:
    stack = ready_stack(
        make_stack, app_env={"PAYMENT_TTL_SECONDS": "3", "RECONCILE_INTERVAL_SECONDS": "1"}
    )
    payment = stack.initialize()

    back = stack.choose(payment, "abandon")

    assert_back_at_the_shop(stack, payment, back.status_code, back.headers.get("location"))
    assert stack.simulated(payment)["status"] == "INITIATED"
    [failure] = stack.wait_for_event(payment, "CHARGE_FAILURE", timeout=30.0)
    assert "expired" in failure.message.lower(), failure
    assert failure.amount == payment.amount
    answer = stack.process(payment)
    assert answer["result"] == "CHARGE_FAILURE", answer
    assert not stack.fake.events(payment.transaction_id, "CHARGE_SUCCESS")
    assert not stack.simulated(payment)["callbacks"]


def test_late_and_repeated_callbacks_still_make_one_event(make_stack: StackFactory) -> None:
    stack = ready_stack(make_stack, simulator_args=["--callback-delay", "1", "--duplicate-callbacks", "3"])
    payment = stack.initialize()

    back = stack.choose(payment, "mtn-momo")
    # The shopper is back before any callback: the app asks Lengo itself.
    answer = stack.process(payment)

    assert_back_at_the_shop(stack, payment, back.status_code, back.headers.get("location"))
    assert answer["result"] == "CHARGE_SUCCESS", answer
    wait_until(
        lambda: len(stack.acknowledged_callbacks(payment)) == 3,
        timeout=20.0,
        what="three acknowledged callbacks",
        details=lambda: f"{stack.simulated(payment)}\n{stack.logs()}",
    )
    # Whatever the callbacks made the app report has been reported by now or soon:
    # give the relay a moment, then there is still exactly one event.
    wait_until(lambda: not _reports_in_flight(stack), timeout=10.0, what="the relay to settle")
    assert_exactly_one(stack, payment, "CHARGE_SUCCESS")
    assert not stack.fake.events(payment.transaction_id, "CHARGE_FAILURE")


def test_an_app_killed_after_acknowledging_a_callback_reports_it_once_after_restart(
    fault_stack: FaultStackFactory,
) -> None:
    # The killed process may hold a relay lease (5 min) or a callback claim
    # (2 min), written when it took the row, that the next process rightly
    # honours: both processes run `serve` with those waits cut to seconds
    # (tests/faults/quick_serve.py), so the test need not wait them out.
    stack = fault_stack(app_env={"RECONCILE_INTERVAL_SECONDS": "1"})
    payment = stack.initialize()
    stack.fake.down = -1  # Saleor unreachable: nothing can be delivered before the kill

    stack.choose(payment, "orange-money")
    wait_until(
        lambda: stack.acknowledged_callbacks(payment),
        timeout=20.0,
        what="the app to acknowledge the callback",
        interval=0.05,
        details=stack.logs,
    )
    stack.app.kill()
    assert not stack.fake.events(payment.transaction_id, "CHARGE_SUCCESS")
    stack.fake.down = 0
    stack.restart_app()

    stack.wait_for_event(payment, "CHARGE_SUCCESS", timeout=30.0)
    assert_exactly_one(stack, payment, "CHARGE_SUCCESS")
    answer = stack.process(payment)
    assert answer["result"] == "CHARGE_SUCCESS", answer
    assert_exactly_one(stack, payment, "CHARGE_SUCCESS")


def _reports_in_flight(stack: Stack) -> bool:
    """True while the app's report count still changes (sampled over half a second)."""
    before = len(stack.fake.reports())
    time.sleep(0.5)
    return len(stack.fake.reports()) != before


# --- Refunds paid out ------------------------------------------------------------------


def test_an_automatic_refund_of_a_paid_orange_money_payment_reaches_the_payers_wallet_once(
    make_stack: StackFactory,
) -> None:
    stack = ready_stack(make_stack)
    stack.configure("--payouts", "automatic", "--payout-daily-limit", "1000000", "--no-check")
    payment = stack.initialize()
    stack.choose(payment, "orange-money")
    stack.wait_for_event(payment, "CHARGE_SUCCESS")
    refund_amount = Decimal(50000)

    body = payloads.action_request(
        "TRANSACTION_REFUND_REQUESTED", stack.fake.app_id, payment.transaction_id, psp=payment.psp_reference,
        amount=refund_amount, channel=CHANNEL, charged=payment.amount,
    )
    answer = stack.webhook("TRANSACTION_REFUND_REQUESTED", body)
    assert set(answer) == {"pspReference", "actions"}, answer
    stack.fake.record_sync_answer(payment.transaction_id, answer, requested=refund_amount)

    [success] = stack.wait_for_event(payment, "REFUND_SUCCESS", timeout=30)
    assert (success.psp_reference, success.amount) == (answer["pspReference"], refund_amount)
    seen = stack.http.get(stack.simulator.url + "/_simulator/cashins").json()
    assert seen["wallets"] == {"624897845": 50000}
    assert len(seen["cashins"]) == 1
    time.sleep(1)  # nothing more comes
    assert len(stack.fake.events(payment.transaction_id, "REFUND_SUCCESS")) == 1
