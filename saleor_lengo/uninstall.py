"""Uninstall: what the app does once Saleor no longer knows it.

Saleor tells a payment app nothing when it is deleted: the `APP_DELETED`
webhook needs `MANAGE_APPS`, which the app does not ask for (it has
`HANDLE_PAYMENTS` only). The signal is Saleor refusing the stored token as
invalid. A report refused for want of permission is confirmed with
`{ app { id } }`: refused too, the token is dead and the installation is
marked removed (`removed_at`); answered, the app is still installed and only
lacks a permission, which a staff member can grant.

A removed installation reports nothing more (its events are dead letters
with `REMOVED_REASON`), keeps its payments' history, and keeps its token and
Lengo license keys for `UNINSTALL_GRACE_SECONDS`, after which they are
erased. A reinstall of the same Saleor URL clears the mark and finds its
configurations and channel mappings where they were (after the erasure,
with their license keys to enter again).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from sqlalchemy import select, update

from saleor_lengo.crypto import DecryptionError
from saleor_lengo.db.schema import configurations, installations
from saleor_lengo.saleor.installations import Installation
from saleor_lengo.logs import get_logger
from saleor_lengo.saleor.client import SaleorError, SaleorPermissionDenied
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasSettings, HasCipher, HasSaleor


class Needs(HasDb, HasClock, HasSettings, HasCipher, HasSaleor, Protocol):
    """What confirming and erasing removed installations uses."""


class LoopNeeds(Needs, HasTimer, Protocol):
    """What the erasing loop uses: the above, and a sleep between passes."""


log = get_logger(__name__)

REMOVED_REASON = (
    "the app was uninstalled from this Saleor (Saleor refused its token as invalid); "
    "reinstall it, then `saleor-lengo outbox retry --all-dead`"
)
# Erasing is not urgent: once an hour is plenty for a grace period counted in days.
ERASE_POLL_SECONDS = 3600.0


async def confirm_removed(deps: Needs, inst: Installation) -> bool:
    """After a refused report: whether Saleor refuses the token itself (then it is marked removed)."""
    try:
        token = inst.token(deps.cipher)
        await deps.saleor.fetch_app_id(inst.saleor_api_url, token)
    except SaleorPermissionDenied:
        await mark_removed(deps, inst)
        return True
    except (SaleorError, DecryptionError):
        return False
    return False


async def mark_removed(deps: Needs, inst: Installation) -> None:
    async with deps.db.write() as conn:
        conn.settings_changed()
        await conn.execute(
            update(installations)
            .where(installations.c.id == inst.id, installations.c.removed_at.is_(None))
            .values(removed_at=deps.clock())
        )
    log.warning("installation_removed", saleor_api_url=inst.saleor_api_url, app_id=inst.app_id)


async def erase_expired(deps: Needs) -> int:
    """Erase the token and license keys of installations removed longer ago than the grace period."""
    due = deps.clock() - deps.settings.uninstall_grace_seconds
    async with deps.db.write() as conn:
        rows = (
            await conn.execute(
                select(installations.c.id, installations.c.saleor_api_url).where(
                    installations.c.removed_at.is_not(None),
                    installations.c.removed_at <= due,
                    installations.c.erased_at.is_(None),
                )
            )
        ).all()
        if not rows:
            return 0
        conn.settings_changed()
        ids = [row.id for row in rows]
        # Empty ciphertexts: nothing decrypts them, and the columns stay NOT NULL.
        await conn.execute(
            update(installations).where(installations.c.id.in_(ids)).values(token_enc="", erased_at=deps.clock())
        )
        await conn.execute(
            update(configurations)
            .where(configurations.c.installation_id.in_(ids))
            .values(license_key_enc="", license_key_last4="")
        )
    for row in rows:
        log.warning("installation_secrets_erased", saleor_api_url=row.saleor_api_url)
    return len(rows)


async def run_forever(deps: LoopNeeds) -> None:
    """The erasing loop of `serve`."""
    while True:
        try:
            await erase_expired(deps)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("uninstall_erase_failed")
        await deps.sleep(ERASE_POLL_SECONDS)
