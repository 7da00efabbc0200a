"""Each use case receives what it declares, nothing more: its `Needs` protocol.

mypy (tests/test_typing.py) refuses a use case touching a collaborator its
`Needs` does not list. These tests check the other half at run time: a use
case handed an object holding only its declared collaborators does its whole
job, and only the composition roots (the web app, the workers, the commands)
know the object holding them all.
"""

from __future__ import annotations

import ast
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from saleor_lengo import needs
from saleor_lengo.flows import lengo_status, payout_worker, reconcile
from saleor_lengo.outbox import relay
from saleor_lengo.payments.model import State
from saleor_lengo.payouts.model import PayoutState
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.fakes.factories import MadePayment, get_payment
from tests.fakes.saleor import FakeSaleor
from tests.faults.ledger import Clock
from tests.helpers.payouts import all_payouts, payable_payment, payouts_on, refund
from tests.test_import_graph import PACKAGE

# Where the whole set of collaborators is built and handed out.
COMPOSITION_ROOTS = ("web/", "workers.py", "commands/", "services.py")


def declared(protocol: type) -> set[str]:
    """The collaborators a `Needs` protocol lists (its properties, its bases' included)."""
    return {name for cls in protocol.__mro__ for name, value in vars(cls).items() if isinstance(value, property)}


def narrowed(services: Services, protocol: type) -> Any:
    """An object holding only what `protocol` declares, taken from `services`."""
    return SimpleNamespace(**{name: getattr(services, name) for name in declared(protocol)})


def test_a_needs_protocol_lists_its_collaborators_and_a_narrowed_object_holds_only_those(services: Services) -> None:
    assert declared(lengo_status.Needs) == {"db", "clock", "cipher"}
    assert declared(needs.HasTimer) == {"monotonic", "sleep"}
    deps = narrowed(services, lengo_status.Needs)
    assert deps.db is services.db
    with pytest.raises(AttributeError):
        deps.saleor  # noqa: B018 -- not declared, so not there


def test_only_the_composition_roots_know_the_object_holding_every_collaborator() -> None:
    importers = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [f"{node.module}"] if isinstance(node, ast.ImportFrom) else []
            )
            if "saleor_lengo.services" in names:
                importers.add(path.relative_to(PACKAGE).as_posix())
    assert importers, "the check must see the known importers (web/app.py, workers.py, ...)"
    assert {"web/app.py", "workers.py"} <= importers
    assert sorted(p for p in importers if not p.startswith(COMPOSITION_ROOTS)) == []


async def test_the_reconciler_and_the_relay_do_their_whole_job_with_only_what_they_declare(
    services: Services, installed: FakeSaleor, lengo: LengoState, made: MadePayment, clock: Clock
) -> None:
    lengo.pay(made.pay_id)  # paid at Lengo; its callback never came
    clock.advance(services.settings.reconcile_interval_seconds + 1)

    assert await reconcile.run_once(narrowed(services, reconcile.Needs)) == 1
    assert (await get_payment(services, made.id)).state == State.SUCCEEDED
    assert await relay.run_once(narrowed(services, relay.Needs)) == 1

    [event] = installed.events(made.transaction_id)
    assert (event.type, event.amount) == ("CHARGE_SUCCESS", made.amount)


async def test_the_payout_worker_sends_a_refund_with_only_what_it_declares(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    lengo.cashin_statuses = ["PENDING"]
    await refund(client, installed, payment, Decimal(10000))

    deps = narrowed(services, payout_worker.Needs)
    await payout_worker.run_once(deps)
    await payout_worker.run_once(deps)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.SENT and payout.cashin_pay_id
    assert lengo.cashins[payout.cashin_pay_id].amount == Decimal(10000)
