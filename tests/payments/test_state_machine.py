"""Every move between two payment states, allowed or forbidden, against the state machine's one table.

`state_machine.ALLOWED` is the table `transition()` consults. Two tests hold it:

- every ordered pair of `State` members (a new state is in the pairs the
  moment it is in the enum) goes through `transition()` on a stored payment:
  a move the table allows changes the row, records the transition and tells
  Saleor what it must hear; any other move — the same state again included —
  changes nothing and is logged as what it is;
- the table itself is the lifecycle the app promises (README "What Lengo can
  and cannot do"), written out below independently of the code: a move
  deleted from or added to the table, between the states listed here, fails.
  A new state must get its own row in the table; its moves are then checked
  by the first test.
"""

from __future__ import annotations

from itertools import product

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import outbox, payment_transitions
from saleor_lengo.payments import store
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payments.state_machine import ALLOWED, transition
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import configure_channel
from tests.fakes.factories import make_payment
from tests.fakes.saleor import FakeSaleor

C, A, S, F, X, E = (State.CREATING, State.ACTION_REQUIRED, State.SUCCEEDED, State.FAILED, State.CANCELED, State.EXPIRED)

# The lifecycle, from the product's rules rather than the code:
LIFECYCLE: dict[State, set[State]] = {
    C: {A, F},  # Lengo made the payment link, or refused it
    A: {S, F, X, E},  # the shopper paid, Lengo failed it, staff canceled it, time ran out
    # Lengo cannot close a link: a payment failed, canceled or expired here can still be paid.
    F: {S},
    X: {S},
    E: {S},
    S: set(),  # final: Saleor counted the money
}

# What Saleor is told by a move (and nothing for any other).
REPORTED: dict[tuple[State, State], str] = {
    **{(before, S): "CHARGE_SUCCESS" for before in State},
    (A, F): "CHARGE_FAILURE",
    (A, E): "CHARGE_FAILURE",
}

PAIRS = list(product(State, State))


def test_the_table_has_one_row_for_every_state_and_names_only_states() -> None:
    assert set(ALLOWED) == set(State)
    for before, moves in ALLOWED.items():
        assert moves <= set(State), before
        assert before not in moves, f"{before} → {before} is a repeat, not a move"


@pytest.mark.parametrize(("before", "after"), [(b, a) for b, a in PAIRS if b in LIFECYCLE and a in LIFECYCLE])
def test_the_table_allows_exactly_the_lifecycles_moves(before: State, after: State) -> None:
    assert (after in ALLOWED[before]) == (after in LIFECYCLE[before])


async def payment_in(services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, state: State) -> Payment:
    made = await make_payment(services, installed, lengo, config)
    async with services.db.write() as conn:
        await store.update_fields(conn, made.id, state=state.value)
        payment = await store.get(conn, made.id)
    assert payment is not None and payment.state == state
    return payment


async def test_every_pair_of_states_moves_only_where_the_table_allows_and_tells_saleor_accordingly(
    services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    config = await configure_channel(services, installed)
    wrong: list[str] = []
    for before, after in PAIRS:
        payment = await payment_in(services, installed, lengo, config, before)
        with capture_logs() as logs:
            async with services.db.write() as conn:
                locked = await store.get(conn, payment.id, lock=True)
                assert locked is not None
                outcome = await transition(conn, locked, after, reason="table test", now=services.clock())
        async with services.db.read() as conn:
            stored = await store.get(conn, payment.id)
            moves = (await conn.execute(
                select(payment_transitions.c.from_state, payment_transitions.c.to_state)
                .where(payment_transitions.c.payment_id == payment.id)
            )).all()
            told = (await conn.execute(select(outbox.c.event_type).where(outbox.c.payment_id == payment.id))).scalars().all()
        assert stored is not None
        events = [e["event"] for e in logs]

        allowed = after in ALLOWED[before]
        expected = {
            "changed": allowed,
            "stored state": after if allowed else before,
            "transitions": [(before.value, after.value)] if allowed else [],
            "told Saleor": [REPORTED[(before, after)]] if allowed and (before, after) in REPORTED else [],
            # A payment held for review is a WARNING of its own: someone must look at it.
            "logged": ("payment_needs_review" if after == State.NEEDS_REVIEW else "payment_transition") if allowed else (
                "payment_transition_repeat" if before == after else "payment_transition_illegal"
            ),
        }
        got = {
            "changed": outcome.changed,
            "stored state": stored.state,
            "transitions": [tuple(m) for m in moves],
            "told Saleor": list(told),
            "logged": next((e for e in events if e.startswith(("payment_transition", "payment_needs_review"))), None),
        }
        if got != expected:
            wrong.append(f"{before} → {after}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)


async def test_every_event_written_for_a_test_payment_carries_the_test_marker(
    services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    config = await configure_channel(services, installed)
    marker = f"TEST PAYMENT ({config.environment}): no real money."
    messages: dict[tuple[State, State], str] = {}
    for before, after in (pair for pair in REPORTED if pair[1] in ALLOWED[pair[0]]):
        payment = await payment_in(services, installed, lengo, config, before)
        assert payment.is_test_money
        async with services.db.write() as conn:
            locked = await store.get(conn, payment.id, lock=True)
            assert locked is not None
            await transition(conn, locked, after, reason="Payment declined on Lengo Pay.", now=services.clock())
        async with services.db.read() as conn:
            messages[(before, after)] = (
                await conn.execute(select(outbox.c.message).where(outbox.c.payment_id == payment.id))
            ).scalar_one()
    assert messages[(State.ACTION_REQUIRED, State.FAILED)] == f"Payment declined on Lengo Pay. {marker}"
    assert all(m.endswith(marker) and m.count("TEST PAYMENT") == 1 for m in messages.values()), messages
