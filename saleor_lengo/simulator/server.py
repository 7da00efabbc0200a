"""`saleor-lengo simulator` as one ASGI app: Lengo's API and its hosted payment page.

The page's routes come first; everything else goes to the API app, which
answers unknown routes with Lengo's HTML 404 (and records them as calls).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Mount

from saleor_lengo.simulator.api import LengoState, create_app
from saleor_lengo.simulator.page import CallbackPolicy, PaymentPage


def create_server(state: LengoState, policy: CallbackPolicy | None = None) -> Starlette:
    page = PaymentPage(state, policy or CallbackPolicy())

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await page.aclose()

    app = Starlette(routes=[*page.routes(), Mount("", app=create_app(state))], lifespan=lifespan)
    app.state.lengo = state
    app.state.page = page
    return app
