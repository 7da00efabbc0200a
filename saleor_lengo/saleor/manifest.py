"""The manifest Saleor reads at install time, rendered from `manifest.json`."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from saleor_lengo import __version__
from saleor_lengo.resources import manifest_template_path
from saleor_lengo.saleor.events import SYNC_EVENTS
from saleor_lengo.settings import Settings


@cache
def _template() -> str:
    return manifest_template_path().read_text()


def render_manifest(settings: Settings) -> dict[str, Any]:
    # Placeholders are replaced in the parsed JSON, never by string pasting,
    # so an APP_URL with quotes cannot break or inject into the document.
    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return (
                value.replace("{APP_URL}", settings.app_url)
                .replace("{VERSION}", __version__)
                .replace("{MANIFEST_APP_ID}", settings.manifest_app_id)
            )
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    manifest: dict[str, Any] = fill(json.loads(_template()))
    manifest["webhooks"] = [
        {
            "name": f"Lengo Pay {event.kebab.replace('-', ' ')}",
            "syncEvents": [event.name],
            "query": event.subscription,
            "targetUrl": settings.url(event.path),
            "isActive": True,
        }
        for event in SYNC_EVENTS
    ]
    return manifest
