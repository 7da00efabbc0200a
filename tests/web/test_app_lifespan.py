"""web/app.py's lifespan: what startup built is moved out of the garbage collector's reach."""

from __future__ import annotations

import gc

from saleor_lengo.services import build_services
from saleor_lengo.settings import Settings
from saleor_lengo.web.app import create_app


async def test_startup_freezes_what_it_built_so_full_collections_no_longer_walk_it(settings: Settings) -> None:
    app = create_app(build_services(settings))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        async with app.router.lifespan_context(app):
            # Everything alive at startup (modules, schemas, the app itself) is in the permanent generation.
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
