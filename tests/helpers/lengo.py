"""What the app sent Lengo: every request kept, and the status checks counted."""

from __future__ import annotations

import httpx

from saleor_lengo.lengo import vocabulary
from saleor_lengo.simulator.api import LengoState


class LengoRecorder(httpx.AsyncBaseTransport):
    """The fake Lengo, keeping every request the app sent it, and able to fail the next ones."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.raise_next: list[Exception] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        if self.raise_next:
            raise self.raise_next.pop(0)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def raw_bodies(self, path: str) -> list[bytes]:
        return [r.content for r in self.requests if r.url.path == path]


def status_calls(lengo: LengoState) -> int:
    return sum(1 for _, path in lengo.calls if path == vocabulary.PAYMENT_STATUS_PATH)
