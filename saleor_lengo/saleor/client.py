"""Calls from the app to Saleor: its GraphQL API and its JWKS."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from saleor_lengo import jsonutil
from saleor_lengo.outbound import AnswerTooLarge, UnsafeUrl, check_url, send_bounded
from saleor_lengo.outbound_networks import AddressNotAllowed
from saleor_lengo.saleor.documents import load
from saleor_lengo.saleor.keys import MAX_JWKS_BYTES, JwksRefused, KeySet, parse_document

GRAPHQL_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
JWKS_TIMEOUT = httpx.Timeout(5.0, connect=3.0)


# Bounds on what the app reads from a Saleor URL (someone else chose it, at registration).
MAX_GRAPHQL_ANSWER_BYTES = 1024 * 1024
# One message for every way of not getting an answer: refused, timed out,
# unreachable or cut short all read the same, so a caller cannot tell an
# open port from a closed one.
NO_ANSWER = "no answer from that address"


class SaleorError(Exception):
    """Saleor could not be reached or answered something unusable. `transient` says whether to retry.

    `brief` says what failed without quoting the answer: what callers outside
    the app (a registration) are shown.
    """

    def __init__(self, message: str, *, transient: bool, brief: str | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.brief = brief or message


class SaleorPermissionDenied(SaleorError):
    """The token is not (or no longer) accepted: Saleor treats it as anonymous."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False, brief="the token was refused")


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
            raise SaleorError(f"GraphQL refused: {messages}", transient=False, brief="the query was refused")
        raise SaleorError(f"GraphQL errors: {messages}", transient=True, brief="the query failed")
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
            said = _first_error(payload)
            raise SaleorBatchRefused(
                f"Saleor did not answer the batch with {len(variables)} results" + (f": {said}" if said else "")
            )
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
            response = await send_bounded(
                self._http,
                "POST",
                api_url,
                max_bytes=MAX_GRAPHQL_ANSWER_BYTES,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=GRAPHQL_TIMEOUT,
            )
        except AddressNotAllowed:
            raise SaleorError("Saleor's address is not allowed by OUTBOUND_ALLOWED_NETWORKS", transient=True) from None
        except AnswerTooLarge:
            raise SaleorError(f"Saleor's answer is over {MAX_GRAPHQL_ANSWER_BYTES} bytes", transient=True) from None
        except httpx.HTTPError:
            raise SaleorError(f"Saleor unreachable: {NO_ANSWER}", transient=True) from None
        if 300 <= response.status_code < 400:
            # Never followed: it would carry the token to wherever it points.
            raise SaleorError(f"Saleor answered a redirect (HTTP {response.status_code}), which is not followed",
                              transient=True)
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

    async def fetch_jwks(self, api_url: str) -> KeySet:
        """Saleor's signing keys, within the bounds of `keys` (SaleorError otherwise)."""
        url = jwks_url(api_url)
        try:
            check_url(url)
            response = await send_bounded(self._http, "GET", url, max_bytes=MAX_JWKS_BYTES, timeout=JWKS_TIMEOUT)
        except AddressNotAllowed:
            raise SaleorError("JWKS address not allowed by OUTBOUND_ALLOWED_NETWORKS", transient=True) from None
        except AnswerTooLarge:
            raise SaleorError(f"JWKS refused: over {MAX_JWKS_BYTES} bytes", transient=True) from None
        except (httpx.HTTPError, UnsafeUrl):
            raise SaleorError(f"JWKS unreachable: {NO_ANSWER}", transient=True) from None
        if response.status_code != 200:
            raise SaleorError(f"JWKS answered HTTP {response.status_code}", transient=True)
        try:
            return parse_document(jsonutil.loads(response.content))
        except jsonutil.JsonError:
            raise SaleorError("JWKS is not JSON", transient=True) from None
        except JwksRefused as exc:
            raise SaleorError(f"JWKS refused: {exc}", transient=True) from None


def _first_error(payload: Any) -> str:
    """The first error message of a GraphQL answer, bounded; empty when there is none."""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    message = first.get("message") if isinstance(first, dict) else None
    return message[:200] if isinstance(message, str) else ""
