"""A round-robin HTTP load balancer in front of several `serve` processes, for the fault tests.

Each request goes to the next backend in turn, body and headers as sent
(Saleor's signature covers the raw body), and its answer comes back as the
backend gave it; a backend that cannot be reached is a 502, as a real
balancer answers. `hits` counts what each backend was sent.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Sequence

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.e2e.harness import SaleorServer

_HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "content-encoding"}


class Balancer:
    def __init__(self, port: int, backends: Sequence[str]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.backends = list(backends)
        self.hits: Counter[tuple[int, str]] = Counter()  # (backend index, "callback" | "webhook" | "other")
        self._turn = itertools.cycle(range(len(self.backends)))
        self._lock = threading.Lock()
        # The harness's uvicorn-in-a-thread server serves any object with an `asgi()`.
        self._server = SaleorServer(self, port)  # type: ignore[arg-type]

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._forward, methods=["GET", "POST"])])

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def backends_hit(self, kind: str) -> set[int]:
        return {i for (i, k), n in self.hits.items() if k == kind and n}

    async def _forward(self, request: Request) -> Response:
        with self._lock:
            index = next(self._turn)
        path = request.url.path
        kind = "callback" if path.startswith("/api/lengo/callback/") else "webhook" if path.startswith("/api/webhooks/") else "other"
        with self._lock:
            self.hits[(index, kind)] += 1
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
        target = self.backends[index] + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=3.0)) as http:
                upstream = await http.request(request.method, target, content=await request.body(), headers=headers)
        except httpx.HTTPError:
            return Response("Bad Gateway", status_code=502)
        kept = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        return Response(upstream.content, status_code=upstream.status_code, headers=kept)
