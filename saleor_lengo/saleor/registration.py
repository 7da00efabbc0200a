"""Registration: Saleor hands the app its token (`POST /api/register`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from saleor_lengo.saleor import installations
from saleor_lengo.crypto import Cipher, DecryptionError
from saleor_lengo.db.engine import Database, now
from saleor_lengo.saleor.installations import Installation
from saleor_lengo.logs import get_logger, register_secret
from saleor_lengo.outbound import UnsafeUrl, check_url
from saleor_lengo.saleor.client import SaleorClient, SaleorError, SaleorPermissionDenied
from saleor_lengo.settings import Settings

log = get_logger(__name__)

_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")


@dataclass(frozen=True)
class RegistrationError(Exception):
    status: int
    code: str
    message: str


def check_saleor_url(settings: Settings, saleor_api_url: str) -> None:
    try:
        check_url(saleor_api_url)
    except UnsafeUrl as exc:
        raise RegistrationError(400, "INVALID_SALEOR_URL", str(exc)) from None
    pattern = settings.allowed_domain_pattern
    if pattern is None:
        if not settings.app_url_is_loopback:
            raise RegistrationError(
                403,
                "SALEOR_URL_NOT_ALLOWED",
                "Set ALLOWED_DOMAIN_PATTERN to a regex matching your Saleor API URL: "
                "without it only local development (a loopback APP_URL) accepts registrations.",
            )
        return
    if pattern.fullmatch(saleor_api_url) is None:
        raise RegistrationError(403, "SALEOR_URL_NOT_ALLOWED", "This Saleor URL does not match ALLOWED_DOMAIN_PATTERN.")


async def register(
    settings: Settings,
    db: Database,
    cipher: Cipher,
    saleor: SaleorClient,
    *,
    saleor_api_url: str | None,
    auth_token: object,
) -> None:
    if not saleor_api_url:
        raise RegistrationError(400, "MISSING_SALEOR_API_URL", "Missing Saleor-Api-Url header.")
    if not isinstance(auth_token, str) or not auth_token:
        raise RegistrationError(400, "MISSING_AUTH_TOKEN", "Missing auth_token in the body.")
    if not _TOKEN.fullmatch(auth_token):
        # It goes into an Authorization header: anything else cannot be sent (and is no Saleor token).
        raise RegistrationError(400, "INVALID_AUTH_TOKEN", "auth_token must be printable ASCII without spaces.")
    register_secret(auth_token)
    check_saleor_url(settings, saleor_api_url)
    try:
        app_id = await saleor.fetch_app_id(saleor_api_url, auth_token)
    except SaleorError:
        # One answer whatever went wrong (refused token, refused or timed-out
        # connection, an answer that is not Saleor's): the registrant chose the
        # URL, and must learn nothing of what listens there.
        raise RegistrationError(401, "INVALID_TOKEN", "Saleor did not confirm the app token at this URL.") from None
    existing = await installations.find(db, saleor_api_url)
    if existing is not None and existing.app_id != app_id:
        await _refuse_takeover(cipher, saleor, existing, app_id)
    fetch_began = now()
    try:
        jwks = await saleor.fetch_jwks(saleor_api_url)
    except SaleorError as exc:
        raise RegistrationError(502, "JWKS_UNAVAILABLE", f"Could not fetch Saleor's signing keys: {exc.brief}") from None
    await installations.save(
        db, cipher, saleor_api_url=saleor_api_url, app_id=app_id, token=auth_token, jwks=jwks, jwks_fetched_at=fetch_began
    )
    log.info("app_registered", saleor_api_url=saleor_api_url, app_id=app_id)


async def _refuse_takeover(cipher: Cipher, saleor: SaleorClient, existing: Installation, new_app_id: str) -> None:
    """Raise unless the stored installation is dead: Saleor refuses its token as invalid.

    A token of *another* app on the same Saleor is as genuine as ours, so it
    proves nothing; only a reinstall (which revokes the old token) may
    replace the installation. While in doubt the stored one is kept.
    """
    if existing.removed_at is not None:
        return  # Saleor already refused its token (installations.mark_removed)
    try:
        stored_token = existing.token(cipher)
    except DecryptionError:
        raise RegistrationError(
            503, "INSTALLATION_UNCHECKED", "The stored installation cannot be checked: its token cannot be decrypted."
        ) from None
    try:
        await saleor.fetch_app_id(existing.saleor_api_url, stored_token)
    except SaleorPermissionDenied:
        return  # the app was deleted in Saleor: this is its reinstall
    except SaleorError as exc:
        raise RegistrationError(
            503, "INSTALLATION_UNCHECKED",
            f"Could not check the installation already stored for this Saleor ({exc.brief}); try again.",
        ) from None
    log.warning(
        "registration_takeover_refused",
        saleor_api_url=existing.saleor_api_url, stored_app_id=existing.app_id, offered_app_id=new_app_id,
    )
    raise RegistrationError(
        409, "ALREADY_INSTALLED",
        "This Saleor already has a working installation of the app; the token belongs to another app.",
    )
