"""`saleor-lengo configurations list`: every Lengo configuration and its channels, keys masked."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sqlalchemy import select

from saleor_lengo import configurations
from saleor_lengo.commands.common import fail, run_with_services
from saleor_lengo.db.migrate import is_current
from saleor_lengo.db.schema import installations
from saleor_lengo.services import Services


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "configurations", help="list Lengo configurations (keys masked)", description=__doc__.split(": ", 1)[1]
    )
    actions = p.add_subparsers(dest="configurations_command", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", help="configurations with their channels", description="Configurations with their channels, keys masked."
    )
    listing.add_argument("--saleor-api-url", metavar="URL", help="only this Saleor's configurations")
    listing.add_argument("--json", action="store_true", help="JSON instead of text")
    listing.set_defaults(run=run_list)


async def _collect(services: Services, only: str | None) -> list[dict[str, Any]] | None:
    if not await is_current(services.db):
        return None
    async with services.db.read() as conn:
        query = select(installations.c.id, installations.c.saleor_api_url).order_by(installations.c.saleor_api_url)
        if only:
            query = query.where(installations.c.saleor_api_url == only)
        found = []
        for inst_id, url in (await conn.execute(query)).all():
            configs = await configurations.list_for(conn, inst_id)
            # `public()` is the only view that leaves the store: the key masked.
            found.append({"saleorApiUrl": url, "configurations": [c.public() for c in configs]})
    return found


def _text(found: list[dict[str, Any]]) -> str:
    if not any(entry["configurations"] for entry in found):
        return "No Lengo configuration yet: see `saleor-lengo configure --help`."
    lines: list[str] = []
    for entry in found:
        lines.append(entry["saleorApiUrl"])
        if not entry["configurations"]:
            lines.append("  (no configuration)")
        for c in entry["configurations"]:
            channels = ", ".join(c["channels"]) or "(no channel)"
            lines.append(f"  {c['name']}: site {c['websiteId']}, key {c['licenseKey']}, {c['environment']} {c['lengoUrl']}")
            lines.append(
                f"    channels {channels}; currencies {', '.join(c['currencies'])}; "
                f"min {c['minAmount'] or '-'}; max {c['maxAmount'] or '-'}"
            )
            patterns = "  ".join(c["returnUrlPatterns"]) or "(none: loopback URLs only)"
            lines.append(f"    return URL patterns: {patterns}")
            lines.append(f"    default return URL: {c['defaultReturnUrl'] or '-'}")
    return "\n".join(lines)


def run_list(args: argparse.Namespace) -> int:
    found = run_with_services(lambda services: _collect(services, args.saleor_api_url), writes=False)
    if found is None:
        return fail("the database is not up to date: run `saleor-lengo migrate` (or `serve`) first")
    print(json.dumps(found, indent=2, ensure_ascii=False) if args.json else _text(found))
    return 0
