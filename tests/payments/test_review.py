"""`needs_review`: a paid payment whose amount cannot be right is held, shown, and resolved by staff.

Shown by `payments list --status needs_review`, `payments show`, the gauge
`saleor_lengo_payments_needs_review` and the app API; resolved by
`payments resolve ID (--charged AMOUNT | --not-charged) --note TEXT` or the
app API's `resolvePayment` (MANAGE_APPS and HANDLE_PAYMENTS).
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from saleor_lengo import gauges
from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import outbox, payment_transitions
from saleor_lengo.outbox import relay
from saleor_lengo.payments import store
from saleor_lengo.payments.model import State
from saleor_lengo.payments.state_machine import ALLOWED, transition
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import send_webhook
from tests.fakes.factories import MadePayment, get_payment, make_payment
from tests.fakes.payloads import session
from tests.fakes.saleor import FakeSaleor
from tests.helpers.app_api import PAYMENT_FIELDS, Api
from tests.helpers.cli import saleor_lengo
from tests.helpers.sessions import assert_valid

# These run the command line in its own process, as an operator does: end-to-end, so `slow`
# (the app API tests below cover the same resolution in the quick suite).
SLOW_CLI = pytest.mark.slow

NOTE = "Checked on the Lengo portal: 150000 GNF received from Orange Money."


@pytest.fixture
async def held(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> MadePayment:
    """A payment Lengo reported paid with amount 0: in needs_review, nothing reported."""
    made = await make_payment(services, installed, lengo, config)
    lengo.pay(made.pay_id)
    lengo.payments[made.pay_id].status_amount_json = "0"
    assert await lengo.send_callback(made.pay_id, client) == [200]
    await services.background.drain()
    assert (await get_payment(services, made.id)).state == State.NEEDS_REVIEW
    return made


async def reasons(services: Services, payment_id: str) -> list[tuple[str, str, str]]:
    async with services.db.read() as conn:
        rows = await conn.execute(
            select(payment_transitions.c.from_state, payment_transitions.c.to_state, payment_transitions.c.reason)
            .where(payment_transitions.c.payment_id == payment_id)
            .order_by(payment_transitions.c.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


def test_the_state_machine_table_has_needs_review_and_its_moves() -> None:
    for paid_from in (State.ACTION_REQUIRED, State.FAILED, State.CANCELED, State.EXPIRED):
        assert State.NEEDS_REVIEW in ALLOWED[paid_from]
    assert ALLOWED[State.NEEDS_REVIEW] == frozenset({State.SUCCEEDED, State.CLOSED})
    assert ALLOWED[State.CLOSED] == frozenset()


async def test_the_state_machine_never_writes_a_charge_success_of_zero(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await make_payment(services, installed, lengo, config)
    async with services.db.write() as conn:
        payment = await store.get(conn, made.id, lock=True)
        assert payment is not None
        with pytest.raises(ValueError, match="no CHARGE_SUCCESS of an amount that is zero"):
            await transition(conn, payment, State.SUCCEEDED, reason="test", now=1.0, confirmed_amount=Decimal(0))


# --- Shown --------------------------------------------------------------------------------


@SLOW_CLI
async def test_a_held_payment_is_listed_shown_and_counted(services: Services, held: MadePayment) -> None:
    listed = await saleor_lengo(services, "payments", "list", "--status", "needs_review", "--json")
    shown = await saleor_lengo(services, "payments", "show", held.id)
    figures = await gauges.read_database(services.db, services.clock())

    assert listed.code == 0, listed.err
    assert [row["id"] for row in json.loads(listed.out)] == [held.id]
    assert shown.code == 0, shown.err
    assert f"Payment {held.id} — needs_review" in shown.out
    assert "action_required → needs_review: Lengo status SUCCESS (callback) with an amount that cannot be right: 0" in shown.out
    assert figures is not None and figures.needs_review == 1
    text = gauges.render(services.metrics, figures)[0].decode()
    assert "saleor_lengo_payments_needs_review 1.0" in text


async def test_a_process_call_for_a_held_payment_says_it_is_under_review_not_paid(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, held: MadePayment
) -> None:
    event = "TRANSACTION_PROCESS_SESSION"
    response = await send_webhook(client, installed, event, session(event, installed.app_id, held.transaction_id))

    answer = response.json()
    assert_valid("TransactionProcessSession", answer)
    assert answer["result"] == "CHARGE_ACTION_REQUIRED"
    assert answer["data"]["error"]["code"] == "OUTCOME_UNKNOWN"
    assert "paymentUrl" not in answer["data"]
    await relay.run_once(services)
    assert installed.events(held.transaction_id, "CHARGE_SUCCESS") == []


async def test_the_app_api_lists_payments_needing_review(client: httpx.AsyncClient, installed: FakeSaleor, held: MadePayment) -> None:
    query = "query($f: PaymentFilter) { payments(filter: $f) { totalCount items { id state failureReason } } }"
    data = await Api(client, installed).ok(query, {"f": {"states": ["NEEDS_REVIEW"]}})

    [item] = data["payments"]["items"]
    assert (item["id"], item["state"]) == (held.id, "NEEDS_REVIEW")
    assert "cannot be right" in item["failureReason"]


# --- Resolved from the command line ---------------------------------------------------------


@SLOW_CLI
async def test_resolve_charged_reports_that_amount_once_and_keeps_the_note(
    services: Services, installed: FakeSaleor, held: MadePayment
) -> None:
    run = await saleor_lengo(services, "payments", "resolve", held.id, "--charged", "150000", "--note", NOTE)
    again = await saleor_lengo(services, "payments", "resolve", held.id, "--charged", "150000", "--note", NOTE)
    await relay.run_once(services)

    assert run.code == 0, run.err
    assert "CHARGE_SUCCESS of 150000 GNF queued" in run.out
    assert again.code == 0 and "already resolved" in again.out
    [event] = installed.events(held.transaction_id, "CHARGE_SUCCESS")
    assert event.amount == Decimal("150000") and event.psp_reference == held.pay_id
    assert "Amount set by staff after review" in event.message
    payment = await get_payment(services, held.id)
    assert (payment.state, payment.confirmed_amount) == (State.SUCCEEDED, Decimal("150000"))
    last = (await reasons(services, held.id))[-1]
    assert last[:2] == ("needs_review", "succeeded")
    assert "the command line" in last[2] and NOTE in last[2]


@SLOW_CLI
async def test_resolve_not_charged_closes_it_and_reports_nothing(
    services: Services, installed: FakeSaleor, held: MadePayment
) -> None:
    run = await saleor_lengo(services, "payments", "resolve", held.id, "--not-charged", "--note", "Nothing on the portal.")
    await relay.run_once(services)

    assert run.code == 0, run.err
    assert (await get_payment(services, held.id)).state == State.CLOSED
    assert installed.events(held.transaction_id) == []
    async with services.db.read() as conn:
        assert (await conn.execute(select(outbox))).all() == []
    last = (await reasons(services, held.id))[-1]
    assert last[:2] == ("needs_review", "closed") and "Nothing on the portal." in last[2]


@SLOW_CLI
@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--charged", "1.5"), "amounts in GNF must be whole"),
        (("--charged", "0"), "it is zero"),
        (("--charged", "-48000"), "it is negative"),
        (("--charged", "9" * 5000), "longer than 40 characters"),
        (("--not-charged", "--note", "   "), "A note is required"),
    ],
)
async def test_resolve_refuses_an_amount_that_cannot_be_right_or_an_empty_note(
    services: Services, held: MadePayment, args: tuple[str, ...], error: str
) -> None:
    if "--note" not in args:
        args = (*args, "--note", NOTE)
    run = await saleor_lengo(services, "payments", "resolve", held.id, *args)

    assert run.code == 1 and error in run.err
    assert (await get_payment(services, held.id)).state == State.NEEDS_REVIEW


@SLOW_CLI
async def test_resolve_refuses_a_payment_not_in_review(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await make_payment(services, installed, lengo, config)

    run = await saleor_lengo(services, "payments", "resolve", made.id, "--charged", "150000", "--note", NOTE)

    assert run.code == 1 and "action_required, not needs_review" in run.err
    assert (await get_payment(services, made.id)).state == State.ACTION_REQUIRED


# --- Resolved from the Dashboard page (the app API) ----------------------------------------------

RESOLVE = f"""
mutation($id: ID!, $amount: String, $not: Boolean! = false, $note: String!) {{
  resolvePayment(id: $id, chargedAmount: $amount, notCharged: $not, note: $note) {{ {PAYMENT_FIELDS} }}
}}"""


async def test_the_app_api_resolves_with_staff_permissions_and_names_who(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, held: MadePayment
) -> None:
    api = Api(client, installed)

    data = await api.ok(RESOLVE, {"id": held.id, "amount": "150000", "note": NOTE})
    again = await api.ok(RESOLVE, {"id": held.id, "amount": "150000", "note": NOTE})
    await relay.run_once(services)

    assert data["resolvePayment"]["state"] == "SUCCEEDED" and data["resolvePayment"]["confirmedAmount"] == "150000"
    assert again["resolvePayment"] == data["resolvePayment"] | {"updatedAt": again["resolvePayment"]["updatedAt"]}
    assert len(installed.events(held.transaction_id, "CHARGE_SUCCESS")) == 1
    assert "staff@shop.example" in (await reasons(services, held.id))[-1][2]


async def test_the_app_api_refuses_staff_without_manage_apps(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, held: MadePayment
) -> None:
    variables = {"id": held.id, "amount": "150000", "note": NOTE}
    response = await Api(client, installed).raw(RESOLVE, variables, permissions=("HANDLE_PAYMENTS",))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert (await get_payment(services, held.id)).state == State.NEEDS_REVIEW


@pytest.mark.parametrize(
    ("variables", "permissions", "code"),
    [
        ({"amount": "1.5"}, ("HANDLE_PAYMENTS", "MANAGE_APPS"), "INVALID_AMOUNT"),
        ({"amount": "150000", "not": True}, ("HANDLE_PAYMENTS", "MANAGE_APPS"), "INVALID_INPUT"),
        ({}, ("HANDLE_PAYMENTS", "MANAGE_APPS"), "INVALID_INPUT"),
        ({"amount": "150000", "id": "nope"}, ("HANDLE_PAYMENTS", "MANAGE_APPS"), "NOT_FOUND"),
    ],
)
async def test_the_app_api_refuses_what_it_must(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    held: MadePayment,
    variables: dict[str, object],
    permissions: tuple[str, ...],
    code: str,
) -> None:
    error = await Api(client, installed).fails(RESOLVE, {"id": held.id, "note": NOTE, **variables}, permissions=permissions)

    assert error["extensions"]["code"] == code
    assert (await get_payment(services, held.id)).state == State.NEEDS_REVIEW


async def test_a_cancel_request_for_a_held_payment_is_refused_and_says_why(
    client: httpx.AsyncClient, installed: FakeSaleor, held: MadePayment
) -> None:
    from tests.fakes.payloads import action_request

    event = "TRANSACTION_CANCELATION_REQUESTED"
    body = action_request(event, installed.app_id, held.transaction_id, psp=held.pay_id)
    answer = (await send_webhook(client, installed, event, body)).json()

    assert answer["result"] == "CANCEL_FAILURE"
    assert "held for staff review" in answer["message"]


async def test_the_timeline_of_a_payment_held_for_an_unreadable_amount_shows_why(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await make_payment(services, installed, lengo, config)
    lengo.pay(made.pay_id)
    lengo.payments[made.pay_id].status_amount_json = "1e999999999"
    assert await lengo.send_callback(made.pay_id, client) == [200]
    await services.background.drain()

    query = "query($id: ID!) { payment(id: $id) { state timeline { kind amount detail toState } } }"
    data = await Api(client, installed).ok(query, {"id": made.id})

    assert data["payment"]["state"] == "NEEDS_REVIEW"
    [check] = [e for e in data["payment"]["timeline"] if e["kind"] == "STATUS_CHECK"]
    assert check["amount"] is None
    [held] = [e for e in data["payment"]["timeline"] if e["toState"] == "needs_review"]
    assert "unusable amount (too large" in held["detail"]
