"""Every query and mutation of the app's API, scoped to the caller's installation, the key always masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from saleor_lengo.saleor import installations
from saleor_lengo.db.schema import (
    action_answers,
    callbacks,
    lengo_requests,
    outbox,
    payment_transitions,
    payments,
    status_checks,
)
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState, SimPayment
from saleor_lengo.saleor.keys import parse_document
from saleor_lengo.lengo.errors import NO_USABLE_ANSWER
from tests.conftest import LENGO_KEY, LENGO_URL, WEBSITE_ID, configure_channel
from tests.fakes.dashboard import dashboard_headers, insert_payment
from tests.fakes.saleor import FakeSaleor
from tests.helpers.app_api import CONFIG_FIELDS, CREATE, PAYMENT_FIELDS, Api, add_event, config_input, installation

# --- configurations ------------------------------------------------------------


async def test_create_checks_the_credentials_with_lengo_and_masks_the_key(api: Api, lengo: LengoState) -> None:
    data = await api.ok(CREATE, {"input": config_input()})
    created = data["createConfiguration"]
    assert created["licenseKey"] == "••••" + LENGO_KEY[-4:]
    assert created["environment"] == "simulator" or created["lengoUrl"] == LENGO_URL
    assert ("GET", f"/api/getbalance/{WEBSITE_ID}") in lengo.calls
    listed = (await api.ok(f"{{ configurations {{ {CONFIG_FIELDS} }} }}"))["configurations"]
    assert listed == [created]
    assert all(LENGO_KEY not in answer for answer in api.answers)


async def test_refused_credentials_are_a_readable_error_and_nothing_is_saved(api: Api) -> None:
    error = await api.fails(CREATE, {"input": config_input(licenseKey="wrong-key-123456")})
    assert error["extensions"]["code"] == "CREDENTIALS_REFUSED"
    assert "license key" in error["message"]
    assert (await api.ok("{ configurations { id } }"))["configurations"] == []


async def test_skip_check_saves_without_asking_lengo(api: Api, lengo: LengoState) -> None:
    data = await api.ok(CREATE, {"input": config_input(licenseKey="wrong-key-123456"), "skip": True})
    assert data["createConfiguration"]["licenseKey"] == "••••3456"
    assert lengo.calls == []


async def test_an_unreachable_lengo_is_a_readable_error(api: Api, lengo: LengoState) -> None:
    lengo.fail_next = 10
    error = await api.fails(CREATE, {"input": config_input()})
    assert error["extensions"]["code"] == "CREDENTIALS_UNCHECKED"
    assert NO_USABLE_ANSWER in error["message"]


async def test_invalid_input_is_explained(api: Api, lengo: LengoState) -> None:
    for bad, words in (
        ({"currencies": ["francs"]}, "ISO 4217"),
        ({"returnUrlPatterns": ["(unclosed"]}, "not a valid regex"),
        ({"name": " "}, "name"),
        ({"environment": "moon", "lengoUrl": None}, "environment must be one of"),
        ({"minAmount": "abc"}, "min_amount must be a number"),
    ):
        error = await api.fails(CREATE, {"input": config_input(**bad)})
        assert words in error["message"], (bad, error)
    assert lengo.calls == []


async def test_a_second_configuration_with_the_same_name_is_refused(api: Api) -> None:
    await api.ok(CREATE, {"input": config_input()})
    error = await api.fails(CREATE, {"input": config_input()})
    assert error["extensions"]["code"] == "ALREADY_EXISTS"


async def test_update_keeps_the_stored_key_and_checks_it(api: Api, lengo: LengoState) -> None:
    created = (await api.ok(CREATE, {"input": config_input()}))["createConfiguration"]
    lengo.calls.clear()
    update = f"""mutation($id: ID!, $input: ConfigurationChanges!) {{
      updateConfiguration(id: $id, changes: $input) {{ {CONFIG_FIELDS} }} }}"""
    data = await api.ok(update, {"id": created["id"], "input": config_input(name="Renamed", licenseKey=None, maxAmount="5000000")})
    updated = data["updateConfiguration"]
    assert updated["name"] == "Renamed"
    assert updated["maxAmount"] == "5000000"
    assert updated["licenseKey"] == created["licenseKey"]
    assert len(lengo.calls) == 1  # checked with the stored key, which Lengo accepted
    error = await api.fails(update, {"id": "999", "input": config_input()})
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_delete_removes_an_unused_configuration_and_refuses_a_used_one(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    created = (await api.ok(CREATE, {"input": config_input()}))["createConfiguration"]
    delete = "mutation($id: ID!) { deleteConfiguration(id: $id) }"
    assert (await api.ok(delete, {"id": created["id"]}))["deleteConfiguration"] == created["id"]
    assert (await api.ok("{ configurations { id } }"))["configurations"] == []

    config = await configure_channel(services, installed)
    inst = await installation(services, installed)
    await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id)
    error = await api.fails(delete, {"id": str(config.id)})
    assert "payments were made with this configuration" in error["message"]


# --- channels -------------------------------------------------------------------


async def test_channels_come_from_saleor_with_their_mapping(api: Api, services: Services, installed: FakeSaleor) -> None:
    config = await configure_channel(services, installed, channel="channel-gnf")  # mapped by slug
    data = await api.ok("{ channels { id slug name currency mappedAs configuration { id name } } }")
    assert data["channels"] == [
        {"id": "Q2hhbm5lbDox", "slug": "default-channel", "name": "Default", "currency": "USD", "mappedAs": None, "configuration": None},
        {
            "id": "Q2hhbm5lbDoy",
            "slug": "channel-gnf",
            "name": "Guinée",
            "currency": "GNF",
            "mappedAs": "channel-gnf",
            "configuration": {"id": str(config.id), "name": "channel-gnf"},
        },
    ]
    # Fetched with the app token, not the staff user's.
    assert installed.graphql_calls[-1]["token"] == installed.app_token


async def test_saleor_being_down_is_a_readable_error(api: Api, installed: FakeSaleor) -> None:
    installed.down = -1
    error = await api.fails("{ channels { id } }")
    assert error["extensions"]["code"] == "SALEOR_UNAVAILABLE"
    assert "Saleor" in error["message"]


async def test_map_and_unmap_a_channel(api: Api) -> None:
    created = (await api.ok(CREATE, {"input": config_input()}))["createConfiguration"]
    mapped = await api.ok(
        "mutation($c: String!, $id: ID!) { mapChannel(channel: $c, configurationId: $id) { id channels } }",
        {"c": "Q2hhbm5lbDox", "id": created["id"]},
    )
    assert mapped["mapChannel"] == [{"id": created["id"], "channels": ["Q2hhbm5lbDox"]}]
    channels = (await api.ok("{ channels { id mappedAs configuration { id } } }"))["channels"]
    assert channels[0] == {"id": "Q2hhbm5lbDox", "mappedAs": "Q2hhbm5lbDox", "configuration": {"id": created["id"]}}
    unmapped = await api.ok('mutation { unmapChannel(channel: "Q2hhbm5lbDox") { channels } }')
    assert unmapped["unmapChannel"] == [{"channels": []}]
    error = await api.fails('mutation { unmapChannel(channel: "Q2hhbm5lbDox") { channels } }')
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = await api.fails('mutation { mapChannel(channel: "x", configurationId: "999") { id } }')
    assert "no such configuration" in error["message"]


# --- payments -------------------------------------------------------------------


async def seeded(services: Services, saleor: FakeSaleor) -> tuple[int, int, list[str]]:
    config = await configure_channel(services, saleor)
    inst = await installation(services, saleor)
    ids = []
    base = datetime(2025, 3, 1, tzinfo=UTC).timestamp()
    for i, state in enumerate(["succeeded", "action_required", "failed", "succeeded", "expired"]):
        ids.append(
            await insert_payment(
                services.db,
                installation_id=inst.id,
                configuration_id=config.id,
                id=f"pay_{i}",
                state=state,
                now=base + i * 86400,
                channel_id="Q2hhbm5lbDox" if i == 3 else "Q2hhbm5lbDoy",
                channel_slug="default-channel" if i == 3 else "channel-gnf",
            )
        )
    return inst.id, config.id, ids


PAGE = f"""query($filter: PaymentFilter, $first: Int!, $after: String) {{
  payments(filter: $filter, first: $first, after: $after) {{
    totalCount hasNextPage endCursor items {{ {PAYMENT_FIELDS} }} }} }}"""


async def test_payments_are_paged_newest_first(api: Api, services: Services, installed: FakeSaleor) -> None:
    await seeded(services, installed)
    first = (await api.ok(PAGE, {"first": 2}))["payments"]
    assert [p["id"] for p in first["items"]] == ["pay_4", "pay_3"]
    assert first["totalCount"] == 5 and first["hasNextPage"] is True
    second = (await api.ok(PAGE, {"first": 2, "after": first["endCursor"]}))["payments"]
    assert [p["id"] for p in second["items"]] == ["pay_2", "pay_1"]
    third = (await api.ok(PAGE, {"first": 2, "after": second["endCursor"]}))["payments"]
    assert [p["id"] for p in third["items"]] == ["pay_0"] and third["hasNextPage"] is False
    item = first["items"][1]
    assert item["amount"] == "176500" and item["confirmedAmount"] == "176500" and item["refundableAmount"] == "176500"
    assert item["state"] == "SUCCEEDED" and item["configurationName"] == "channel-gnf"
    assert item["createdAt"] == "2025-03-04T00:00:00+00:00"
    error = await api.fails(PAGE, {"first": 1000})
    assert "first must be between" in error["message"]
    error = await api.fails(PAGE, {"first": 2, "after": "%%%"})
    assert error["message"] == "Invalid cursor."


async def test_payments_filter_by_status_channel_and_date(api: Api, services: Services, installed: FakeSaleor) -> None:
    await seeded(services, installed)

    async def ids(filter: dict[str, Any]) -> list[str]:
        return [p["id"] for p in (await api.ok(PAGE, {"first": 50, "filter": filter}))["payments"]["items"]]

    assert await ids({"states": ["SUCCEEDED"]}) == ["pay_3", "pay_0"]
    assert await ids({"states": ["FAILED", "EXPIRED"]}) == ["pay_4", "pay_2"]
    assert await ids({"channel": "default-channel"}) == ["pay_3"]
    assert await ids({"channel": "Q2hhbm5lbDoy"}) == ["pay_4", "pay_2", "pay_1", "pay_0"]
    assert await ids({"createdFrom": "2025-03-02T00:00:00+00:00", "createdTo": "2025-03-04T00:00:00+00:00"}) == [
        "pay_2",
        "pay_1",
    ]
    assert await ids({"states": ["SUCCEEDED"], "channel": "channel-gnf"}) == ["pay_0"]


async def test_payments_are_found_by_pay_id_transaction_or_checkout(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    await seeded(services, installed)
    async with services.db.read() as conn:
        row = (await conn.execute(select(payments).where(payments.c.id == "pay_2"))).one()
    for term in (row.pay_id, row.saleor_transaction_id, row.source_id, "pay_2", f"  {row.pay_id} "):
        found = (await api.ok(PAGE, {"first": 5, "filter": {"search": term}}))["payments"]["items"]
        assert [p["id"] for p in found] == ["pay_2"], term
    assert (await api.ok(PAGE, {"first": 5, "filter": {"search": "nothing-like-it"}}))["payments"]["items"] == []


async def test_a_payment_timeline_tells_everything_with_the_phone_masked(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    inst_id, config_id, _ = await seeded(services, installed)
    t0 = datetime(2025, 4, 1, tzinfo=UTC).timestamp()
    tx_id = "VHJhbnNhY3Rpb25JdGVtOjE="
    pid = await insert_payment(
        services.db, installation_id=inst_id, configuration_id=config_id, id="pay_t", now=t0, saleor_transaction_id=tx_id
    )
    async with services.db.write() as conn:
        await conn.execute(
            lengo_requests.insert().values(
                payment_id=pid, configuration_id=config_id, operation="create_payment", started_at=t0 + 1,
                duration_ms=120.0, http_status=200, outcome="ok", detail="pay_id abc",
            )
        )
        await conn.execute(
            payment_transitions.insert().values(payment_id=pid, at=t0 + 2, from_state="creating", to_state="action_required", reason="Lengo link created")
        )
        await conn.execute(
            callbacks.insert().values(
                payment_id=pid, received_at=t0 + 60, pay_id="abc", status="SUCCESS", amount="176500",
                message="Transaction Successful", client_enc=services.cipher.encrypt("624897845"),
                client_masked="••••7845", outcome="confirmed",
            )
        )
        await conn.execute(
            status_checks.insert().values(payment_id=pid, checked_at=t0 + 61, source="callback", lengo_status="SUCCESS", amount="176500", gateway="Orange Money")
        )
        await conn.execute(
            payment_transitions.insert().values(payment_id=pid, at=t0 + 61, from_state="action_required", to_state="succeeded", reason="Lengo status SUCCESS (callback)")
        )
        await conn.execute(
            outbox.insert().values(
                payment_id=pid, installation_id=inst_id, saleor_transaction_id="tx", event_type="CHARGE_SUCCESS",
                psp_reference="abc", amount="176500", currency="GNF", message="Paid on Lengo Pay", available_actions="[]",
                event_time=t0 + 61, state="delivered", attempts=1, next_attempt_at=t0 + 61, created_at=t0 + 61, delivered_at=t0 + 62,
            )
        )
        await conn.execute(
            action_answers.insert().values(
                installation_id=inst_id, saleor_transaction_id=tx_id, action="REFUND", issued_at="2025-04-01T00:02:00+00:00",
                payment_id=pid, psp_reference="abc:refund:0123456789ab", created_at=t0 + 120,
                response=json.dumps({"result": "REFUND_FAILURE", "message": "Lengo Pay has no refund API."}),
            )
        )
    query = """query($id: ID!) { payment(id: $id) { id state configurationName timeline {
        kind at operation httpStatus outcome durationMs status amount currency gateway source phone
        fromState toState eventType pspReference outboxState attempts deliveredAt detail error } } }"""
    data = await api.ok(query, {"id": pid})
    assert data["payment"]["configurationName"] == "channel-gnf"
    timeline = data["payment"]["timeline"]
    assert [e["kind"] for e in timeline] == [
        "CREATED", "LENGO_REQUEST", "TRANSITION", "CALLBACK", "STATUS_CHECK", "TRANSITION", "EVENT", "ACTION_REQUEST",
    ]
    assert timeline[1]["operation"] == "create_payment" and timeline[1]["httpStatus"] == 200
    assert timeline[3]["phone"] == "••••7845" and timeline[3]["status"] == "SUCCESS"
    assert timeline[4]["source"] == "callback" and timeline[4]["gateway"] == "Orange Money"
    assert timeline[5]["toState"] == "succeeded"
    assert timeline[6]["eventType"] == "CHARGE_SUCCESS" and timeline[6]["outboxState"] == "delivered"
    assert timeline[6]["deliveredAt"] == "2025-04-01T00:01:02+00:00"
    assert timeline[7]["operation"] == "REFUND" and timeline[7]["outcome"] == "REFUND_FAILURE"
    assert "624897845" not in api.answers[-1]
    assert (await api.ok(query, {"id": "pay_unknown"}))["payment"] is None


async def test_recheck_asks_lengo_and_applies_the_status(
    api: Api, services: Services, installed: FakeSaleor, lengo: LengoState, waits: InstantWaits
) -> None:
    config = await configure_channel(services, installed)
    inst = await installation(services, installed)
    pid = await insert_payment(
        services.db, installation_id=inst.id, configuration_id=config.id, state="action_required", pay_id="P4yId+/=="
    )
    lengo.payments["P4yId+/=="] = SimPayment(
        pay_id="P4yId+/==", website_id=WEBSITE_ID, amount=Decimal(176500), currency="GNF", return_url=None,
        callback_url=None, status="SUCCESS", gateway="MTN MoMo", account="624000000", created_at=datetime.now(UTC),
    )
    services.wakeups.outbox.clear()
    data = await api.ok("mutation($id: ID!) { recheckPayment(id: $id) { state gateway lengoStatus } }", {"id": pid})
    assert data["recheckPayment"] == {"state": "SUCCEEDED", "gateway": "MTN MoMo", "lengoStatus": "SUCCESS"}
    assert services.wakeups.outbox.is_set()
    async with services.db.read() as conn:
        checks = (await conn.execute(select(status_checks).where(status_checks.c.payment_id == pid))).all()
        events = (await conn.execute(select(outbox).where(outbox.c.payment_id == pid))).all()
    assert [c.source for c in checks] == ["manual"]
    assert [e.event_type for e in events] == ["CHARGE_SUCCESS"]

    lengo.fail_next = 100
    error = await api.fails("mutation($id: ID!) { recheckPayment(id: $id) { state } }", {"id": pid})
    assert error["extensions"]["code"] == "LENGO_ERROR"
    async with services.db.read() as conn:
        checks = (await conn.execute(select(status_checks).where(status_checks.c.payment_id == pid))).all()
    assert checks[-1].error and checks[-1].source == "manual"
    # Lengo stayed unavailable: the status call backed off, doubling up to its
    # cap, until its 8 s budget had no room for another attempt.
    assert waits.slept == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]


async def test_a_manual_refund_is_reported_with_its_own_psp_reference(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    config = await configure_channel(services, installed)
    inst = await installation(services, installed)
    pid = await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id, pay_id="PAY==")
    refund = """mutation($id: ID!, $amount: String!, $note: String) {
      recordManualRefund(paymentId: $id, amount: $amount, note: $note) { refundedAmount refundableAmount refundStatus } }"""
    first = await api.ok(refund, {"id": pid, "amount": "100000", "note": "cash at the shop"})
    assert first["recordManualRefund"] == {"refundedAmount": "100000", "refundableAmount": "76500", "refundStatus": "PARTLY_REFUNDED"}
    second = await api.ok(refund, {"id": pid, "amount": "76500"})
    assert second["recordManualRefund"] == {"refundedAmount": "176500", "refundableAmount": "0", "refundStatus": "REFUNDED"}
    listed = await api.ok("{ payments(first: 5) { items { refundStatus state } } }")
    assert listed["payments"]["items"] == [{"refundStatus": "REFUNDED", "state": "SUCCEEDED"}]
    async with services.db.read() as conn:
        events = (await conn.execute(select(outbox).where(outbox.c.payment_id == pid).order_by(outbox.c.id))).all()
    assert [(e.event_type, e.psp_reference, e.amount, e.state) for e in events] == [
        ("REFUND_SUCCESS", "PAY==:manual-refund:1", "100000", "pending"),
        ("REFUND_SUCCESS", "PAY==:manual-refund:2", "76500", "pending"),
    ]
    assert "staff@shop.example" in events[0].message and "cash at the shop" in events[0].message
    error = await api.fails(refund, {"id": pid, "amount": "1"})
    assert error["extensions"]["code"] == "AMOUNT_TOO_HIGH"
    assert "At most 0 GNF" in error["message"]


async def test_the_payment_method_shows_only_where_lengo_said_it_was_used(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    config = await configure_channel(services, installed)
    inst = await installation(services, installed)
    shown = {}
    for state in ("succeeded", "needs_review", "failed", "canceled", "expired", "action_required"):
        pid = await insert_payment(
            services.db, installation_id=inst.id, configuration_id=config.id, state=state, gateway="Orange Money"
        )
        shown[state] = (await api.ok("query($id: ID!) { payment(id: $id) { gateway } }", {"id": pid}))["payment"]["gateway"]
    assert shown == {
        "succeeded": "Orange Money", "needs_review": "Orange Money",
        "failed": None, "canceled": None, "expired": None, "action_required": None,
    }


async def test_a_manual_refund_is_refused_when_it_cannot_be_right(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    config = await configure_channel(services, installed)
    inst = await installation(services, installed)
    paid = await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id)
    usd = await insert_payment(
        services.db, installation_id=inst.id, configuration_id=config.id, currency="USD", amount="22.38", confirmed_amount="22.38"
    )
    unpaid = await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id, state="action_required")
    refund = "mutation($id: ID!, $amount: String!) { recordManualRefund(paymentId: $id, amount: $amount) { refundedAmount } }"
    for pid, amount, words in (
        (paid, "176501", "At most 176500 GNF"),
        (paid, "0", "above zero"),
        (paid, "-5", "negative"),
        (paid, "10.5", "more decimals"),
        (paid, "abc", "not a number"),
        (unpaid, "10", "Only a paid payment"),
        ("pay_nope", "10", "No such payment"),
        (usd, "22.39", "At most 22.38 USD"),
    ):
        error = await api.fails(refund, {"id": pid, "amount": amount})
        assert words in error["message"], (amount, error)
    ok = await api.ok(refund, {"id": usd, "amount": "0.01"})
    assert ok["recordManualRefund"]["refundedAmount"] == "0.01"
    async with services.db.read() as conn:
        assert len((await conn.execute(select(outbox))).all()) == 1


# --- outbox and health ----------------------------------------------------------


async def test_dead_letters_are_listed_and_retried(api: Api, services: Services, installed: FakeSaleor) -> None:
    config = await configure_channel(services, installed)
    inst = await installation(services, installed)
    pid = await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id)
    dead = await add_event(services, inst.id, pid, "dead", 1000.0, last_error="INCORRECT_DETAILS")
    await add_event(services, inst.id, pid, "delivered", 1001.0)
    listed = (await api.ok("{ deadLetters { id paymentId eventType amount state attempts lastError createdAt } }"))["deadLetters"]
    assert listed == [
        {"id": str(dead), "paymentId": pid, "eventType": "CHARGE_SUCCESS", "amount": "176500", "state": "dead",
         "attempts": 8, "lastError": "INCORRECT_DETAILS", "createdAt": "1970-01-01T00:16:40+00:00"}
    ]
    services.wakeups.outbox.clear()
    retried = await api.ok("mutation($id: ID!) { retryOutboxEvent(id: $id) { id state attempts nextAttemptAt } }", {"id": str(dead)})
    assert retried["retryOutboxEvent"]["state"] == "pending" and retried["retryOutboxEvent"]["attempts"] == 0
    assert services.wakeups.outbox.is_set()
    assert (await api.ok("{ deadLetters { id } }"))["deadLetters"] == []
    error = await api.fails("mutation($id: ID!) { retryOutboxEvent(id: $id) { id } }", {"id": str(dead)})
    assert error["extensions"]["code"] == "NOT_DEAD"
    error = await api.fails('mutation { retryOutboxEvent(id: "99999") { id } }')
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_health_sums_up_callbacks_open_payments_and_relay_lag(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    empty = (await api.ok("{ health { lastCallbackAt openPayments pendingEvents deadEvents relayLagSeconds } }"))["health"]
    assert empty == {"lastCallbackAt": None, "openPayments": 0, "pendingEvents": 0, "deadEvents": 0, "relayLagSeconds": None}
    config = await configure_channel(services, installed)
    inst = await installation(services, installed)
    pid = await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id, state="action_required")
    await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id, state="creating")
    await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id)
    now = services.clock()
    await add_event(services, inst.id, pid, "pending", now - 120)
    await add_event(services, inst.id, pid, "pending", now - 5)
    await add_event(services, inst.id, pid, "dead", now - 500)
    async with services.db.write() as conn:
        await conn.execute(callbacks.insert().values(payment_id=pid, received_at=1_750_000_000.0, outcome="confirmed"))
    h = (await api.ok("{ health { lastCallbackAt openPayments pendingEvents deadEvents relayLagSeconds } }"))["health"]
    assert h["openPayments"] == 2 and h["pendingEvents"] == 2 and h["deadEvents"] == 1
    assert h["lastCallbackAt"] == "2025-06-15T15:06:40+00:00"
    assert 119 <= h["relayLagSeconds"] < 180


# --- isolation, masking, limits ----------------------------------------------------


async def test_one_installation_never_sees_or_touches_another(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    other = FakeSaleor(api_url="http://other.test/graphql/", app_id="QXBwOjI=")
    other_inst = await installations.save(
        services.db, services.cipher, saleor_api_url=other.api_url, app_id=other.app_id, token=other.app_token, jwks=parse_document(other.jwks())
    )
    mine = await configure_channel(services, installed, name="mine")
    inst = await installation(services, installed)
    my_payment = await insert_payment(services.db, installation_id=inst.id, configuration_id=mine.id)
    my_dead = await add_event(services, inst.id, my_payment, "dead", 1000.0)

    theirs = Api(api.client, other)
    assert (await theirs.ok("{ configurations { id } }"))["configurations"] == []
    assert (await theirs.ok(PAGE, {"first": 50}))["payments"] == {
        "totalCount": 0, "hasNextPage": False, "endCursor": None, "items": []
    }
    assert (await theirs.ok("query($id: ID!) { payment(id: $id) { id } }", {"id": my_payment}))["payment"] is None
    assert (await theirs.ok("{ deadLetters { id } }"))["deadLetters"] == []
    assert (await theirs.ok("{ health { openPayments deadEvents } }"))["health"] == {"openPayments": 0, "deadEvents": 0}
    for mutation, variables in (
        ("mutation($id: ID!) { retryOutboxEvent(id: $id) { id } }", {"id": str(my_dead)}),
        ("mutation($id: ID!) { recordManualRefund(paymentId: $id, amount: \"1\") { id } }", {"id": my_payment}),
        ("mutation($id: ID!) { recheckPayment(id: $id) { id } }", {"id": my_payment}),
        ("mutation($id: ID!) { deleteConfiguration(id: $id) }", {"id": str(mine.id)}),
        ('mutation($id: ID!) { mapChannel(channel: "c", configurationId: $id) { id } }', {"id": str(mine.id)}),
        (
            "mutation($id: ID!, $i: ConfigurationChanges!) { updateConfiguration(id: $id, changes: $i, skipCheck: true) { id } }",
            {"id": str(mine.id), "i": config_input()},
        ),
    ):
        error = await theirs.fails(mutation, variables)
        assert error["extensions"]["code"] == "NOT_FOUND" or "no such configuration" in error["message"], error
    # Their own configuration lives beside mine, unseen by me.
    await theirs.ok(CREATE, {"input": config_input(name="theirs"), "skip": True})
    assert [c["name"] for c in (await api.ok("{ configurations { name } }"))["configurations"]] == ["mine"]
    async with services.db.read() as conn:
        row = (await conn.execute(select(outbox).where(outbox.c.id == my_dead))).one()
        pay = (await conn.execute(select(payments).where(payments.c.id == my_payment))).one()
    assert row.state == "dead" and pay.refunded_amount == "0"
    assert other_inst.id != inst.id
    # And a token from the other Saleor, sent with my Saleor's URL, fails the signature check.
    forged = dashboard_headers(other)
    forged["saleor-api-url"] = installed.api_url
    response = await api.client.post("/graphql", json={"query": "{ viewer { email } }"}, headers=forged)
    assert response.status_code == 401


async def test_the_full_license_key_never_appears_in_any_answer(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    created = (await api.ok(CREATE, {"input": config_input()}))["createConfiguration"]
    await api.ok("mutation($c: String!, $id: ID!) { mapChannel(channel: $c, configurationId: $id) { licenseKey } }", {"c": "Q2hhbm5lbDoy", "id": created["id"]})
    await api.ok(f"{{ configurations {{ {CONFIG_FIELDS} }} channels {{ configuration {{ {CONFIG_FIELDS} }} }} }}")
    await api.fails(CREATE, {"input": config_input()})
    inst = await installation(services, installed)
    await insert_payment(services.db, installation_id=inst.id, configuration_id=int(created["id"]))
    await api.ok(PAGE, {"first": 5})
    assert len(api.answers) == 5
    for answer in api.answers:
        assert LENGO_KEY not in answer
        assert LENGO_KEY[:-4] not in answer
    async with services.db.read() as conn:
        stored = json.dumps([list(r) for r in (await conn.execute(select(payments))).all()], default=str)
    assert LENGO_KEY not in stored


async def test_query_limits_refuse_abusive_documents(api: Api) -> None:
    aliases = "{ " + " ".join(f"a{i}: viewer {{ email }}" for i in range(40)) + " }"
    response = await api.raw(aliases)
    assert response.status_code == 400
    assert "alias" in response.json()["errors"][0]["message"].lower()
    tokens = "{ viewer { " + " ".join(["email"] * 3000) + " } }"
    response = await api.raw(tokens)
    assert response.status_code == 400
    assert "token" in response.json()["errors"][0]["message"].lower()


async def test_an_unexpected_fault_is_answered_without_details(
    api: Api, services: Services, installed: FakeSaleor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saleor_lengo.app_api.resolvers import health

    async def broken(_ctx: Any) -> Any:
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(health, "health", broken)
    error = await api.fails("{ health { openPayments } }")
    assert error == {"message": "Internal error; it has been logged.", "path": ["health"], "extensions": {"code": "INTERNAL"}}
    assert "passwd" not in api.answers[-1]
