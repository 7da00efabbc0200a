"""Saleor's channels, fetched with the app token, each with the configuration mapped to it."""

from __future__ import annotations

from dataclasses import dataclass

from saleor_lengo import configurations as store
from saleor_lengo.app_api.context import ApiContext, ApiError
from saleor_lengo.configurations import Configuration
from saleor_lengo.crypto import DecryptionError
from saleor_lengo.saleor.client import SaleorError, SaleorPermissionDenied


@dataclass(frozen=True)
class Channel:
    id: str
    slug: str
    name: str
    currency: str
    configuration: Configuration | None
    mapped_as: str | None  # the stored key (channel id or slug) that maps it


async def list_channels(ctx: ApiContext) -> list[Channel]:
    inst = ctx.user.installation
    try:
        token = inst.token(ctx.deps.cipher)
    except DecryptionError as exc:
        raise ApiError(str(exc), "UNAVAILABLE") from None
    try:
        data = await ctx.deps.saleor.graphql(inst.saleor_api_url, token, "queries/channels.graphql")
    except SaleorPermissionDenied:
        raise ApiError("Saleor refused the app's token: reinstall the app.", "SALEOR_REFUSED") from None
    except SaleorError as exc:
        raise ApiError(f"The channels could not be fetched from Saleor: {exc}.", "SALEOR_UNAVAILABLE") from None
    async with ctx.deps.db.read() as conn:
        configs = await store.list_for(conn, ctx.installation_id)
    by_key = {channel: config for config in configs for channel in config.channels}
    found: list[Channel] = []
    for raw in data.get("channels") or []:
        if not isinstance(raw, dict):
            continue
        cid, slug = str(raw.get("id") or ""), str(raw.get("slug") or "")
        # Matched like checkout does (configurations.for_channel): id first, then slug.
        key = cid if cid in by_key else slug if slug in by_key else None
        found.append(
            Channel(
                id=cid,
                slug=slug,
                name=str(raw.get("name") or slug),
                currency=str(raw.get("currencyCode") or ""),
                configuration=by_key.get(key) if key else None,
                mapped_as=key,
            )
        )
    return found
