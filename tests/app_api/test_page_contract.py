"""What the Dashboard page relies on from the app API: no setting lost on save, refusals tied to a field
with a code the page translates, and dead letters it can explain and send again all at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from saleor_lengo.db.schema import configurations, outbox
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import configure_channel
from tests.fakes.dashboard import insert_payment
from tests.fakes.saleor import FakeSaleor
from tests.helpers.app_api import CONFIG_FIELDS, CREATE, Api, add_event, config_input, installation

UPDATE = f"""mutation($id: ID!, $changes: ConfigurationChanges!, $skip: Boolean! = true) {{
  updateConfiguration(id: $id, changes: $changes, skipCheck: $skip) {{ {CONFIG_FIELDS} }} }}"""

FULL = {
    "minAmount": "1000",
    "maxAmount": "5000000",
    "defaultReturnUrl": "https://shop.example/checkout/return",
    "currencies": ["GNF", "XOF"],
    "returnUrlPatterns": [r"https://shop\.example/.*", r"https://m\.shop\.example/.*"],
}


async def stored_row(services: Services, config_id: str) -> dict[str, Any]:
    async with services.db.read() as conn:
        row = (await conn.execute(select(configurations).where(configurations.c.id == int(config_id)))).one()
    values = dict(row._mapping)
    values.pop("updated_at")
    return values


async def a_payment(services: Services, installed: FakeSaleor, **values: Any) -> tuple[int, str]:
    """(installation id, payment id) of a payment on a configured channel."""
    config = await configure_channel(services, installed)
    inst = await installation(services, installed)
    return inst.id, await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id, **values)


async def test_an_omitted_field_is_left_unchanged(api: Api, services: Services, lengo: LengoState) -> None:
    created = (await api.ok(CREATE, {"input": config_input(**FULL)}))["createConfiguration"]
    before = await stored_row(services, created["id"])

    updated = (await api.ok(UPDATE, {"id": created["id"], "changes": {}}))["updateConfiguration"]
    assert updated == created
    assert await stored_row(services, created["id"]) == before

    renamed = (await api.ok(UPDATE, {"id": created["id"], "changes": {"name": "Renamed"}}))["updateConfiguration"]
    assert renamed == {**created, "name": "Renamed"}
    after = await stored_row(services, created["id"])
    assert after == {**before, "name": "Renamed"}


async def test_an_explicit_null_clears_an_optional_setting(api: Api, services: Services, lengo: LengoState) -> None:
    created = (await api.ok(CREATE, {"input": config_input(**FULL)}))["createConfiguration"]
    cleared = (
        await api.ok(
            UPDATE,
            {"id": created["id"], "changes": {"minAmount": None, "maxAmount": None, "defaultReturnUrl": None, "returnUrlPatterns": None}},
        )
    )["updateConfiguration"]
    assert cleared == {**created, "minAmount": None, "maxAmount": None, "defaultReturnUrl": None, "returnUrlPatterns": []}


async def test_null_for_a_required_setting_is_refused_on_its_field(api: Api, lengo: LengoState) -> None:
    created = (await api.ok(CREATE, {"input": config_input()}))["createConfiguration"]
    for field in ("name", "websiteId", "environment", "currencies"):
        error = await api.fails(UPDATE, {"id": created["id"], "changes": {field: None}})
        assert error["extensions"] == {"code": "REQUIRED", "field": field}, (field, error)
    # A key is never cleared: null keeps the stored one, as an omitted key does.
    kept = (await api.ok(UPDATE, {"id": created["id"], "changes": {"licenseKey": None}}))["updateConfiguration"]
    assert kept == created


async def test_changing_the_environment_alone_takes_its_address(api: Api, lengo: LengoState) -> None:
    created = (await api.ok(CREATE, {"input": config_input()}))["createConfiguration"]
    moved = (await api.ok(UPDATE, {"id": created["id"], "changes": {"environment": "production"}}))["updateConfiguration"]
    assert (moved["environment"], moved["lengoUrl"]) == ("production", "https://portal.lengopay.com")


async def test_a_refusal_names_its_field_and_a_code(api: Api, lengo: LengoState) -> None:
    for bad, field, code in (
        ({"currencies": ["francs"]}, "currencies", "CURRENCY_INVALID"),
        ({"returnUrlPatterns": ["(unclosed"]}, "returnUrlPatterns", "PATTERN_INVALID"),
        ({"name": " "}, "name", "NAME_INVALID"),
        ({"websiteId": " "}, "websiteId", "REQUIRED"),
        ({"environment": "moon", "lengoUrl": None}, "environment", "ENVIRONMENT_UNKNOWN"),
        ({"minAmount": "abc"}, "minAmount", "AMOUNT_INVALID"),
        ({"maxAmount": "-5"}, "maxAmount", "AMOUNT_NEGATIVE"),
        ({"minAmount": "10", "maxAmount": "5"}, "minAmount", "MIN_ABOVE_MAX"),
        ({"defaultReturnUrl": "javascript:alert(1)"}, "defaultReturnUrl", "URL_UNSAFE"),
        ({"licenseKey": "wrong-key-123456"}, "licenseKey", "CREDENTIALS_REFUSED"),
    ):
        error = await api.fails(CREATE, {"input": config_input(**bad)})
        assert error["extensions"] == {"code": code, "field": field}, (bad, error)
    await api.ok(CREATE, {"input": config_input()})
    error = await api.fails(CREATE, {"input": config_input()})
    assert error["extensions"] == {"code": "ALREADY_EXISTS", "field": "name"}


async def test_a_refund_refusal_names_the_amount_field(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    _inst, paid = await a_payment(services, installed, pay_id="cGF5", amount="1000", confirmed_amount="1000")
    refund = 'mutation($id: ID!, $a: String!) { recordManualRefund(paymentId: $id, amount: $a) { id } }'
    for amount, code in (("abc", "AMOUNT_INVALID"), ("0", "AMOUNT_NOT_POSITIVE"), ("1001", "AMOUNT_TOO_HIGH")):
        error = await api.fails(refund, {"id": paid, "a": amount})
        assert error["extensions"] == {"code": code, "field": "amount"}, (amount, error)


async def test_dead_letters_say_their_cause_and_whether_a_retry_would_fail_again(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    inst_id, pid = await a_payment(services, installed)
    for at, error in enumerate(
        (
            "permission denied (is the app still installed?): HANDLE_PAYMENTS",
            "NOT_FOUND: Couldn't resolve to a node: VHJhbnNhY3Rpb25JdGVtOjE=",
            "INCORRECT_DETAILS: amount mismatch",
            "the app is no longer installed on this Saleor",
            "the app token cannot be decrypted: check SECRET_KEY and SECRET_KEY_FALLBACKS",
            "something else",
        )
    ):
        await add_event(services, inst_id, pid, "dead", 1000.0 + at, last_error=error)
    listed = (await api.ok("{ deadLetters { cause willFailAgain lastError } }"))["deadLetters"]
    assert [(d["cause"], d["willFailAgain"]) for d in reversed(listed)] == [
        ("PERMISSION", False),
        ("TRANSACTION_NOT_FOUND", True),
        ("REJECTED", True),
        ("NOT_INSTALLED", True),
        ("SECRET_KEY", False),
        ("UNKNOWN", False),
    ]


async def test_send_all_again_requeues_every_dead_letter(
    api: Api, services: Services, installed: FakeSaleor
) -> None:
    inst_id, pid = await a_payment(services, installed)
    dead = [await add_event(services, inst_id, pid, "dead", 1000.0 + i, last_error="boom") for i in range(3)]
    delivered = await add_event(services, inst_id, pid, "delivered", 1010.0)
    services.wakeups.outbox.clear()

    answer = await api.ok("mutation { retryAllOutboxEvents }")

    assert answer == {"retryAllOutboxEvents": 3}
    assert services.wakeups.outbox.is_set()
    async with services.db.read() as conn:
        states = dict((await conn.execute(select(outbox.c.id, outbox.c.state))).all())
    assert [states[i] for i in dead] == ["pending"] * 3 and states[delivered] == "delivered"
    assert (await api.ok("mutation { retryAllOutboxEvents }")) == {"retryAllOutboxEvents": 0}


async def test_payout_settings_are_kept_by_a_change_that_omits_them_and_refused_on_their_field(
    api: Api, lengo: LengoState
) -> None:
    created = await api.ok(CREATE, {"input": config_input(payoutMode="automatic", payoutDailyLimit="500000"), "skip": True})
    config_id = created["createConfiguration"]["id"]
    update = """mutation($id: ID!, $changes: ConfigurationChanges!) {
      updateConfiguration(id: $id, changes: $changes, skipCheck: true) { payoutMode payoutDailyLimit } }"""

    kept = await api.ok(update, {"id": config_id, "changes": {"minAmount": "2000"}})
    assert (kept["updateConfiguration"]["payoutMode"], kept["updateConfiguration"]["payoutDailyLimit"]) == (
        "automatic", "500000"
    )
    refused = await api.fails(update, {"id": config_id, "changes": {"payoutDailyLimit": None}})
    assert (refused["extensions"]["field"], refused["extensions"]["code"]) == ("payoutDailyLimit", "REQUIRED")


async def test_the_message_language_is_set_kept_by_a_change_that_omits_it_and_refused_on_its_field(
    api: Api, lengo: LengoState
) -> None:
    created = await api.ok(CREATE, {"input": config_input(language="fr"), "skip": True})
    config_id = created["createConfiguration"]["id"]
    update = """mutation($id: ID!, $changes: ConfigurationChanges!) {
      updateConfiguration(id: $id, changes: $changes, skipCheck: true) { language } }"""

    kept = await api.ok(update, {"id": config_id, "changes": {"minAmount": "2000"}})
    assert kept["updateConfiguration"]["language"] == "fr"
    refused = await api.fails(update, {"id": config_id, "changes": {"language": "de"}})
    assert (refused["extensions"]["field"], refused["extensions"]["code"]) == ("language", "LANGUAGE_UNKNOWN")
    back = await api.ok(update, {"id": config_id, "changes": {"language": "en"}})
    assert back["updateConfiguration"]["language"] == "en"
