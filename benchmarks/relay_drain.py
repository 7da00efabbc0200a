"""Times one `outbox.relay.run_once` over a seeded outbox; prints {"delivered", "seconds"} as JSON.

Settings come from the environment, as `saleor-lengo relay --once` reads them.
"""

from __future__ import annotations

import json
import time

from saleor_lengo.commands.common import run_with_services
from saleor_lengo.outbox import relay
from saleor_lengo.services import Services


async def drain(services: Services) -> dict[str, float]:
    started = time.perf_counter()
    delivered = await relay.run_once(services)
    return {"delivered": delivered, "seconds": time.perf_counter() - started}


if __name__ == "__main__":
    print(json.dumps(run_with_services(drain, writes=True)))
