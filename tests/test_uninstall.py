"""Uninstall: once Saleor refuses the app's token, the app stops reporting, keeps its history,
erases its secrets after the grace period, and a reinstall picks its configurations up again."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from saleor_lengo import uninstall
from saleor_lengo.saleor import installations
from saleor_lengo.configurations import Configuration
from saleor_lengo.crypto import DecryptionError
from saleor_lengo.db.schema import configurations, payment_transitions, payments
from saleor_lengo.outbox import relay
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import register, send_webhook
from tests.fakes.payloads import gateway_initialize
from tests.fakes.saleor import FakeSaleor
from tests.helpers.outbox import later, paid_payment, report_calls, rows

DAY = 86400.0


async def _history(services: Services) -> tuple[int, int]:
    async with services.db.read() as conn:
        paid = (await conn.execute(select(func.count()).select_from(payments))).scalar_one()
        steps = (await conn.execute(select(func.count()).select_from(payment_transitions))).scalar_one()
    return paid, steps


async def _uninstalled(services: Services, fake: FakeSaleor, lengo: LengoState, config: Configuration) -> None:
    """Two paid payments, then the app is deleted in Saleor and the relay runs."""
    await paid_payment(services, fake, lengo, config)
    await paid_payment(services, fake, lengo, config)
    fake.installed = False  # Saleor deleted the app: its token is anonymous now
    assert await relay.run_once(services) == 0


async def test_a_refused_token_marks_the_installation_removed_and_its_events_stop_with_a_clear_reason(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    await _uninstalled(services, installed, lengo, config)
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None and inst.removed_at is not None
    dead = await rows(services)
    assert {r.state for r in dead} == {"dead"}
    assert {r.last_error for r in dead} == {uninstall.REMOVED_REASON}
    # One report tried, then no more: the second row never went to Saleor with the dead token.
    assert report_calls(installed) == 1

    made = await paid_payment(services, installed, lengo, config)
    assert await relay.run_once(services) == 0
    [row] = await rows(services, made.id)
    assert (row.state, row.last_error) == ("dead", uninstall.REMOVED_REASON)
    assert report_calls(installed) == 1


async def test_a_report_refused_while_the_token_still_works_does_not_mark_the_installation_removed(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    await paid_payment(services, installed, lengo, config)
    real_token = installed.app_token
    installed.app_token = "token-saleor-now-expects-0123456789"  # the report is refused...
    installed.other_apps[real_token] = installed.app_id  # ...while `{ app { id } }` still answers
    assert await relay.run_once(services) == 0
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None and inst.removed_at is None
    [row] = await rows(services)
    assert row.last_error != uninstall.REMOVED_REASON


async def test_the_token_and_lengo_keys_are_erased_after_the_grace_period_and_the_history_kept(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    await _uninstalled(services, installed, lengo, config)
    history = await _history(services)

    later(services, services.settings.uninstall_grace_seconds - DAY)
    assert await uninstall.erase_expired(services) == 0
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None and inst.token(services.cipher) == installed.app_token

    later(services, 2 * DAY)
    assert await uninstall.erase_expired(services) == 1
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None
    with pytest.raises(DecryptionError):
        inst.token(services.cipher)
    async with services.db.read() as conn:
        [(key_enc, last4)] = (
            await conn.execute(select(configurations.c.license_key_enc, configurations.c.license_key_last4))
        ).all()
    assert (key_enc, last4) == ("", "")
    assert await _history(services) == history
    assert await uninstall.erase_expired(services) == 0  # once


def test_the_grace_period_is_a_setting_of_thirty_days_by_default(services: Services) -> None:
    from tests.conftest import make_settings

    assert services.settings.uninstall_grace_seconds == 30 * DAY
    assert make_settings("sqlite:///x.sqlite3", UNINSTALL_GRACE_SECONDS="60").uninstall_grace_seconds == 60.0


async def test_a_reinstall_picks_the_configurations_up_again(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    config: Configuration,
) -> None:
    await _uninstalled(services, installed, lengo, config)
    installed.reinstall()
    assert (await register(client, installed)).status_code == 200
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None and inst.removed_at is None
    answered = await send_webhook(client, installed, "PAYMENT_GATEWAY_INITIALIZE_SESSION", gateway_initialize(installed.app_id))
    assert answered.status_code == 200
    assert answered.json()["data"]["available"] is True, answered.json()
