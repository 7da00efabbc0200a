"""Calls from the app to Saleor: its GraphQL API and its JWKS."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from saleor_lengo import jsonutil
from saleor_lengo.outbound import UnsafeUrl, check_url
from saleor_lengo.saleor.documents import load

GRAPHQL_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
JWKS_TIMEOUT = httpx.Timeout(5.0, connect=3.0)


class SaleorError(Exception):
    """Saleor could not be reached or answered something unusable. `transient` says whether to retry."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class SaleorPermissionDenied(SaleorError):
    """The token is not (or no longer) accepted: Saleor treats it as anonymous."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


def jwks_url(saleor_api_url: str) -> str:
    parts = urlsplit(saleor_api_url)
    return f"{parts.scheme}://{parts.netloc}/.well-known/jwks.json"


class SaleorBatchRefused(SaleorError):
    """Saleor (or something in front of it) did not answer a batch with one result per operation."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


_PERMISSION_CODES = {"PermissionDenied", "PERMISSION_DENIED"}


def _data(payload: dict[str, Any], *, refused: bool) -> dict[str, Any]:
    """One operation's `data`, or the error its `errors` say (`refused`: Saleor called it invalid)."""
    errors = payload.get("errors") or []
    if errors:
        codes = {str((e.get("extensions") or {}).get("exception", {}).get("code", "")) for e in errors if isinstance(e, dict)}
        messages = "; ".join(str(e.get("message", ""))[:200] for e in errors if isinstance(e, dict))
        if codes & _PERMISSION_CODES or "permission" in messages.lower():
            raise SaleorPermissionDenied(f"permission denied: {messages}")
        if refused:
            raise SaleorError(f"GraphQL refused: {messages}", transient=False)
        raise SaleorError(f"GraphQL errors: {messages}", transient=True)
    data = payload.get("data")
    if not isinstance(data, dict):
        raise SaleorError("Saleor answered without data", transient=True)
    return data


class SaleorClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def graphql(
        self, api_url: str, token: str, document: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = jsonutil.dumps({"query": load(document), "variables": variables or {}})
        status, payload = await self._exchange(api_url, token, body)
        if not isinstance(payload, dict):
            raise SaleorError("Saleor answered an unexpected JSON shape", transient=True)
        return _data(payload, refused=status == 400)

    async def graphql_batch(
        self, api_url: str, token: str, document: str, variables: list[dict[str, Any]]
    ) -> list[dict[str, Any] | SaleorError]:
        """Run one document once per set of variables, in one HTTP request: each one's data or error, in order.

        Saleor's GraphQL view takes a JSON list of operations and answers a
        list in the same order, each executed on its own (one failing does
        not stop the others; the HTTP status is the worst of theirs, so a
        400 may carry data for the rest). What concerns the whole request —
        Saleor unreachable, 5xx, a refused token — raises, as `graphql` does;
        an answer that is not such a list raises `SaleorBatchRefused`.
        """
        query = load(document)
        body = jsonutil.dumps([{"query": query, "variables": v} for v in variables])
        _status, payload = await self._exchange(api_url, token, body)
        if not isinstance(payload, list) or len(payload) != len(variables) or not all(
            isinstance(entry, dict) for entry in payload
        ):
            raise SaleorBatchRefused(f"Saleor did not answer the batch with {len(variables)} results")
        results: list[dict[str, Any] | SaleorError] = []
        for entry in payload:
            try:
                # Saleor leaves `data` out of an operation it refused as invalid (its 400).
                results.append(_data(entry, refused="data" not in entry))
            except SaleorError as exc:
                results.append(exc)
        return results

    async def _exchange(self, api_url: str, token: str, body: str) -> tuple[int, Any]:
        """POST a GraphQL body: the HTTP status and the decoded JSON answer.

        What concerns the whole request raises: a URL the app may not call,
        Saleor unreachable, 5xx or 429, a refused token, an answer not JSON.
        """
        try:
            check_url(api_url)
        except UnsafeUrl as exc:
            raise SaleorError(str(exc), transient=False) from None
        try:
            response = await self._http.post(
                api_url,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=GRAPHQL_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise SaleorError(f"Saleor unreachable: {type(exc).__name__}", transient=True) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise SaleorError(f"Saleor answered HTTP {response.status_code}", transient=True)
        if response.status_code in (401, 403):
            raise SaleorPermissionDenied(f"Saleor answered HTTP {response.status_code}")
        try:
            return response.status_code, jsonutil.loads(response.content)
        except jsonutil.JsonError:
            raise SaleorError(f"Saleor answered non-JSON (HTTP {response.status_code})", transient=True) from None

    async def fetch_app_id(self, api_url: str, token: str) -> str:
        data = await self.graphql(api_url, token, "queries/app-id.graphql")
        app = data.get("app")
        if not isinstance(app, dict) or not isinstance(app.get("id"), str):
            raise SaleorPermissionDenied("the token is not an app token")
        return str(app["id"])

    async def fetch_jwks(self, api_url: str) -> dict[str, Any]:
        url = jwks_url(api_url)
        try:
            check_url(url)
            response = await self._http.get(url, timeout=JWKS_TIMEOUT)
        except (httpx.HTTPError, UnsafeUrl) as exc:
            raise SaleorError(f"JWKS unreachable: {type(exc).__name__}", transient=True) from None
        if response.status_code != 200:
            raise SaleorError(f"JWKS answered HTTP {response.status_code}", transient=True)
        try:
            jwks = jsonutil.loads(response.content)
        except jsonutil.JsonError:
            raise SaleorError("JWKS is not JSON", transient=True) from None
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise SaleorError("JWKS has no keys", transient=True)
        return jwks
