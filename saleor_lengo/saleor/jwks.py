"""Key rotation: when and how often the app may refetch an installation's JWKS.

A refetch happens when a signature names a `kid` the stored set lacks
(unless a fetch in the last minute already showed it absent), or when a
stored key fails and the stored set is over a minute old. Concurrent requests
share one fetch, and fetches per installation are capped, so a flood of
forged webhooks cannot make the app hammer Saleor. A successful refetch
replaces the stored set: a key Saleor retired stops working.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from saleor_lengo import installations
from saleor_lengo.db.engine import Database
from saleor_lengo.installations import Installation
from saleor_lengo.logs import get_logger
from saleor_lengo.saleor.client import SaleorClient, SaleorError
from saleor_lengo.saleor.signature import SignatureError, jwks_kids, signature_kid, unverified_header, verify

log = get_logger(__name__)

STALE_AFTER_SECONDS = 60.0
ABSENT_MEMORY_SECONDS = 60.0
MAX_FETCHES_PER_MINUTE = 10


class JwksKeeper:
    def __init__(
        self,
        db: Database,
        saleor: SaleorClient,
        clock: Callable[[], float],
        max_fetches_per_minute: int = MAX_FETCHES_PER_MINUTE,
    ) -> None:
        self._db = db
        self._saleor = saleor
        self._clock = clock
        self._max = max_fetches_per_minute
        self._inflight: dict[int, asyncio.Task[dict[str, Any] | None]] = {}
        self._fetches: dict[int, deque[float]] = {}
        self._absent: dict[tuple[int, str], float] = {}
        # Each installation's last fetched set: a request that read the
        # installation before a concurrent refetch stored it must not fetch again.
        self._fetched: dict[int, tuple[float, dict[str, Any]]] = {}
        self.fetch_count = 0  # read by tests and metrics

    async def _fetch(self, inst: Installation) -> dict[str, Any] | None:
        window = self._fetches.setdefault(inst.id, deque())
        t = self._clock()
        while window and t - window[0] > 60.0:
            window.popleft()
        if len(window) >= self._max:
            log.warning("jwks_refetch_capped", saleor_api_url=inst.saleor_api_url)
            return None
        window.append(t)
        self.fetch_count += 1
        try:
            jwks = await self._saleor.fetch_jwks(inst.saleor_api_url)
        except SaleorError as exc:
            log.warning("jwks_refetch_failed", saleor_api_url=inst.saleor_api_url, reason=str(exc))
            return None
        await installations.replace_jwks(self._db, inst.id, jwks)
        self._fetched[inst.id] = (self._clock(), jwks)
        log.info("jwks_refetched", saleor_api_url=inst.saleor_api_url, kids=sorted(jwks_kids(jwks)))
        return jwks

    async def refetch(self, inst: Installation) -> dict[str, Any] | None:
        """Fetch once for all concurrent callers; None when capped or unreachable."""
        task = self._inflight.get(inst.id)
        if task is None:
            task = asyncio.ensure_future(self._fetch(inst))
            self._inflight[inst.id] = task
            task.add_done_callback(lambda _t: self._inflight.pop(inst.id, None))
        return await asyncio.shield(task)

    async def verify(self, inst: Installation, token: str, check: Callable[[str, dict[str, Any]], Any]) -> Any:
        """Run `check(token, jwks)` with the stored keys, refetching at most once."""
        kid = signature_kid_any(token)
        now = self._clock()
        recent = self._fetched.get(inst.id)
        if recent is not None and now - recent[0] <= STALE_AFTER_SECONDS and kid in jwks_kids(recent[1]):
            return check(token, recent[1])  # fetched since this copy of the installation was read
        if kid in jwks_kids(inst.jwks):
            try:
                return check(token, inst.jwks)
            except SignatureError:
                if now - inst.jwks_fetched_at <= STALE_AFTER_SECONDS:
                    raise
            fresh = await self.refetch(inst)
            if fresh is None:
                raise SignatureError("signature does not match")
            return check(token, fresh)
        seen_absent = self._absent.get((inst.id, kid))
        if seen_absent is not None and now - seen_absent <= ABSENT_MEMORY_SECONDS:
            raise SignatureError("signing key not in the JWKS")
        fresh = await self.refetch(inst)
        if fresh is None:
            raise SignatureError("signing key not in the JWKS")
        if kid not in jwks_kids(fresh):
            self._absent[(inst.id, kid)] = now
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
