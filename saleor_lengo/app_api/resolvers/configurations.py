"""Lengo configurations of the caller's installation: list, save (after a credentials check), delete, map."""

from __future__ import annotations

from collections.abc import Callable

from saleor_lengo import configurations as store
from saleor_lengo.app_api.context import ApiContext, ApiError
from saleor_lengo.configurations import Configuration, ConfigurationError, ConfigurationInput
from saleor_lengo.crypto import DecryptionError
from saleor_lengo.lengo.client import LengoClient, LengoCredentials
from saleor_lengo.lengo.errors import NO_USABLE_ANSWER, LengoError, LengoUnauthorized


def refused(exc: ConfigurationError) -> ApiError:
    return ApiError(str(exc), exc.code, exc.field)


async def list_configurations(ctx: ApiContext) -> list[Configuration]:
    async with ctx.deps.db.read() as conn:
        return await store.list_for(conn, ctx.installation_id)


async def check_credentials(ctx: ApiContext, data: ConfigurationInput, existing: Configuration | None) -> None:
    """Ask Lengo's balance endpoint whether the site id and key work; ApiError with Lengo's reason if not."""
    try:
        _env, url = data.resolved_url()
    except ConfigurationError as exc:
        raise refused(exc) from None
    key = data.license_key.strip() if data.license_key is not None else None
    if key is None and existing is not None:
        try:
            key = ctx.deps.cipher.decrypt(existing.license_key_enc)
        except DecryptionError as exc:
            raise ApiError(f"{exc}; enter the license key again.") from None
    if not key:
        raise ApiError("license key is required for a new configuration", "REQUIRED", "licenseKey")
    try:
        credentials = LengoCredentials(base_url=url, website_id=data.website_id.strip(), license_key=key)
    except ValueError as exc:
        raise ApiError(str(exc)) from None
    try:
        await LengoClient(ctx.deps.http, credentials).balance()
    except LengoUnauthorized:
        raise ApiError(
            "Lengo refused this site id and license key: check both in your Lengo Pay account.",
            "CREDENTIALS_REFUSED",
            "licenseKey",
        ) from None
    except LengoError:
        raise ApiError(
            f"The credentials could not be checked: {NO_USABLE_ANSWER}; check the environment or Lengo URL.",
            "CREDENTIALS_UNCHECKED",
        ) from None


async def update_configuration(
    ctx: ApiContext, config_id: int, changes: Callable[[Configuration], ConfigurationInput], *, skip_check: bool
) -> Configuration:
    """Apply `changes` to the stored configuration: what they leave out stays as it is."""
    async with ctx.deps.db.read() as conn:
        existing = await store.get(conn, ctx.installation_id, config_id)
    if existing is None:
        raise ApiError("No such configuration.", "NOT_FOUND")
    try:
        data = changes(existing)
    except ConfigurationError as exc:
        raise refused(exc) from None
    return await save_configuration(ctx, data, config_id=config_id, skip_check=skip_check, existing=existing)


async def save_configuration(
    ctx: ApiContext,
    data: ConfigurationInput,
    *,
    config_id: int | None,
    skip_check: bool,
    existing: Configuration | None = None,
) -> Configuration:
    try:
        data.validated()
    except ConfigurationError as exc:
        raise refused(exc) from None
    if config_id is not None and existing is None:
        async with ctx.deps.db.read() as conn:
            existing = await store.get(conn, ctx.installation_id, config_id)
        if existing is None:
            raise ApiError("No such configuration.", "NOT_FOUND")
    if not skip_check:
        # Outside any transaction: a Lengo call never holds a database lock.
        await check_credentials(ctx, data, existing)
    try:
        async with ctx.deps.db.write() as conn:
            if config_id is None and await store.get_by_name(conn, ctx.installation_id, data.name.strip()):
                raise ApiError(f"A configuration is already named {data.name.strip()!r}.", "ALREADY_EXISTS", "name")
            return await store.save(conn, ctx.deps.cipher, ctx.installation_id, data, config_id=config_id)
    except ConfigurationError as exc:
        raise refused(exc) from None


async def delete_configuration(ctx: ApiContext, config_id: int) -> None:
    try:
        async with ctx.deps.db.write() as conn:
            await store.remove(conn, ctx.installation_id, config_id)
    except ConfigurationError as exc:
        raise refused(exc) from None


async def map_channel(ctx: ApiContext, channel: str, config_id: int) -> None:
    try:
        async with ctx.deps.db.write() as conn:
            await store.map_channel(conn, ctx.installation_id, channel, config_id)
    except ConfigurationError as exc:
        raise refused(exc) from None


async def unmap_channel(ctx: ApiContext, channel: str) -> bool:
    async with ctx.deps.db.write() as conn:
        return await store.unmap_channel(conn, ctx.installation_id, channel)
