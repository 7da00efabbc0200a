"""Key rotation: when the app may refetch an installation's JWKS.

One rule, whatever the key ids asked for: at most one fetch per
installation every `MIN_FETCH_INTERVAL` seconds. A signature naming a key
the stored set lacks waits for a fetch in progress, else starts one if the
last began long enough ago, else is refused. So a key Saleor publishes is
accepted for every webhook arriving `MIN_FETCH_INTERVAL` seconds or more
after Saleor began signing with it: by then a fetch has begun after it was
published, or one may begin — no burst of forged key ids can use up an
allowance. A stored key that does not verify a signature is tried again
with a fresh set on the same terms (Saleor may have replaced a key under
its id). Concurrent requests share one fetch; a successful fetch replaces
the stored set, so a key Saleor retired stops working.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from saleor_lengo.saleor import installations
from saleor_lengo.db.engine import Database
from saleor_lengo.saleor.installations import Installation
from saleor_lengo.logs import get_logger
from saleor_lengo.saleor.client import SaleorClient, SaleorError
from saleor_lengo.saleor.keys import KeySet
from saleor_lengo.saleor.signature import SignatureError, signature_kid, unverified_header, verify

log = get_logger(__name__)

MIN_FETCH_INTERVAL = 5.0


@dataclass
class _Keys:
    """What this process knows of one installation's keys."""

    started_at: float = float("-inf")  # when the last fetch began
    latest: KeySet | None = None  # what the last successful fetch returned
    latest_at: float = float("-inf")
    inflight: asyncio.Task[KeySet | None] | None = None


class JwksKeeper:
    def __init__(self, db: Database, saleor: SaleorClient, clock: Callable[[], float]) -> None:
        self._db = db
        self._saleor = saleor
        self._clock = clock
        self._state: dict[int, _Keys] = {}
        self.fetch_count = 0  # read by tests and metrics

    def _keys(self, inst: Installation) -> _Keys:
        return self._state.setdefault(inst.id, _Keys())

    def _newest(self, inst: Installation) -> KeySet:
        """This copy of the installation's keys, or those fetched here since it was read."""
        state = self._keys(inst)
        if state.latest is not None and state.latest_at >= inst.jwks_fetched_at:
            return state.latest
        return inst.jwks

    async def _fetch(self, inst: Installation) -> KeySet | None:
        self.fetch_count += 1
        try:
            jwks = await self._saleor.fetch_jwks(inst.saleor_api_url)
        except SaleorError as exc:
            log.warning("jwks_refetch_failed", saleor_api_url=inst.saleor_api_url, reason=str(exc))
            return None
        state = self._keys(inst)
        began = state.started_at
        await installations.replace_jwks(self._db, inst.id, jwks, fetched_at=began)
        state.latest, state.latest_at = jwks, began
        log.info("jwks_refetched", saleor_api_url=inst.saleor_api_url, kids=sorted(jwks.kids))
        return jwks

    async def _fresh_keys(self, inst: Installation, since: float) -> KeySet | None:
        """Keys from a fetch begun at or after `since`, if the rule allows one; None when it does not."""
        state = self._keys(inst)
        while (task := state.inflight) is not None and not task.done():
            if state.started_at >= since:
                return await asyncio.shield(task)
            await asyncio.shield(task)  # one fetch at a time: wait for the one that began too early
        # The stored set's fetch counts too (a registration's, another process's).
        if self._clock() - max(state.started_at, inst.jwks_fetched_at) < MIN_FETCH_INTERVAL:
            return None
        state.started_at = self._clock()
        task = asyncio.ensure_future(self._fetch(inst))
        state.inflight = task

        def _done(done: asyncio.Task[KeySet | None]) -> None:
            if state.inflight is done:
                state.inflight = None

        task.add_done_callback(_done)
        return await asyncio.shield(task)

    async def verify(self, inst: Installation, token: str, check: Callable[[str, KeySet], Any]) -> Any:
        """Run `check(token, keys)` with the newest keys, fetching a fresh set when the rule allows."""
        kid = signature_kid_any(token)
        arrived = self._clock()
        keys = self._newest(inst)
        if kid in keys.kids:
            try:
                return check(token, keys)
            except SignatureError:
                fresh = await self._fresh_keys(inst, arrived)
                if fresh is None or fresh == keys:
                    raise
                return check(token, fresh)
        fresh = await self._fresh_keys(inst, arrived)
        if fresh is None:
            # No fetch allowed now: the one that began less than MIN_FETCH_INTERVAL ago may
            # have stored the key meanwhile (in this process or, read here, another one).
            keys = self._newest(inst)
            if kid not in keys.kids:
                raise SignatureError("signing key not in the JWKS")
            return check(token, keys)
        if kid not in fresh.kids:
            raise SignatureError("signing key not in the JWKS")
        return check(token, fresh)

    async def verify_webhook(self, inst: Installation, signature: str, raw_body: bytes) -> None:
        signature_kid(signature)  # reject malformed ones before any refetch
        await self.verify(inst, signature, lambda sig, jwks: verify(sig, raw_body, jwks))


def signature_kid_any(token: str) -> str:
    """The `kid` of a JWS or JWT header, without checking anything else."""
    try:
        kid = unverified_header(token).get("kid")
    except SignatureError:
        raise SignatureError("malformed token") from None
    if not isinstance(kid, str):
        raise SignatureError("token has no kid")
    return kid
